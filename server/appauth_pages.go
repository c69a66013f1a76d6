package server

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/appauth"
	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

// The user's pages of app authorization, server-rendered, usable without JavaScript:
//
//   - /User/AuthorizeApp/?AuthorizationToken=…&PublicKey=…&Scope=…&VendorAppName=…&Expires=…&TokenId=…&MachineCode=…
//     &DeviceName=…&Algorithm=RSA_2048, the consent page the vendor's app opens in the user's browser
//     (Cryptolens' path and parameters): sign in, see the app, what it may do, the device and for how long,
//     and allow or deny.
//   - /User/AuthorizedApps/: the signed-in user's authorized apps and registered devices, each revocable.
//
// Signing in uses the session layer, with a page-session cookie of its own (pagesession.go). Every form is a POST to the page
// itself with a CSRF token (csrf.go); each POST is answered with a page or a 303 to the page (no resubmission).

//go:embed pages/appauth.html
var pageFiles embed.FS

var appAuthPages = template.Must(template.New("").ParseFS(pageFiles, "pages/appauth.html"))

const (
	pathAuthorizeApp   = "/User/AuthorizeApp/"
	pathAuthorizedApps = "/User/AuthorizedApps/"
	// maxFormBytes bounds a page's POST body: a sign-in or a button.
	maxFormBytes = 8 << 10
)

func (s *Server) routeAppAuth() {
	if s.deps.AppAuth.Service == nil {
		return
	}
	for _, p := range []string{pathAuthorizeApp + "{$}", strings.TrimSuffix(pathAuthorizeApp, "/")} {
		s.mux.HandleFunc("GET "+p, s.authorizeAppPage)
		s.mux.HandleFunc("POST "+p, s.authorizeAppPage)
	}
	for _, p := range []string{pathAuthorizedApps + "{$}", strings.TrimSuffix(pathAuthorizedApps, "/")} {
		s.mux.HandleFunc("GET "+p, s.authorizedAppsPage)
		s.mux.HandleFunc("POST "+p, s.authorizedAppsPage)
	}
	s.routeAppAuthAdmin()
}

// pageData is what the template renders.
type pageData struct {
	Title, View string
	User, CSRF  string
	Username    string // to refill the sign-in form
	Error       string
	Problems    []string
	Consent     *consentView
	Outcome     string // approved or denied
	Message     string
	Apps        []appView
	Devices     []deviceView
}

type consentView struct {
	AppName, Vendor, TokenName, Product string
	DeviceName, MachineCode             string
	Permissions, Withheld, Unsupported  []string
	UserLogin                           bool
	Days, AskedDays                     int
	ExpiresAt                           string
	Capped                              bool
	Customers                           []string
	Refusal                             string
}

type appView struct {
	ID                                       int64
	AppName, Vendor, DeviceName, MachineCode string
	Permissions                              []string
	Since, Until, State                      string
	Revocable                                bool
}

type deviceView struct {
	storage.AppDevice
	Since string
}

// permissionText says in words what a method lets an app do.
var permissionText = map[license.Method]string{
	license.MethodGetLicenseKeys: "see your license keys and the devices you authorized",
	license.MethodActivate:       "activate license keys on machines",
	license.MethodDeactivate:     "deactivate machines",
	license.MethodGetKey:         "read license keys",
	license.MethodCreateKey:      "create license keys",
	license.MethodCreateTrialKey: "create trial keys",
	license.MethodBlockKey:       "block license keys",
	license.MethodUnblockKey:     "unblock license keys",
	license.MethodExtendLicense:  "extend licenses",
	license.MethodAddCustomer:    "add customers",
	license.MethodGetToken:       "authorize other apps",
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 Jan 2006 15:04 UTC")
}

// render writes a page with the headers every page gets: no caching, no framing (a consent page in a
// hostile frame could be clicked through), no referrer (the URL carries the request), a strict CSP.
func (s *Server) render(w http.ResponseWriter, status int, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	if err := appAuthPages.ExecuteTemplate(w, "page", d); err != nil {
		s.deps.Log.Error("render page", "err", err)
	}
}

// pageUser is the signed-in user of a page request and the CSRF binding of their page session; empty without
// a live page session from this host (pagesession.go). The API's SESSION cookie does not sign in here.
func (s *Server) pageUser(r *http.Request) (user, binding string) {
	user, id := s.pageSession(r)
	if user == "" {
		return "", ""
	}
	return user, sessionBinding(id)
}

// pageForm reads a page's POST body, bounded; false if it answered (413).
func (s *Server) pageForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.render(w, http.StatusRequestEntityTooLarge, pageData{Title: "Request too large", Error: "The form was too large."})
		return false
	}
	return true
}

const msgStaleForm = "This form has expired or did not come from this page. Reload the page and try again."

// pageSignIn handles a sign-in form (action=signin) posted to page: on success the browser gets its session
// and is sent back to the page; otherwise the form is shown again with the reason.
func (s *Server) pageSignIn(w http.ResponseWriter, r *http.Request, d pageData) {
	csrf := s.csrf()
	binding := presentedPreSession(r)
	name, pass := r.PostForm.Get("username"), r.PostForm.Get("password")
	d.View, d.Username = "signin", name
	if !csrf.valid(binding, r.PostForm.Get("csrf")) {
		d.Error, d.CSRF = msgStaleForm, csrf.token(s.preSession(w, r))
		s.render(w, http.StatusForbidden, d)
		return
	}
	d.CSRF = csrf.token(binding)
	if name == "" || pass == "" || len(name) > 256 || len(pass) > 1024 {
		d.Error = "Enter your user name and password."
		s.render(w, http.StatusBadRequest, d)
		return
	}
	u, err := s.authenticate(r, name, func() (storage.User, error) { return s.deps.Auth.Authenticate(r.Context(), name, pass) })
	var throttled *auth.ThrottledError
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		d.Error = "Wrong user name or password."
		s.render(w, http.StatusUnauthorized, d)
		return
	case errors.As(err, &throttled):
		retryAfter(w.Header(), throttled.RetryAfter)
		d.Error = fmt.Sprintf("Too many failed sign-ins. Try again in %s.", throttled.RetryAfter.Round(time.Second))
		s.render(w, http.StatusTooManyRequests, d)
		return
	case err != nil:
		s.pageError(w, r, err)
		return
	}
	if err := s.pageLogin(w, r, u.Name); err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, r.URL.RequestURI(), http.StatusSeeOther)
}

// pageSignOut ends the page session and sends the browser back.
func (s *Server) pageSignOut(w http.ResponseWriter, r *http.Request) {
	if err := s.pageLogout(w, r); err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, r.URL.RequestURI(), http.StatusSeeOther)
}

func (s *Server) csrf() csrfGuard {
	if s.deps.AppAuth.CSRFKeys != nil {
		ks := s.deps.AppAuth.CSRFKeys()
		return csrfGuard{key: ks[0], others: ks[1:]}
	}
	return csrfGuard{key: s.deps.AppAuth.CSRFKey}
}

func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	s.internalError(r.Context(), err)
	s.render(w, http.StatusInternalServerError, pageData{Title: "Something went wrong", Error: "Something went wrong on our side. Try again later."})
}

// reason is the part of an error a user should read: the detail after the sentinel's own words.
func reason(err, sentinel error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, sentinel.Error()+": "); i >= 0 {
		msg = msg[i+len(sentinel.Error())+2:]
	}
	if msg == "" {
		return msg
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

func (s *Server) authorizeAppPage(w http.ResponseWriter, r *http.Request) {
	svc, ctx := s.deps.AppAuth.Service, r.Context()
	d := pageData{Title: "Authorize an app"}
	if len(r.URL.RawQuery) > 6*appauth.MaxParamLen {
		d.Error = "The link the app opened is too long to be an authorization request."
		s.render(w, http.StatusBadRequest, d)
		return
	}
	params, err := parseCryptolensParams(r.URL.RawQuery)
	if err != nil {
		d.Error = "The link the app opened is malformed; nothing was authorized."
		s.render(w, http.StatusBadRequest, d)
		return
	}
	req, err := appauth.ParseRequest(params)
	if bad := (*appauth.BadRequestError)(nil); errors.As(err, &bad) {
		d.Problems = bad.Problems
		s.render(w, http.StatusBadRequest, d)
		return
	}
	user, binding := s.pageUser(r)
	d.User, d.CSRF = user, s.csrf().token(binding)
	c, err := svc.Consent(ctx, req, user)
	switch {
	case errors.Is(err, appauth.ErrParent):
		d.Error = fmt.Sprintf("This app cannot ask for authorization: the token it names (TokenId %d) is unknown, revoked or expired, or may not authorize apps. Tell the app's vendor.", req.TokenID)
		s.render(w, http.StatusBadRequest, d)
		return
	case errors.Is(err, license.ErrInvalidInput):
		d.Error = "This app's request cannot be granted: " + reason(err, license.ErrInvalidInput)
		s.render(w, http.StatusBadRequest, d)
		return
	case errors.Is(err, license.ErrProductNotFound):
		d.Error = "This app's request names a product its vendor does not have."
		s.render(w, http.StatusBadRequest, d)
		return
	case err != nil:
		s.pageError(w, r, err)
		return
	}
	d.Consent = s.consentView(c)

	if r.Method == http.MethodPost {
		if !s.pageForm(w, r) {
			return
		}
		switch action := r.PostForm.Get("action"); {
		case action == "signin":
			s.pageSignIn(w, r, d)
			return
		case user == "":
			d.View, d.Error, d.CSRF = "signin", "Sign in first.", s.csrf().token(s.preSession(w, r))
			s.render(w, http.StatusUnauthorized, d)
			return
		case !s.csrf().valid(binding, r.PostForm.Get("csrf")):
			d.View, d.Error = "consent", msgStaleForm
			s.render(w, http.StatusForbidden, d)
			return
		case action == "signout":
			s.pageSignOut(w, r)
			return
		case action == "approve" || action == "deny":
			s.decide(w, r, d, req, user, action == "approve")
			return
		default:
			d.View, d.Error = "consent", "Choose Allow or Deny."
			s.render(w, http.StatusBadRequest, d)
			return
		}
	}

	switch {
	case c.Decided != nil:
		d.View, d.Outcome = "outcome", string(c.Decided.State)
		d.Message = fmt.Sprintf("This request was already %s on %s; it cannot be decided again. If the app still needs access, let it ask again.",
			c.Decided.State, day(c.Decided.DecidedAt))
		s.render(w, http.StatusConflict, d)
	case user == "":
		d.View, d.CSRF = "signin", s.csrf().token(s.preSession(w, r))
		s.render(w, http.StatusOK, d)
	default:
		d.View = "consent"
		s.render(w, http.StatusOK, d)
	}
}

// decide records the user's choice and shows the outcome.
func (s *Server) decide(w http.ResponseWriter, r *http.Request, d pageData, req appauth.Request, user string, approve bool) {
	svc := s.deps.AppAuth.Service
	var a storage.AppAuthorization
	var err error
	action := "appauth.deny"
	if approve {
		action = "appauth.approve"
		a, err = svc.Approve(r.Context(), req, user)
	} else {
		a, err = svc.Deny(r.Context(), req, user)
	}
	outcome := "ok"
	if err != nil {
		outcome = "refused: " + err.Error()
	}
	s.deps.Audit.Record(storage.AuditEvent{Action: action, Outcome: outcome, Actor: user, Subject: user, ClientHost: s.clients.host(r),
		Detail: fmt.Sprintf("authorization=%d vendor=%s parent_token=%d app=%q machine=%q", a.ID, d.Consent.Vendor, req.TokenID, req.AppName, req.MachineCode)})
	d.View = "consent"
	switch {
	case errors.Is(err, appauth.ErrDecided):
		d.View, d.Message = "outcome", "This request was already decided; it cannot be decided again."
		s.render(w, http.StatusConflict, d)
	case errors.Is(err, appauth.ErrDeviceLimit):
		d.Consent.Refusal = "This device cannot be added: your customer account has reached its device limit. Remove a device you no longer use on your authorized apps page, then reload this page."
		s.render(w, http.StatusConflict, d)
	case errors.Is(err, appauth.ErrNoCustomer):
		d.Consent.Refusal = "Your account is not linked to a customer account at " + d.Consent.Vendor + ", so this app cannot find your licenses. Ask " + d.Consent.Vendor + " to link it."
		s.render(w, http.StatusForbidden, d)
	case errors.Is(err, appauth.ErrParent), errors.Is(err, license.ErrInvalidInput), errors.Is(err, license.ErrProductNotFound):
		d.Error = "This request cannot be granted any more; nothing was authorized."
		s.render(w, http.StatusBadRequest, d)
	case err != nil:
		s.pageError(w, r, err)
	case approve:
		d.View, d.Outcome = "outcome", "approved"
		d.Message = fmt.Sprintf("Allowed. %s receives its access within a minute; you can close this page.", req.AppName)
		s.render(w, http.StatusOK, d)
	default:
		d.View, d.Outcome = "outcome", "denied"
		d.Message = fmt.Sprintf("Denied. %s gets no access.", req.AppName)
		s.render(w, http.StatusOK, d)
	}
}

func (s *Server) consentView(c appauth.Consent) *consentView {
	v := &consentView{AppName: c.Request.AppName, Vendor: c.Parent.Vendor, TokenName: c.Parent.Name, DeviceName: c.Request.DeviceName,
		MachineCode: c.Request.MachineCode, UserLogin: c.Request.UserLogin(), Capped: c.Grant.Capped, AskedDays: c.Request.Days,
		Days: int(c.Grant.Lifetime.Round(time.Hour) / (24 * time.Hour)), ExpiresAt: day(c.ExpiresAt), Unsupported: c.Request.Scope.Unsupported}
	if c.Product != nil {
		v.Product = c.Product.Name
	}
	for _, m := range c.Grant.Methods {
		v.Permissions = append(v.Permissions, permissionText[m])
	}
	for _, m := range c.Grant.Withheld {
		v.Withheld = append(v.Withheld, permissionText[m])
	}
	for _, cu := range c.Customers {
		n := cu.Name
		switch {
		case cu.MaxNoOfDevices == 1:
			n += " (at most 1 device)"
		case cu.MaxNoOfDevices > 1:
			n += fmt.Sprintf(" (at most %d devices)", cu.MaxNoOfDevices)
		}
		v.Customers = append(v.Customers, n)
	}
	switch {
	case errors.Is(c.Refusal, appauth.ErrNoCustomer):
		v.Refusal = "Your account is not linked to a customer account at " + v.Vendor + ", so this app cannot find your licenses. Ask " + v.Vendor + " to link it."
	case errors.Is(c.Refusal, appauth.ErrDeviceLimit):
		v.Refusal = "This device cannot be added: " + reason(c.Refusal, appauth.ErrDeviceLimit) + " Remove a device you no longer use on your authorized apps page, then reload this page."
	case c.Refusal != nil:
		v.Refusal = "This request cannot be approved now."
	}
	return v
}

func (s *Server) authorizedAppsPage(w http.ResponseWriter, r *http.Request) {
	svc, ctx := s.deps.AppAuth.Service, r.Context()
	d := pageData{Title: "Your authorized apps"}
	user, binding := s.pageUser(r)
	d.User, d.CSRF = user, s.csrf().token(binding)
	if r.Method == http.MethodPost {
		if !s.pageForm(w, r) {
			return
		}
		action := r.PostForm.Get("action")
		switch {
		case action == "signin":
			s.pageSignIn(w, r, d)
			return
		case user == "":
			d.View, d.Error, d.CSRF = "signin", "Sign in first.", s.csrf().token(s.preSession(w, r))
			s.render(w, http.StatusUnauthorized, d)
			return
		case !s.csrf().valid(binding, r.PostForm.Get("csrf")):
			d.Error = msgStaleForm
			s.renderApps(w, r, d, http.StatusForbidden)
			return
		case action == "signout":
			s.pageSignOut(w, r)
			return
		case action == "revoke":
			id, _ := strconv.ParseInt(r.PostForm.Get("id"), 10, 64)
			a, err := svc.Revoke(ctx, id, user)
			if errors.Is(err, appauth.ErrNotFound) {
				d.Error = "No such authorization of yours."
				s.renderApps(w, r, d, http.StatusNotFound)
				return
			}
			if err != nil {
				s.pageError(w, r, err)
				return
			}
			s.deps.Audit.Record(storage.AuditEvent{Action: "appauth.revoke", Outcome: "ok", Actor: user, Subject: user, ClientHost: s.clients.host(r),
				Detail: fmt.Sprintf("authorization=%d api_token=%d app=%q", a.ID, a.ChildTokenID, a.AppName)})
		case action == "remove-device":
			customer, _ := strconv.ParseInt(r.PostForm.Get("customer"), 10, 64)
			machine := r.PostForm.Get("machine")
			n, err := svc.RemoveDevice(ctx, customer, machine, user)
			if errors.Is(err, appauth.ErrNotFound) {
				d.Error = "No such device of yours."
				s.renderApps(w, r, d, http.StatusNotFound)
				return
			}
			if err != nil {
				s.pageError(w, r, err)
				return
			}
			s.deps.Audit.Record(storage.AuditEvent{Action: "appauth.device.remove", Outcome: "ok", Actor: user, Subject: user,
				ClientHost: s.clients.host(r), Detail: fmt.Sprintf("customer=%d machine=%q authorizations_revoked=%d", customer, machine, n)})
		default:
			d.Error = "Unknown action."
			s.renderApps(w, r, d, http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, pathAuthorizedApps, http.StatusSeeOther)
		return
	}
	if user == "" {
		d.View, d.CSRF = "signin", s.csrf().token(s.preSession(w, r))
		s.render(w, http.StatusOK, d)
		return
	}
	s.renderApps(w, r, d, http.StatusOK)
}

func (s *Server) renderApps(w http.ResponseWriter, r *http.Request, d pageData, status int) {
	svc, ctx := s.deps.AppAuth.Service, r.Context()
	list, err := svc.List(ctx, storage.AppAuthorizationFilter{User: d.User, Limit: 200})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	devs, err := svc.Devices(ctx, d.User)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.View = "apps"
	for _, a := range list {
		v := appView{ID: a.ID, AppName: a.AppName, Vendor: a.Vendor, DeviceName: a.DeviceName, MachineCode: a.MachineCode,
			Since: day(a.DecidedAt), State: svc.State(a)}
		for _, p := range a.Permissions {
			v.Permissions = append(v.Permissions, permissionText[license.Method(p)])
		}
		if a.ChildTokenID != 0 {
			v.Until = day(a.TokenExpiresAt)
		}
		v.Revocable = v.State == "active" || v.State == "waiting for the app"
		d.Apps = append(d.Apps, v)
	}
	for _, dev := range devs {
		d.Devices = append(d.Devices, deviceView{AppDevice: dev, Since: day(dev.RegisteredAt)})
	}
	s.render(w, status, d)
}
