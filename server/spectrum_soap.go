package server

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/server/internal/soapwire"
	"github.com/tokenmanager/tokenmanager/session/dbstore"
	"github.com/tokenmanager/tokenmanager/soap"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/token"
	"github.com/tokenmanager/tokenmanager/wsdl"
)

// Spectrum's target namespace, and the one Spectrum OnDemand's documentation uses after the rebrand; we accept
// both and answer in the one the request used.
const (
	NSSpectrum          = wsdl.Namespace
	NSSpectrumPrecisely = "http://token.security.common.server.platform.spectrum.precisely.com/"
)

func (s *Server) routeSpectrumSOAP() {
	// Streaming: these handlers read the envelope only through its methods and soapwire's UsernameTokenFrom.
	manager := &soap.Endpoint{MaxBytes: s.cfg.MaxBodyBytes, Failure: s.env.Failure, Streaming: true,
		Understood: map[string][]string{soap.NSWSSE: {"Security"}}}
	logout := &soap.Endpoint{MaxBytes: s.cfg.MaxBodyBytes, Failure: s.env.Failure, Streaming: true}
	for _, ns := range []string{NSSpectrum, NSSpectrumPrecisely} {
		manager.Handle(ns, "getAccessExpiringToken", s.soapGetAccessExpiringToken)
		manager.Handle(ns, "getAccessSessionToken", s.soapGetAccessSessionToken)
		manager.Handle(ns, "getAccessToken", s.soapGetAccessToken)
		logout.Handle(ns, "logout", s.soapLogout)
	}
	s.mux.Handle("POST "+wsdl.TokenManager.Path(), manager)
	s.mux.Handle("POST "+wsdl.TokenLogout.Path(), logout)
	s.mux.HandleFunc("GET "+wsdl.TokenManager.Path(), soapwire.WSDL(s.env, wsdl.TokenManager))
	s.mux.HandleFunc("GET "+wsdl.TokenLogout.Path(), soapwire.WSDL(s.env, wsdl.TokenLogout))
}

// tokenInfoResponse is <ns2:{op}Response><return><session/><token/><username/></return>, Spectrum's shape:
// only the wrapper is qualified, children in JAXB's alphabetical order.
type tokenInfoResponse struct {
	ns, op  string
	session string // omitted when empty (open tokens)
	token   string
	user    string
}

func (t tokenInfoResponse) WriteBody(b *bytes.Buffer) {
	b.WriteString(`<ns2:`)
	b.WriteString(t.op)
	b.WriteString(`Response xmlns:ns2="`)
	b.WriteString(t.ns)
	b.WriteString(`"><return>`)
	if t.session != "" {
		b.WriteString(`<session>`)
		soap.Escape(b, t.session)
		b.WriteString(`</session>`)
	}
	b.WriteString(`<token>`)
	soap.Escape(b, t.token)
	b.WriteString(`</token><username>`)
	soap.Escape(b, t.user)
	b.WriteString(`</username></return></ns2:`)
	b.WriteString(t.op)
	b.WriteString(`Response>`)
}

type emptyResponse struct{ ns, op string }

func (e emptyResponse) WriteBody(b *bytes.Buffer) {
	b.WriteString(`<ns2:`)
	b.WriteString(e.op)
	b.WriteString(`Response xmlns:ns2="`)
	b.WriteString(e.ns)
	b.WriteString(`"/>`)
}

func (s *Server) soapGetAccessExpiringToken(w http.ResponseWriter, r *http.Request, env *soap.Envelope) (soap.Response, error) {
	u, err := s.soapUsers.User(r, env)
	if err != nil {
		return nil, err
	}
	raw, ok := env.Child("tokenLifeInMinutes")
	if !ok {
		return nil, soap.ClientFault(env.Version, "tokenLifeInMinutes is required")
	}
	ttl, err := s.parseLifetime(raw, false)
	if err != nil {
		return nil, soap.ClientFault(env.Version, "tokenLifeInMinutes "+err.Error())
	}
	return s.soapSessionToken(w, r, env, u, ttl)
}

func (s *Server) soapGetAccessSessionToken(w http.ResponseWriter, r *http.Request, env *soap.Envelope) (soap.Response, error) {
	u, err := s.soapUsers.User(r, env)
	if err != nil {
		return nil, err
	}
	return s.soapSessionToken(w, r, env, u, 0)
}

func (s *Server) soapSessionToken(w http.ResponseWriter, r *http.Request, env *soap.Envelope, u storage.User, ttl time.Duration) (soap.Response, error) {
	sess, err := s.sessions.Login(r, w, u.Name)
	if err != nil {
		return nil, err
	}
	iss, err := s.deps.Tokens.IssueSessionToken(r.Context(), u.Name, dbstore.StorageID(sess), s.clients.Host(r), ttl)
	if err != nil {
		return nil, s.issueFault(env, err)
	}
	s.issued(r, iss)
	ns, op := env.Operation()
	return tokenInfoResponse{ns: ns, op: op, session: sess.ID, token: iss.Token, user: iss.User}, nil
}

func (s *Server) soapGetAccessToken(w http.ResponseWriter, r *http.Request, env *soap.Envelope) (soap.Response, error) {
	u, err := s.soapUsers.User(r, env)
	if err != nil {
		return nil, err
	}
	iss, err := s.deps.Tokens.IssueOpenToken(r.Context(), u.Name, s.clients.Host(r), 0)
	if err != nil {
		return nil, s.issueFault(env, err)
	}
	s.issued(r, iss)
	ns, op := env.Operation()
	return tokenInfoResponse{ns: ns, op: op, token: iss.Token, user: iss.User}, nil
}

func (s *Server) issueFault(env *soap.Envelope, err error) error {
	if errors.Is(err, token.ErrLifetime) {
		return soap.ClientFault(env.Version, "token lifetime exceeds the server's maximum of "+s.cfg.MaxTokenLifetime.String())
	}
	return err
}

// soapLogout ends the presented token (and its session); it authenticates with the token itself.
func (s *Server) soapLogout(w http.ResponseWriter, r *http.Request, env *soap.Envelope) (soap.Response, error) {
	v, err := s.deps.Tokens.Logout(r.Context(), s.presented(r))
	s.used(r, "logout", v, err)
	if err != nil {
		if errors.Is(err, token.ErrInvalid) {
			s.logRefusal(r.Context(), err)
			return nil, &soap.Fault{Version: env.Version, Code: soap.CodeClient, String: "invalid token", Status: http.StatusUnauthorized,
				Header: http.Header{"Www-Authenticate": {s.env.BearerChallenge("invalid_token")}}}
		}
		return nil, err
	}
	if v.SessionID != "" {
		s.sessions.Forget(r, w)
	}
	ns, op := env.Operation()
	return emptyResponse{ns: ns, op: op}, nil
}

// parseLifetime reads a lifetime in minutes. zeroOK allows 0 (the REST routes' "no expiry").
func (s *Server) parseLifetime(raw string, zeroOK bool) (time.Duration, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	switch {
	case err != nil:
		return 0, errors.New("must be an integer number of minutes")
	case n < 0 || (n == 0 && !zeroOK):
		return 0, errors.New("must be greater than zero")
	case s.cfg.MaxTokenLifetime > 0 && n > int64(s.cfg.MaxTokenLifetime/time.Minute):
		return 0, errors.New("exceeds the server's maximum of " + strconv.FormatInt(int64(s.cfg.MaxTokenLifetime/time.Minute), 10) + " minutes")
	}
	return time.Duration(n) * time.Minute, nil
}

// logRefusal records why a token was refused, without the token.
func (s *Server) logRefusal(ctx context.Context, err error) {
	s.deps.Log.InfoContext(ctx, "token refused", "reason", token.Reason(err), "err", err.Error())
}
