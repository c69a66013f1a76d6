package server

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/server/internal/credential"
	"github.com/tokenmanager/tokenmanager/server/internal/reply"
	"github.com/tokenmanager/tokenmanager/storage"
)

// PowerAuth-style MAC tokens. The original authenticates activation and token management with a PowerAuth
// signature and ECIES-encrypted bodies; here the activation's owner authenticates with HTTP Basic and bodies are
// plain JSON (the ECIES layer is out of scope). Token use (X-PowerAuth-Token) is the original's, exactly.
const (
	PathPowerAuthActivationCreate = "/pa/v3/activation/create"
	PathPowerAuthActivationStatus = "/pa/v3/activation/status"
	PathPowerAuthActivationRemove = "/pa/v3/activation/remove"
	PathPowerAuthTokenCreate      = "/pa/v3/token/create"
	PathPowerAuthTokenRemove      = "/pa/v3/token/remove"
	// PathPowerAuthTokenVerify is a protected resource: it answers who a valid X-PowerAuth-Token belongs to.
	PathPowerAuthTokenVerify = "/pa/v3/token/verify"
)

// maxPowerAuthBody bounds the JSON bodies of the management calls, which carry an id or a name.
const maxPowerAuthBody = 16 << 10

// TokenKindPowerAuth is the X-Token-Kind of an accepted PowerAuth token.
const TokenKindPowerAuth = "powerauth"

func (s *Server) routePowerAuth() {
	if s.deps.PowerAuth == nil {
		return
	}
	// HTTP Basic takes the simple calls; the mobile SDK's protocol everything else (powerauth_protocol.go).
	s.mux.HandleFunc("POST "+PathPowerAuthActivationCreate, paBasicOr(s.paActivationCreate, s.paProtoActivationCreate, powerauth.EncryptionHeader))
	s.mux.HandleFunc("POST "+PathPowerAuthActivationStatus, paBasicOr(s.paActivationStatus, s.paProtoActivationStatus, ""))
	s.mux.HandleFunc("POST "+PathPowerAuthActivationRemove, paBasicOr(s.paActivationRemove, s.paProtoActivationRemove, powerauth.AuthorizationHeader))
	s.mux.HandleFunc("POST "+PathPowerAuthTokenCreate, paBasicOr(s.paTokenCreate, s.paProtoTokenCreate, powerauth.AuthorizationHeader))
	s.mux.HandleFunc("POST "+PathPowerAuthTokenRemove, paBasicOr(s.paTokenRemove, s.paProtoTokenRemove, powerauth.AuthorizationHeader))
	s.routePowerAuthProtocol()
	s.mux.HandleFunc("GET "+PathPowerAuthTokenVerify, s.paTokenVerify)
	s.mux.HandleFunc("POST "+PathPowerAuthTokenVerify, s.paTokenVerify)
}

// PowerAuth's error answer: {"status":"ERROR","responseObject":{"code":…,"message":…}} (restful-integration's
// PowerAuthExceptionHandler; every authentication failure is 401 ERR_AUTHENTICATION).
const (
	paCodeAuthentication = "ERR_AUTHENTICATION"
	paCodeGeneric        = "ERROR_GENERIC"

	paTokenInvalid     = "POWER_AUTH_TOKEN_INVALID"
	paHeaderMissing    = "POWER_AUTH_HTTP_HEADER_MISSING"
	paSignatureInvalid = "POWER_AUTH_SIGNATURE_INVALID"
	paRequestInvalid   = "POWER_AUTH_REQUEST_INVALID"
)

type paError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type paResponse struct {
	Status         string `json:"status"`
	ResponseObject any    `json:"responseObject"`
}

func writePAOK(w http.ResponseWriter, obj any) {
	reply.JSON(w, http.StatusOK, paResponse{Status: "OK", ResponseObject: obj})
}

func writePAError(w http.ResponseWriter, status int, code, message string) {
	reply.JSON(w, status, paResponse{Status: "ERROR", ResponseObject: paError{Code: code, Message: message}})
}

// paUnauthorized answers a failed Basic authentication, or an activation the caller may not act on, the way
// the original answers a failed signature over the activation.
func (s *Server) paUnauthorized(w http.ResponseWriter, message string) {
	w.Header().Set("WWW-Authenticate", s.env.BasicChallenge())
	writePAError(w, http.StatusUnauthorized, paCodeAuthentication, message)
}

func (s *Server) paInternal(w http.ResponseWriter, r *http.Request, err error) {
	if status := s.env.Failure(r.Context(), w.Header(), err); status == http.StatusServiceUnavailable {
		writePAError(w, status, paCodeGeneric, "SERVICE_UNAVAILABLE")
		return
	}
	writePAError(w, http.StatusInternalServerError, paCodeGeneric, "UNKNOWN_ERROR")
}

// paFields are the request members the management calls read.
type paFields struct {
	ActivationID   string `json:"activationId"`
	ActivationName string `json:"activationName"`
	TokenID        string `json:"tokenId"`
}

// paRequestBody accepts the members at the top level or, as PowerAuth's signed (unencrypted) calls send them,
// inside "requestObject".
type paRequestBody struct {
	paFields
	RequestObject *paFields `json:"requestObject"`
}

// paAuthenticate checks Basic credentials and reads the JSON body; on failure it has answered.
// paAuthenticateForActivation is paAuthenticate for a request that must name an activation.
func (s *Server) paAuthenticateForActivation(w http.ResponseWriter, r *http.Request) (storage.User, paFields, bool) {
	u, req, ok := s.paAuthenticate(w, r)
	if ok && req.ActivationID == "" {
		s.paUnauthorized(w, paRequestInvalid)
		return storage.User{}, paFields{}, false
	}
	return u, req, ok
}

func (s *Server) paAuthenticate(w http.ResponseWriter, r *http.Request) (storage.User, paFields, bool) {
	name, pass, ok := credential.Basic(r)
	var u storage.User
	var err error
	if ok {
		u, err = s.deps.Auth.Authenticate(r.Context(), name, pass)
	}
	switch {
	case !ok || errors.Is(err, auth.ErrBadCredentials):
		s.paUnauthorized(w, paSignatureInvalid)
		return storage.User{}, paFields{}, false
	case err != nil:
		s.paInternal(w, r, err)
		return storage.User{}, paFields{}, false
	}
	limit := min(s.cfg.MaxBodyBytes, maxPowerAuthBody)
	var body paRequestBody
	err = json.NewDecoder(http.MaxBytesReader(w, r.Body, limit)).Decode(&body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writePAError(w, http.StatusRequestEntityTooLarge, paCodeGeneric, "REQUEST_TOO_LARGE")
		return storage.User{}, paFields{}, false
	case err != nil && !errors.Is(err, io.EOF): // an empty body is an empty request
		s.paUnauthorized(w, paRequestInvalid)
		return storage.User{}, paFields{}, false
	}
	if body.RequestObject != nil {
		return u, *body.RequestObject, true
	}
	return u, body.paFields, true
}

type paActivation struct {
	ActivationID     string `json:"activationId"`
	ActivationName   string `json:"activationName"`
	ActivationStatus string `json:"activationStatus"` // PowerAuth's enum names: ACTIVE, BLOCKED, REMOVED
	TimestampCreated int64  `json:"timestampCreated"` // ms since the epoch
}

func paActivationOf(a storage.PowerAuthActivation) paActivation {
	return paActivation{ActivationID: a.ID, ActivationName: a.Name, ActivationStatus: strings.ToUpper(string(a.Status)),
		TimestampCreated: a.CreatedAt.UnixMilli()}
}

// paActivationError answers the errors of the activation and token calls.
func (s *Server) paActivationError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, powerauth.ErrNoActivation):
		s.paUnauthorized(w, paSignatureInvalid)
	case errors.Is(err, powerauth.ErrBadName):
		s.paUnauthorized(w, paRequestInvalid)
	default:
		s.paInternal(w, r, err)
	}
}

// paActivationCreate registers a device for the caller: {"activationName"} → the activation (unwrapped, like
// the decrypted body of the original's ECIES response).
func (s *Server) paActivationCreate(w http.ResponseWriter, r *http.Request) {
	u, req, ok := s.paAuthenticate(w, r)
	if !ok {
		return
	}
	a, err := s.deps.PowerAuth.CreateActivation(r.Context(), u.Name, req.ActivationName)
	if err != nil {
		s.paActivationError(w, r, err)
		return
	}
	s.deps.Audit.Record(storage.AuditEvent{Action: "powerauth.activation.create", Outcome: "ok", Actor: u.Name, Subject: u.Name,
		ClientHost: s.clients.Host(r), Detail: "activation=" + a.ID})
	reply.JSON(w, http.StatusOK, paActivationOf(a))
}

func (s *Server) paActivationStatus(w http.ResponseWriter, r *http.Request) {
	u, req, ok := s.paAuthenticateForActivation(w, r)
	if !ok {
		return
	}
	a, err := s.deps.PowerAuth.Activation(r.Context(), u.Name, req.ActivationID)
	if err != nil {
		s.paActivationError(w, r, err)
		return
	}
	writePAOK(w, paActivationOf(a))
}

func (s *Server) paActivationRemove(w http.ResponseWriter, r *http.Request) {
	u, req, ok := s.paAuthenticateForActivation(w, r)
	if !ok {
		return
	}
	a, err := s.deps.PowerAuth.RemoveActivation(r.Context(), u.Name, req.ActivationID)
	if err != nil {
		s.paActivationError(w, r, err)
		return
	}
	writePAOK(w, map[string]string{"activationId": a.ID})
}

// paTokenCreate: {"activationId"} of the caller's active activation → {"tokenId","tokenSecret"}.
func (s *Server) paTokenCreate(w http.ResponseWriter, r *http.Request) {
	u, req, ok := s.paAuthenticateForActivation(w, r)
	if !ok {
		return
	}
	tok, err := s.deps.PowerAuth.CreateToken(r.Context(), u.Name, req.ActivationID)
	if err != nil {
		s.paActivationError(w, r, err)
		return
	}
	s.recordIssue(r, TokenKindPowerAuth, u.Name, "token="+tok.ID+" activation="+req.ActivationID)
	reply.JSON(w, http.StatusOK, map[string]string{
		"tokenId": tok.ID, "tokenSecret": base64.StdEncoding.EncodeToString(tok.Secret)})
}

// paTokenRemove: {"requestObject":{"tokenId"}} (activationId optional) → OK whether or not anything was removed,
// as the original answers.
func (s *Server) paTokenRemove(w http.ResponseWriter, r *http.Request) {
	u, req, ok := s.paAuthenticate(w, r)
	if !ok {
		return
	}
	if req.TokenID == "" {
		s.paUnauthorized(w, paRequestInvalid)
		return
	}
	if _, err := s.deps.PowerAuth.RemoveToken(r.Context(), u.Name, req.TokenID, req.ActivationID); err != nil {
		s.paInternal(w, r, err)
		return
	}
	writePAOK(w, map[string]string{"tokenId": req.TokenID})
}

// powerAuthCheck verifies the request's X-PowerAuth-Token. present is false when the request has none.
func (s *Server) powerAuthCheck(r *http.Request) (v powerauth.Verified, present bool, err error) {
	values := r.Header.Values(powerauth.HeaderName)
	if s.deps.PowerAuth == nil || len(values) == 0 {
		return powerauth.Verified{}, false, nil
	}
	if len(values) > 1 {
		return powerauth.Verified{}, true, errors.Join(powerauth.ErrInvalid, errors.New("more than one X-PowerAuth-Token header"))
	}
	v, err = s.deps.PowerAuth.Verify(r.Context(), values[0])
	return v, true, err
}

// powerAuthVerify is the PowerAuth check for other surfaces (forward-auth). It returns ok with the token's user
// for a valid X-PowerAuth-Token; ("", false, nil) when the request carries no such header (another credential
// kind may apply; also when PowerAuth is not configured); and ("", false, err) when the header is refused —
// errors.Is(err, powerauth.ErrInvalid), answer 401 — or could not be checked (any other error, answer 500).
// A successful check consumes the header's nonce: the same header is refused the next time, on every node.
func (s *Server) powerAuthVerify(r *http.Request) (user string, ok bool, err error) {
	v, present, err := s.powerAuthCheck(r)
	if !present || err != nil {
		if err != nil && errors.Is(err, powerauth.ErrInvalid) {
			s.logRefusal(r.Context(), err)
		}
		return "", false, err
	}
	return v.User, true, nil
}

// powerAuthChallenge is the WWW-Authenticate a 401 must carry (RFC 9110 §11.6.1); the original sends none, and
// PowerAuth clients ignore it.
func (s *Server) powerAuthChallenge() string { return `PowerAuth realm="` + s.cfg.Realm + `"` }

// paTokenVerify is the protected example resource: 200 with the token's identity, or PowerAuth's 401.
func (s *Server) paTokenVerify(w http.ResponseWriter, r *http.Request) {
	v, present, err := s.powerAuthCheck(r)
	switch {
	case !present:
		w.Header().Set("WWW-Authenticate", s.powerAuthChallenge())
		writePAError(w, http.StatusUnauthorized, paCodeAuthentication, paHeaderMissing)
		return
	case errors.Is(err, powerauth.ErrInvalid):
		s.logRefusal(r.Context(), err)
		w.Header().Set("WWW-Authenticate", s.powerAuthChallenge())
		writePAError(w, http.StatusUnauthorized, paCodeAuthentication, paTokenInvalid)
		return
	case err != nil:
		s.paInternal(w, r, err)
		return
	}
	w.Header().Set(HeaderTokenUser, v.User)
	w.Header().Set(HeaderTokenKind, TokenKindPowerAuth)
	writePAOK(w, map[string]string{"tokenId": v.TokenID, "activationId": v.ActivationID, "userId": v.User})
}
