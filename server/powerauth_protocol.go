package server

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/storage"
)

// The PowerAuth protocol as Wultra's mobile SDK speaks it, on the same paths as the Basic-authenticated calls
// of powerauth.go: a request with X-PowerAuth-Authorization (X-PowerAuth-Encryption for activation create) and
// no HTTP Basic takes the protocol: signatures, ECIES bodies; a status request without Basic credentials gets
// the encrypted status blob.
const PathPowerAuthKeystoreCreate = "/pa/v3/keystore/create"

// PowerAuth's other error answers (restful-integration's exceptions and their default codes).
const (
	paCodeActivation    = "ERR_ACTIVATION"
	paCodeEncryption    = "ERR_ENCRYPTION"
	paCodeTemporaryKey  = "ERR_TEMPORARY_KEY"
	paActivationInvalid = "POWER_AUTH_ACTIVATION_INVALID"
	paEncryptionFailed  = "POWER_AUTH_ENCRYPTION_FAILED"
	paTemporaryKeyFail  = "POWER_AUTH_TEMPORARY_KEY_FAILURE"
	paSignatureTypeBad  = "POWER_AUTH_SIGNATURE_TYPE_INVALID"
)

func (s *Server) routePowerAuthProtocol() {
	s.mux.HandleFunc("POST "+PathPowerAuthKeystoreCreate, s.paKeystoreCreate)
}

// paBasicOr routes a request to protocol when it carries the header the SDK sends on that call (header ""
// for the status call, which has none: then anything but HTTP Basic), and to simple otherwise, so that a
// request with neither gets the simple calls' Basic challenge.
func paBasicOr(simple, protocol http.HandlerFunc, header string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		basic := strings.HasPrefix(strings.ToLower(r.Header.Get("Authorization")), "basic ")
		if !basic && (header == "" || r.Header.Get(header) != "") {
			protocol(w, r)
			return
		}
		simple(w, r)
	}
}

// paReadBody reads a bounded body; on failure it has answered.
func (s *Server) paReadBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	limit := min(s.cfg.MaxBodyBytes, maxPowerAuthBody)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writePAError(w, http.StatusRequestEntityTooLarge, paCodeGeneric, "REQUEST_TOO_LARGE")
		return nil, false
	case err != nil:
		writePAError(w, http.StatusBadRequest, paCodeGeneric, "REQUEST_INVALID")
		return nil, false
	}
	return body, true
}

// paProtocolError answers a refusal of the protocol in PowerAuth's own format and logs why.
func (s *Server) paProtocolError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, powerauth.ErrSignatureType):
		s.logRefusal(r.Context(), err)
		writePAError(w, http.StatusUnauthorized, paCodeAuthentication, paSignatureTypeBad)
	case errors.Is(err, powerauth.ErrSignature):
		s.logRefusal(r.Context(), err)
		writePAError(w, http.StatusUnauthorized, paCodeAuthentication, paSignatureInvalid)
	case errors.Is(err, powerauth.ErrTemporaryKey):
		s.logRefusal(r.Context(), err)
		writePAError(w, http.StatusBadRequest, paCodeTemporaryKey, paTemporaryKeyFail)
	case errors.Is(err, powerauth.ErrEncryption):
		s.logRefusal(r.Context(), err)
		writePAError(w, http.StatusBadRequest, paCodeEncryption, paEncryptionFailed)
	case errors.Is(err, powerauth.ErrActivationRefused), errors.Is(err, powerauth.ErrNoStatus):
		s.logRefusal(r.Context(), err)
		writePAError(w, http.StatusBadRequest, paCodeActivation, paActivationInvalid)
	default:
		s.paInternal(w, r, err)
	}
}

// paProtoActivationCreate: the key exchange with an activation code (X-PowerAuth-Encryption names the
// application; the body is ECIES level 1 around level 2). The answer is the encrypted payload itself.
func (s *Server) paProtoActivationCreate(w http.ResponseWriter, r *http.Request) {
	hdr, err := powerauth.ParseEncryptionHeader(r.Header.Get(powerauth.EncryptionHeader))
	if err != nil {
		s.paProtocolError(w, r, errors.Join(powerauth.ErrEncryption, err))
		return
	}
	body, ok := s.paReadBody(w, r)
	if !ok {
		return
	}
	var req powerauth.EncryptedRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.paProtocolError(w, r, errors.Join(powerauth.ErrEncryption, err))
		return
	}
	resp, created, err := s.deps.PowerAuth.ActivateWithCode(r.Context(), hdr, req)
	if err != nil {
		s.paProtocolError(w, r, err)
		return
	}
	s.deps.Audit.Record(storage.AuditEvent{Action: "powerauth.activation.create", Outcome: "ok", Actor: created.User, Subject: created.User,
		ClientHost: s.clients.Host(r), Detail: "activation=" + created.ID + " app=" + created.AppID})
	writeJSON(w, resp)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// paProtoActivationStatus: {"requestObject":{"activationId","challenge"}} → the encrypted status blob.
func (s *Server) paProtoActivationStatus(w http.ResponseWriter, r *http.Request) {
	body, ok := s.paReadBody(w, r)
	if !ok {
		return
	}
	var req struct {
		RequestObject struct {
			ActivationID string `json:"activationId"`
			Challenge    string `json:"challenge"`
		} `json:"requestObject"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.RequestObject.ActivationID == "" {
		s.paProtocolError(w, r, powerauth.ErrNoStatus)
		return
	}
	var challenge []byte
	if c := req.RequestObject.Challenge; c != "" {
		var err error
		if challenge, err = base64.StdEncoding.DecodeString(c); err != nil || len(challenge) != 16 {
			s.paProtocolError(w, r, powerauth.ErrNoStatus)
			return
		}
	}
	ans, err := s.deps.PowerAuth.ProtocolStatus(r.Context(), req.RequestObject.ActivationID, challenge)
	if err != nil {
		s.paProtocolError(w, r, err)
		return
	}
	writePAOK(w, ans)
}

// paProtoActivationRemove: a two-factor signature over the body; the activation and its tokens end.
func (s *Server) paProtoActivationRemove(w http.ResponseWriter, r *http.Request) {
	body, ok := s.paReadBody(w, r)
	if !ok {
		return
	}
	signed, err := s.deps.PowerAuth.RemoveActivationSigned(r.Context(), r.Header.Get(powerauth.AuthorizationHeader), body)
	if err != nil {
		s.paProtocolError(w, r, err)
		return
	}
	s.deps.Audit.Record(storage.AuditEvent{Action: "powerauth.activation.remove", Outcome: "ok", Actor: signed.Activation.User,
		Subject: signed.Activation.User, ClientHost: s.clients.Host(r), Detail: "activation=" + signed.Activation.ID})
	writePAOK(w, map[string]string{"activationId": signed.Activation.ID})
}

// paProtoTokenCreate: encrypt-then-sign; the answer {tokenId, tokenSecret} encrypted in activation scope.
func (s *Server) paProtoTokenCreate(w http.ResponseWriter, r *http.Request) {
	body, ok := s.paReadBody(w, r)
	if !ok {
		return
	}
	resp, tok, signed, err := s.deps.PowerAuth.CreateTokenSigned(r.Context(), r.Header.Get(powerauth.AuthorizationHeader), body)
	if err != nil {
		s.paProtocolError(w, r, err)
		return
	}
	s.recordIssue(r, TokenKindPowerAuth, signed.Activation.User, "token="+tok.ID+" activation="+tok.ActivationID+
		" signature="+signed.Type.Enum())
	writeJSON(w, resp)
}

// paProtoTokenRemove: {"requestObject":{"tokenId"}} signed with any factors; OK whether or not it was removed.
func (s *Server) paProtoTokenRemove(w http.ResponseWriter, r *http.Request) {
	body, ok := s.paReadBody(w, r)
	if !ok {
		return
	}
	var req paRequestBody
	if err := json.Unmarshal(body, &req); err != nil || req.RequestObject == nil || req.RequestObject.TokenID == "" {
		writePAError(w, http.StatusBadRequest, paCodeGeneric, paRequestInvalid)
		return
	}
	removed, signed, err := s.deps.PowerAuth.RemoveTokenSigned(r.Context(), r.Header.Get(powerauth.AuthorizationHeader), body,
		req.RequestObject.TokenID)
	if err != nil {
		s.paProtocolError(w, r, err)
		return
	}
	if removed {
		s.deps.Audit.Record(storage.AuditEvent{Action: "powerauth.token.remove", Outcome: "ok", Actor: signed.Activation.User,
			Subject: signed.Activation.User, ClientHost: s.clients.Host(r), Detail: "token=" + req.RequestObject.TokenID})
	}
	writePAOK(w, map[string]string{"tokenId": req.RequestObject.TokenID})
}

// paKeystoreCreate: {"requestObject":{"jwt"}} → {"status":"OK","responseObject":{"jwt"}}.
func (s *Server) paKeystoreCreate(w http.ResponseWriter, r *http.Request) {
	body, ok := s.paReadBody(w, r)
	if !ok {
		return
	}
	var req struct {
		RequestObject struct {
			JWT string `json:"jwt"`
		} `json:"requestObject"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.RequestObject.JWT == "" {
		s.paProtocolError(w, r, powerauth.ErrTemporaryKey)
		return
	}
	jwt, err := s.deps.PowerAuth.CreateTempKey(r.Context(), req.RequestObject.JWT)
	if err != nil {
		s.paProtocolError(w, r, err)
		return
	}
	writePAOK(w, map[string]string{"jwt": jwt})
}
