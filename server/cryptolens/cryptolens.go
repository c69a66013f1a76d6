// Package cryptolens serves Cryptolens Web API 3 under /api/: the key methods (Activate, GetKey, Deactivate,
// CreateKey, …), auth/KeyLock and the app-authorization methods (appauth.go), for Cryptolens' own client
// libraries pointed at us. Parameters come as a form POST (what every SDK sends) or a GET query, with names in
// any case. Every answer is HTTP 200 with a JSON body: {"result":0,…} on success, {"result":1,"message":"…"}
// with Cryptolens' exact message on failure (old Java and Go clients drop the body of a non-2xx answer).
package cryptolens

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/appauth"
	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server/internal/reply"
	"github.com/tokenmanager/tokenmanager/server/internal/signlimit"
	"github.com/tokenmanager/tokenmanager/server/internal/surface"
)

// Bounds on a Cryptolens request. Real calls are a few hundred bytes; a data object's StringValue (10,000
// characters, up to 4 bytes each) is the longest value, then AllowedMachines.
const (
	maxBody     = 160 << 10
	maxParams   = 64
	maxNameLen  = 64
	maxValueLen = max(license.MaxAllowedMachinesLen, license.MaxDataObjectStringLen*4)
)

// method answers one method; it returns the success body (without result and message) or an error
// from the license package.
type method func(api *API, ctx context.Context, c *call) (any, error)

// methods are the methods by lower-case path below /api/. Other surfaces of this API (auth/GetToken,
// User/GetLicenseKeys, …) add their entries here.
var methods = map[string]struct {
	perm license.Method // checked before the parameters are read; "" when the method checks its own rule
	fn   method
}{
	"key/activate":       {license.MethodActivate, (*API).activate},
	"key/getkey":         {license.MethodGetKey, (*API).getKey},
	"key/deactivate":     {license.MethodDeactivate, (*API).deactivate},
	"key/createkey":      {license.MethodCreateKey, (*API).createKey},
	"key/createtrialkey": {license.MethodCreateTrialKey, (*API).createTrialKey},
	"key/blockkey":       {license.MethodBlockKey, (*API).blockKey},
	"key/unblockkey":     {license.MethodUnblockKey, (*API).unblockKey},
	"key/extendlicense":  {license.MethodExtendLicense, (*API).extendLicense},
	"auth/keylock":       {"", (*API).keyLock},
	// App authorization (appauth.go).
	"auth/getchallenge":   {license.MethodGetToken, (*API).getChallenge},
	"auth/gettoken":       {license.MethodGetToken, (*API).getToken},
	"user/getlicensekeys": {license.MethodGetLicenseKeys, (*API).getLicenseKeys},
	// customer/ and userauth/ (customers.go, userauth.go) add theirs at init.
}

// Deps are the core services behind the API.
type Deps struct {
	License *license.Service
	// AppAuth serves the app-authorization methods; nil answers them "No such method.".
	AppAuth *appauth.Service
	// Auth checks userauth/Login's passwords.
	Auth *auth.Authenticator
	// SignLimits limits the signed answers; the server shares it with its other licensing surfaces.
	SignLimits *signlimit.Limiter
}

// API serves the Cryptolens Web API over the licensing core.
type API struct {
	Deps
	env *surface.Env
}

// New returns the API over deps.
func New(env *surface.Env, deps Deps) *API { return &API{Deps: deps, env: env} }

// Mount adds /api/.
func (api *API) Mount(mux *http.ServeMux) { mux.HandleFunc("/api/", api.serve) }

// Cryptolens' messages, byte for byte: its SDKs compare them.
const (
	MsgUnauthenticated = "Unable to authenticate."
	msgAccessDenied    = "Access denied."
	MsgBadInput        = "The input parameters were incorrect."
	msgNoProduct       = "Could not find the product."
	msgNoKey           = "Could not find the key."
	msgBlocked         = "The key is blocked and cannot be accessed."
	msgLimit           = "Cannot activate the new device as the limit has been reached."
	msgNotActivated    = "Either the machine code was never activated or key activation feature was never set up."
	msgNoCustomer      = "Customer not found."
	msgServerError     = "Something went wrong. Please contact support."
	// msgUnavailable is ours (Cryptolens has none): sent with HTTP 503 and Retry-After while the database is
	// unavailable, where the SDKs' callers should retry rather than treat the key as invalid.
	msgUnavailable = "The service is temporarily unavailable. Please try again later."
)

// message maps a license error to Cryptolens' message; anything else is logged as ours.
func (api *API) message(ctx context.Context, err error) string {
	if m := (*messageError)(nil); errors.As(err, &m) {
		return m.msg
	}
	if msg, ok := Message(err); ok {
		return msg
	}
	api.env.InternalError(ctx, err)
	return msgServerError
}

// Message is Cryptolens' message for a licensing error, the one translation the Cryptolens wire and the
// SOAP LicenseService share; false for an error that is not the caller's (a failure of ours).
func Message(err error) (string, bool) {
	if msg, ok := dataMessage(err); ok {
		return msg, true
	}
	if msg, ok := keyMessage(err); ok { // keys.go
		return msg, true
	}
	switch {
	case errors.Is(err, license.ErrUnauthenticated):
		return MsgUnauthenticated, true
	case errors.Is(err, license.ErrAccessDenied), errors.Is(err, license.ErrNotVendor):
		return msgAccessDenied, true
	case errors.Is(err, license.ErrInvalidInput):
		return MsgBadInput, true
	case errors.Is(err, license.ErrProductNotFound):
		return msgNoProduct, true
	case errors.Is(err, license.ErrKeyNotFound):
		return msgNoKey, true
	case errors.Is(err, license.ErrKeyBlocked):
		return msgBlocked, true
	case errors.Is(err, license.ErrMachineLimit):
		return msgLimit, true
	case errors.Is(err, license.ErrNotActivated):
		return msgNotActivated, true
	case errors.Is(err, license.ErrCustomerNotFound):
		return msgNoCustomer, true
	}
	return "", false
}

type result struct {
	Result  int    `json:"result"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	reply.JSON(w, status, result{Result: 1, Message: msg})
}

// call is one request's parameters and caller.
type call struct {
	params   map[string]string
	access   *license.Access
	clientIP string
	r        *http.Request
	err      error // the first bad parameter
}

func (api *API) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeError(w, http.StatusMethodNotAllowed, "Use GET or POST.")
		return
	}
	name := strings.ToLower(strings.Trim(strings.TrimPrefix(r.URL.Path, "/api/"), "/"))
	m, ok := methods[name]
	if !ok {
		api.count("other", "no_such_method")
		writeError(w, http.StatusNotFound, "No such method.")
		return
	}
	params, err := api.readParams(w, r)
	if err != nil {
		api.count(name, "bad_input")
		writeError(w, http.StatusOK, MsgBadInput)
		return
	}
	ctx := license.WithClient(r.Context(), api.env.Clients.Host(r))
	c := &call{params: params, clientIP: api.env.Clients.Host(r), r: r}
	// Guessing access tokens is throttled per client address (no account: a token names none). Only failures
	// count, and the token is checked first (a hash and one indexed read), so a valid token is answered even from
	// an address, such as a shared NAT, where others have failed.
	if c.access, err = api.License.Authenticate(ctx, params["token"]); errors.Is(err, license.ErrUnauthenticated) {
		if te := api.env.SignIn.Throttled(r, "", ""); te != nil {
			api.count(name, "throttled")
			reply.RetryAfter(w.Header(), te.RetryAfter)
			writeError(w, http.StatusTooManyRequests, MsgUnauthenticated)
			return
		}
		api.env.SignIn.Failed(r, "", "", "bad_license_token")
	}
	if err == nil && m.perm != "" {
		err = c.access.Allow(m.perm)
	}
	var body any
	if err == nil {
		body, err = m.fn(api, ctx, c)
	}
	if err == nil && c.err != nil {
		err = c.err
	}
	api.logCall(name, c, err)
	if limited := (*signlimit.LimitedError)(nil); errors.As(err, &limited) {
		reply.RetryAfter(w.Header(), limited.Wait)
		writeError(w, http.StatusTooManyRequests, limited.Message())
		return
	}
	if surface.Unavailable(err) {
		writeError(w, api.env.Failure(ctx, w.Header(), err), msgUnavailable)
		return
	}
	if err != nil {
		writeError(w, http.StatusOK, api.message(ctx, err))
		return
	}
	reply.JSON(w, http.StatusOK, body)
}

// readParams reads the body (when it is a form) and the query, bounded; body values win.
func (api *API) readParams(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	var body string
	if r.Method == http.MethodPost && r.Body != nil {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct != "" && ct != "application/x-www-form-urlencoded" {
			return nil, fmt.Errorf("content type %q", ct)
		}
		limit := min(api.env.MaxBodyBytes, maxBody)
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		if err != nil {
			return nil, err
		}
		body = string(b)
	}
	return ParseParams(body, r.URL.RawQuery)
}

// ParseParams decodes url-encoded sources in order, folding names to lower case; the first value of
// a name wins. It bounds the number of parameters and the length of names and values.
func ParseParams(sources ...string) (map[string]string, error) {
	out := map[string]string{}
	n := 0
	for _, src := range sources {
		for part := range strings.SplitSeq(src, "&") {
			if part == "" {
				continue
			}
			if n++; n > maxParams {
				return nil, errors.New("too many parameters")
			}
			rawName, rawValue, _ := strings.Cut(part, "=")
			if len(rawName) > 3*maxNameLen || len(rawValue) > 3*maxValueLen {
				return nil, errors.New("parameter too long")
			}
			name, err := url.QueryUnescape(rawName)
			if err != nil {
				return nil, err
			}
			value, err := url.QueryUnescape(rawValue)
			if err != nil {
				return nil, err
			}
			if name == "" || len(name) > maxNameLen || len(value) > maxValueLen {
				return nil, errors.New("parameter name empty or too long, or value too long")
			}
			name = asciiLower(name)
			if _, dup := out[name]; !dup {
				out[name] = value
			}
		}
	}
	return out, nil
}

// asciiLower folds A-Z only: parameter names are ASCII, and folding other bytes (invalid UTF-8 included)
// could change a name's length.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// str returns a parameter; "null" counts as absent, because JavaScript clients (the Node SDK among them)
// send their null defaults as the string "null".
func (c *call) str(name string) string {
	v := c.params[asciiLower(name)]
	if strings.TrimSpace(v) == "null" {
		return ""
	}
	return v
}

func (c *call) fail(name, v string) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: parameter %s=%.40q", license.ErrInvalidInput, name, v)
	}
}

// int64 reads an integer parameter; absent gives def.
func (c *call) int64(name string, def int64) int64 {
	v := strings.TrimSpace(c.str(name))
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		c.fail(name, v)
	}
	return n
}

func (c *call) int(name string, def int) int {
	n := c.int64(name, int64(def))
	if n < -1<<31 || n > 1<<31-1 {
		c.fail(name, strconv.FormatInt(n, 10))
		return def
	}
	return int(n)
}

// bool reads a boolean as the SDKs write it: True/False (.NET), true/false, 1/0.
func (c *call) bool(name string) bool {
	switch v := strings.ToLower(strings.TrimSpace(c.str(name))); v {
	case "", "false", "0":
		return false
	case "true", "1":
		return true
	default:
		c.fail(name, v)
		return false
	}
}

// required reads a parameter that must be present.
func (c *call) required(name string) string {
	v := c.str(name)
	if strings.TrimSpace(v) == "" {
		c.fail(name, v)
	}
	return v
}

// productID reads the ProductId every method takes.
func (c *call) productID() int64 {
	id := c.int64("ProductId", 0)
	if id <= 0 {
		c.fail("ProductId", c.str("ProductId"))
	}
	return id
}

// signMethod reads SignMethod: 0 or LinqSign, 1 or StringSign (the .NET SDK sends the enum's name).
func (c *call) signMethod() int {
	switch v := strings.ToLower(strings.TrimSpace(c.str("SignMethod"))); v {
	case "", "0", "linqsign":
		return 0
	case "1", "stringsign":
		return 1
	default:
		c.fail("SignMethod", v)
		return 0
	}
}

// licenseResult is Activate's and GetKey's answer. licenseKey is base64 of the license JSON in every case;
// signature is set when Sign=true and null otherwise, as Cryptolens answers, and only then is anything signed
// (an RSA private-key operation, limited per token and per address: package signlimit). Only SignMethod=1
// (StringSign) is produced: every current SDK asks for it, and the older LinqSign form (.NET DateTime fields,
// signature inside the object) is not implemented.
type licenseResult struct {
	Result     int       `json:"result"`
	Message    string    `json:"message"`
	LicenseKey string    `json:"licenseKey"`
	Signature  *string   `json:"signature"`
	Metadata   *metadata `json:"metadata,omitempty"`
}

// metadata is the metadata object; its signature, like the license's, is null unless Sign=true.
type metadata struct {
	license.Metadata
	Signature *string `json:"signature"` // hides Metadata.Signature
}

// answerSpec is how Activate and GetKey are asked to answer; read before the call so that a bad parameter
// changes nothing.
type answerSpec struct{ sign, metadata bool }

func (c *call) answer() answerSpec {
	a := answerSpec{sign: c.bool("Sign"), metadata: c.bool("Metadata")}
	c.signMethod() // validated; StringSign is what we answer
	return a
}

// allowSign checks the signing limits when the answer is to be signed, before the call changes anything.
func (api *API) allowSign(c *call, ans answerSpec) error {
	if !ans.sign {
		return nil
	}
	if e := api.SignLimits.Allow(c.r.Context(), c.access, c.clientIP, api.env.Now()); e != nil {
		return e
	}
	return nil
}

func (api *API) licenseAnswer(ans answerSpec, l license.License) (any, error) {
	var out licenseResult
	if ans.sign {
		signed, err := api.License.Sign(l)
		if err != nil {
			return nil, err
		}
		sig := base64.StdEncoding.EncodeToString(signed.Signature)
		out.LicenseKey, out.Signature = base64.StdEncoding.EncodeToString(signed.LicenseKey), &sig
	} else {
		body, err := license.LicenseJSON(l, api.License.Now())
		if err != nil {
			return nil, err
		}
		out.LicenseKey = base64.StdEncoding.EncodeToString(body)
	}
	if ans.metadata {
		md := &metadata{Metadata: license.LicenseMetadata(l)}
		if ans.sign {
			signed, err := api.License.SignedMetadata(l)
			if err != nil {
				return nil, err
			}
			md.Metadata, md.Signature = signed, &signed.Signature
		}
		out.Metadata = md
	}
	return out, nil
}

func (c *call) fieldMask() license.FieldMask {
	n := c.int64("FieldsToReturn", 0)
	if n < 0 {
		c.fail("FieldsToReturn", strconv.FormatInt(n, 10))
	}
	return license.FieldMask(n)
}

func (api *API) activate(ctx context.Context, c *call) (any, error) {
	req := license.ActivateRequest{ProductID: c.productID(), Key: c.required("Key"), MachineCode: c.str("MachineCode"),
		FriendlyName: c.str("FriendlyName"), IP: c.clientIP, Hide: c.fieldMask(), MaxOverdraft: c.int("MaxOverdraft", 0)}
	interval := c.int64("FloatingTimeInterval", 0)
	if interval < 0 || interval > int64(license.MaxFloatingInterval/time.Second) {
		c.fail("FloatingTimeInterval", strconv.FormatInt(interval, 10))
	}
	req.FloatingInterval = time.Duration(interval) * time.Second
	ans := c.answer()
	if c.err != nil {
		return nil, c.err
	}
	if err := api.allowSign(c, ans); err != nil {
		return nil, err
	}
	l, err := api.License.Activate(ctx, c.access, req)
	if err != nil {
		return nil, err
	}
	return api.licenseAnswer(ans, l)
}

func (api *API) getKey(ctx context.Context, c *call) (any, error) {
	pid, key, hide := c.productID(), c.required("Key"), c.fieldMask()
	c.int64("FloatingTimeInterval", 0) // accepted: floating seats carry their own expiry
	ans := c.answer()
	if c.err != nil {
		return nil, c.err
	}
	if err := api.allowSign(c, ans); err != nil {
		return nil, err
	}
	l, err := api.License.GetKey(ctx, c.access, pid, key, hide)
	if err != nil {
		return nil, err
	}
	return api.licenseAnswer(ans, l)
}

func (api *API) deactivate(ctx context.Context, c *call) (any, error) {
	req := license.DeactivateRequest{ProductID: c.productID(), Key: c.required("Key"), MachineCode: c.str("MachineCode"),
		Floating: c.bool("Floating")}
	if c.err != nil {
		return nil, c.err
	}
	return result{}, api.License.Deactivate(ctx, c.access, req)
}

type createKeyResult struct {
	Result     int      `json:"result"`
	Message    string   `json:"message"`
	Key        string   `json:"key"`
	Keys       []string `json:"keys,omitempty"` // NoOfKeys > 1: every key, the first also in key
	CustomerID int64    `json:"customerId,omitempty"`
}

func (api *API) createKey(ctx context.Context, c *call) (any, error) {
	pid := c.productID()
	spec := license.KeySpec{Period: c.int("Period", 0), Notes: c.str("Notes"), Blocked: c.bool("Block"),
		CustomerID: c.int64("CustomerId", 0), TrialActivation: c.bool("TrialActivation"),
		MaxNoOfMachines: c.int("MaxNoOfMachines", 0), AllowedMachines: c.str("AllowedMachines"),
		NoOfKeys: c.int("NoOfKeys", 1), AddOrUseExistingCustomer: c.bool("AddOrUseExistingCustomer"),
		ResellerID: c.int64("ResellerId", 0)}
	for i := range spec.Features {
		spec.Features[i] = c.bool(fmt.Sprintf("F%d", i+1))
	}
	if c.bool("NewCustomer") || spec.AddOrUseExistingCustomer {
		spec.NewCustomer = &license.CustomerSpec{Name: c.str("Name"), Email: c.str("Email"), Company: c.str("CompanyName")}
	}
	if c.err != nil {
		return nil, c.err
	}
	created, err := api.License.CreateKey(ctx, c.access, pid, spec)
	if err != nil {
		return nil, err
	}
	out := createKeyResult{Key: created.Key.Key}
	if len(created.Keys) > 1 {
		for _, k := range created.Keys {
			out.Keys = append(out.Keys, k.Key)
		}
	}
	if created.Customer != nil {
		out.CustomerID = created.Customer.ID
	}
	return out, nil
}

type keyResult struct {
	Result  int    `json:"result"`
	Message string `json:"message"`
	Key     string `json:"key"`
}

func (api *API) createTrialKey(ctx context.Context, c *call) (any, error) {
	pid, mc := c.productID(), c.required("MachineCode")
	if c.err != nil {
		return nil, c.err
	}
	k, err := api.License.CreateTrialKey(ctx, c.access, pid, mc)
	if err != nil {
		return nil, err
	}
	return keyResult{Key: k.Key}, nil
}

func (api *API) block(ctx context.Context, c *call, blocked bool) (any, error) {
	pid, key := c.productID(), c.required("Key")
	if c.err != nil {
		return nil, c.err
	}
	return result{}, api.License.BlockKey(ctx, c.access, pid, key, blocked)
}

func (api *API) blockKey(ctx context.Context, c *call) (any, error) {
	return api.block(ctx, c, true)
}

func (api *API) unblockKey(ctx context.Context, c *call) (any, error) {
	return api.block(ctx, c, false)
}

func (api *API) extendLicense(ctx context.Context, c *call) (any, error) {
	pid, key, n := c.productID(), c.required("Key"), c.int("NoOfDays", 0)
	if c.err != nil {
		return nil, c.err
	}
	return result{}, api.License.ExtendLicense(ctx, c.access, pid, key, n)
}

type keyLockResult struct {
	KeyID   int64  `json:"keyId"`
	Token   string `json:"token"`
	Result  int    `json:"result"`
	Message string `json:"message"`
}

func (api *API) keyLock(ctx context.Context, c *call) (any, error) {
	pid, key := c.productID(), c.required("Key")
	if c.err != nil {
		return nil, c.err
	}
	issued, keyID, err := api.License.KeyLock(ctx, c.access, pid, key)
	if err != nil {
		return nil, err
	}
	return keyLockResult{KeyID: keyID, Token: issued.Token}, nil
}
