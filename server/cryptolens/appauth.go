package cryptolens

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

// App authorization on the Cryptolens API (entries in methods): auth/GetChallenge and auth/GetToken
// for an app holding a parent token, User/GetLicenseKeys for its child token, and userauth/Login, a password
// sign-in that gives an app the same child token without the browser. The consent page is package consent's.

// Messages of the app authorization methods. The first is Cryptolens' (its SDKs' users report it); the
// userauth ones are Cryptolens' documented userauth messages; the others are ours, for failures Cryptolens
// does not document.
const (
	msgRequestNotFound = "The authorization request could not be found."
	msgChallenge       = "The challenge has expired or was already used. Get a new one with auth/GetChallenge."
	msgSignature       = "The signed challenge could not be verified with the public key of the request."
	msgDate            = "The Date is too far from the server's time. Check the device's clock."
	msgNoCredentials   = "No username or password supplied."
	msgBadUser         = "Unable to authenticate user."
)

// messageError carries the exact Cryptolens message for err.
type messageError struct {
	msg string
	err error
}

func (e *messageError) Error() string { return e.msg + ": " + e.err.Error() }
func (e *messageError) Unwrap() error { return e.err }

// appAuthError gives app authorization errors their messages; others pass through to message.
func appAuthError(err error) error {
	msg := ""
	switch {
	case err == nil:
		return nil
	case errors.Is(err, appauth.ErrRequestNotFound):
		msg = msgRequestNotFound
	case errors.Is(err, appauth.ErrChallenge):
		msg = msgChallenge
	case errors.Is(err, appauth.ErrSignature):
		msg = msgSignature
	case errors.Is(err, appauth.ErrDate):
		msg = msgDate
	case errors.Is(err, appauth.ErrNoCustomer):
		msg = msgNoCustomer
	case errors.Is(err, appauth.ErrDeviceLimit):
		msg = msgLimit
	case errors.Is(err, appauth.ErrParent):
		msg = msgAccessDenied
	default:
		return err
	}
	return &messageError{msg: msg, err: err}
}

// errNoAppAuth answers the app authorization methods on a server without them.
var errNoAppAuth = &messageError{msg: "No such method.", err: errors.New("app authorization is not configured")}

type challengeResult struct {
	Result    int    `json:"result"`
	Message   string `json:"message"`
	Challenge string `json:"challenge"`
}

func (api *API) getChallenge(ctx context.Context, c *call) (any, error) {
	svc := api.AppAuth
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
	return challengeResult{Challenge: base64.StdEncoding.EncodeToString(challenge)}, nil
}

type tokenResult struct {
	Result  int    `json:"result"`
	Message string `json:"message"`
	Token   string `json:"token"`
}

// maxSignatureLen bounds SignedChallenge: base64 of a 4096-bit signature is 684 characters.
const maxSignatureLen = 1024

func (api *API) getToken(ctx context.Context, c *call) (any, error) {
	svc := api.AppAuth
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
			api.env.Audit.Record(storage.AuditEvent{Action: "appauth.refuse", Outcome: refusal(err), Actor: c.access.VendorName(),
				ClientHost: c.clientIP, Detail: "on=GetToken"})
		}
		return nil, appAuthError(err)
	}
	a := issued.Authorization
	api.env.Issued(c.r, "app", a.User, fmt.Sprintf("authorization=%d api_token=%d app=%q", a.ID, a.ChildTokenID, a.AppName))
	return tokenResult{Token: issued.Token}, nil
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

// licenseKeysResult is the .NET SDK's GetLicenseKeysResultLinqSign.
type licenseKeysResult struct {
	Result                int     `json:"result"`
	Message               string  `json:"message"`
	Results               string  `json:"results"`
	ActivatedMachineCodes string  `json:"activatedMachineCodes"`
	Signature             *string `json:"signature"`
	SignDate              int64   `json:"signDate"`
}

func (api *API) getLicenseKeys(ctx context.Context, c *call) (any, error) {
	svc := api.AppAuth
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
	out := licenseKeysResult{Results: base64.StdEncoding.EncodeToString(keys.Results),
		ActivatedMachineCodes: base64.StdEncoding.EncodeToString(keys.ActivatedMachineCodes), SignDate: keys.SignDate.Unix()}
	if sign {
		sig := base64.StdEncoding.EncodeToString(keys.Signature)
		out.Signature = &sig
	}
	return out, nil
}

// userLogin is /api/userauth/Login as this server offers it: the parent token, a user's name and password
// and the device → a child token with the GetLicenseKeys permission, exactly what the user would authorize on
// the consent page for User Login Auth. Failed passwords count against the sign-in throttle.
func (api *API) userLogin(ctx context.Context, c *call) (any, error) {
	svc := api.AppAuth
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
		return nil, &messageError{msg: msgNoCredentials, err: license.ErrInvalidInput}
	}
	u, err := api.env.SignIn.Authenticate(c.r, name, func() (storage.User, error) { return api.Auth.Authenticate(ctx, name, pass) })
	var throttled *auth.ThrottledError
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		return nil, &messageError{msg: msgBadUser, err: err}
	case errors.As(err, &throttled):
		secs := int((throttled.RetryAfter + 999_999_999) / 1_000_000_000)
		return nil, &messageError{msg: "Too many failed sign-ins. Try again in " + strconv.Itoa(secs) + " seconds.", err: err}
	case err != nil:
		return nil, err
	}
	issued, err := svc.Login(ctx, c.access, u.Name, lr)
	if err != nil {
		return nil, appAuthError(err)
	}
	a := issued.Authorization
	api.env.Audit.Record(storage.AuditEvent{Action: "appauth.approve", Outcome: "ok", Actor: u.Name, Subject: u.Name, ClientHost: c.clientIP,
		Detail: fmt.Sprintf("authorization=%d app=%q by=password", a.ID, a.AppName)})
	api.env.Issued(c.r, "app", u.Name, fmt.Sprintf("authorization=%d api_token=%d app=%q", a.ID, a.ChildTokenID, a.AppName))
	return tokenResult{Token: issued.Token}, nil
}
