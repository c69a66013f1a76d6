package server

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tokenmanager/tokenmanager/appauth"
	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

// App authorization on the Cryptolens API (entries in cryptolensMethods): auth/GetChallenge and auth/GetToken
// for an app holding a parent token, User/GetLicenseKeys for its child token, and userauth/Login, a password
// sign-in that gives an app the same child token without the browser. The consent page is appauth_pages.go.

// AppAuthDeps are the app authorization surfaces' dependencies; a nil Service leaves them out.
type AppAuthDeps struct {
	Service *appauth.Service
	// CSRFKey keys the form tokens of the consent and list pages: keys.Derive(master, keys.PurposeCSRF).
	CSRFKey []byte
	// CSRFKeys, when set, replaces CSRFKey: the first key makes form tokens, every key is accepted, so that a
	// form made on a node before a server key rotation is still taken by one after it.
	CSRFKeys func() [][]byte
}

// Messages of the app authorization methods. The first is Cryptolens' (its SDKs' users report it); the
// userauth ones are Cryptolens' documented userauth messages; the others are ours, for failures Cryptolens
// does not document.
const (
	clMsgRequestNotFound = "The authorization request could not be found."
	clMsgChallenge       = "The challenge has expired or was already used. Get a new one with auth/GetChallenge."
	clMsgSignature       = "The signed challenge could not be verified with the public key of the request."
	clMsgDate            = "The Date is too far from the server's time. Check the device's clock."
	clMsgNoCredentials   = "No username or password supplied."
	clMsgBadUser         = "Unable to authenticate user."
)

// clMessageError carries the exact Cryptolens message for err.
type clMessageError struct {
	msg string
	err error
}

func (e *clMessageError) Error() string { return e.msg + ": " + e.err.Error() }
func (e *clMessageError) Unwrap() error { return e.err }

// appAuthError gives app authorization errors their messages; others pass through to cryptolensMessage.
func appAuthError(err error) error {
	msg := ""
	switch {
	case err == nil:
		return nil
	case errors.Is(err, appauth.ErrRequestNotFound):
		msg = clMsgRequestNotFound
	case errors.Is(err, appauth.ErrChallenge):
		msg = clMsgChallenge
	case errors.Is(err, appauth.ErrSignature):
		msg = clMsgSignature
	case errors.Is(err, appauth.ErrDate):
		msg = clMsgDate
	case errors.Is(err, appauth.ErrNoCustomer):
		msg = clMsgNoCustomer
	case errors.Is(err, appauth.ErrDeviceLimit):
		msg = clMsgLimit
	case errors.Is(err, appauth.ErrParent):
		msg = clMsgAccessDenied
	default:
		return err
	}
	return &clMessageError{msg: msg, err: err}
}

// errNoAppAuth answers the app authorization methods on a server without them.
var errNoAppAuth = &clMessageError{msg: "No such method.", err: errors.New("app authorization is not configured")}

type clChallengeResult struct {
	Result    int    `json:"result"`
	Message   string `json:"message"`
	Challenge string `json:"challenge"`
}

func (s *Server) clGetChallenge(ctx context.Context, c *cryptolensCall) (any, error) {
	svc := s.deps.AppAuth.Service
	if svc == nil {
		return nil, errNoAppAuth
	}
	authToken := c.required("AuthorizationToken")
	if c.err != nil {
		return nil, c.err
	}
	challenge, err := svc.Challenge(ctx, c.access, authToken)
	if err != nil {
		return nil, appAuthError(err)
	}
	return clChallengeResult{Challenge: base64.StdEncoding.EncodeToString(challenge)}, nil
}

type clTokenResult struct {
	Result  int    `json:"result"`
	Message string `json:"message"`
	Token   string `json:"token"`
}

// maxSignatureLen bounds SignedChallenge: base64 of a 4096-bit signature is 684 characters.
const maxSignatureLen = 1024

func (s *Server) clGetToken(ctx context.Context, c *cryptolensCall) (any, error) {
	svc := s.deps.AppAuth.Service
	if svc == nil {
		return nil, errNoAppAuth
	}
	authToken, date := c.required("AuthorizationToken"), c.int64("Date", 0)
	rawSig := strings.ReplaceAll(strings.TrimSpace(c.required("SignedChallenge")), " ", "+")
	if c.err != nil {
		return nil, c.err
	}
	sig, err := base64.StdEncoding.DecodeString(rawSig)
	if err != nil || len(rawSig) > maxSignatureLen {
		return nil, fmt.Errorf("%w: SignedChallenge is not base64 of a signature", license.ErrInvalidInput)
	}
	issued, err := svc.Token(ctx, c.access, authToken, date, sig)
	if err != nil {
		if errors.Is(err, appauth.ErrSignature) || errors.Is(err, appauth.ErrDate) || errors.Is(err, appauth.ErrChallenge) {
			s.deps.Audit.Record(storage.AuditEvent{Action: "appauth.refuse", Outcome: refusal(err), Actor: c.access.VendorName(),
				ClientHost: c.clientIP, Detail: "on=GetToken"})
		}
		return nil, appAuthError(err)
	}
	a := issued.Authorization
	s.recordIssue(c.r, "app", a.User, fmt.Sprintf("authorization=%d api_token=%d app=%q", a.ID, a.ChildTokenID, a.AppName))
	return clTokenResult{Token: issued.Token}, nil
}

// refusal names a GetToken refusal for the audit log.
func refusal(err error) string {
	switch {
	case errors.Is(err, appauth.ErrSignature):
		return "bad_signature"
	case errors.Is(err, appauth.ErrDate):
		return "stale_date"
	}
	return "no_challenge"
}

// clLicenseKeysResult is the .NET SDK's GetLicenseKeysResultLinqSign.
type clLicenseKeysResult struct {
	Result                int     `json:"result"`
	Message               string  `json:"message"`
	Results               string  `json:"results"`
	ActivatedMachineCodes string  `json:"activatedMachineCodes"`
	Signature             *string `json:"signature"`
	SignDate              int64   `json:"signDate"`
}

func (s *Server) clGetLicenseKeys(ctx context.Context, c *cryptolensCall) (any, error) {
	svc := s.deps.AppAuth.Service
	if svc == nil {
		return nil, errNoAppAuth
	}
	sign := c.bool("Sign")
	c.signMethod() // LinqSign or StringSign: the answer is the same, the only one the SDK reads
	if mc := c.str("MachineCode"); len(mc) > license.MaxMachineCodeLen {
		c.fail("MachineCode", mc)
	}
	if c.err != nil {
		return nil, c.err
	}
	keys, err := svc.LicenseKeys(ctx, c.access)
	if err != nil {
		return nil, appAuthError(err)
	}
	out := clLicenseKeysResult{Results: base64.StdEncoding.EncodeToString(keys.Results),
		ActivatedMachineCodes: base64.StdEncoding.EncodeToString(keys.ActivatedMachineCodes), SignDate: keys.SignDate.Unix()}
	if sign {
		sig := base64.StdEncoding.EncodeToString(keys.Signature)
		out.Signature = &sig
	}
	return out, nil
}

// clUserLogin is /api/userauth/Login as this server offers it: the parent token, a user's name and password
// and the device → a child token with the GetLicenseKeys permission, exactly what the user would authorize on
// the consent page for User Login Auth. Failed passwords count against the sign-in throttle.
func (s *Server) clUserLogin(ctx context.Context, c *cryptolensCall) (any, error) {
	svc := s.deps.AppAuth.Service
	if svc == nil {
		return nil, errNoAppAuth
	}
	name, pass := c.str("UserName"), c.str("Password")
	lr := appauth.LoginRequest{AppName: c.str("VendorAppName"), MachineCode: c.str("MachineCode"), DeviceName: c.str("DeviceName"),
		Days: c.int("Expires", 0)}
	if c.err != nil {
		return nil, c.err
	}
	if name == "" || pass == "" {
		return nil, &clMessageError{msg: clMsgNoCredentials, err: license.ErrInvalidInput}
	}
	u, err := s.authenticate(c.r, name, func() (storage.User, error) { return s.deps.Auth.Authenticate(ctx, name, pass) })
	var throttled *auth.ThrottledError
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		return nil, &clMessageError{msg: clMsgBadUser, err: err}
	case errors.As(err, &throttled):
		secs := int((throttled.RetryAfter + 999_999_999) / 1_000_000_000)
		return nil, &clMessageError{msg: "Too many failed sign-ins. Try again in " + strconv.Itoa(secs) + " seconds.", err: err}
	case err != nil:
		return nil, err
	}
	issued, err := svc.Login(ctx, c.access, u.Name, lr)
	if err != nil {
		return nil, appAuthError(err)
	}
	a := issued.Authorization
	s.deps.Audit.Record(storage.AuditEvent{Action: "appauth.approve", Outcome: "ok", Actor: u.Name, Subject: u.Name, ClientHost: c.clientIP,
		Detail: fmt.Sprintf("authorization=%d app=%q by=password", a.ID, a.AppName)})
	s.recordIssue(c.r, "app", u.Name, fmt.Sprintf("authorization=%d api_token=%d app=%q", a.ID, a.ChildTokenID, a.AppName))
	return clTokenResult{Token: issued.Token}, nil
}
