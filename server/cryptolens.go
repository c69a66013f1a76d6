package server

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

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

// Cryptolens Web API 3 under /api/: the key methods and auth/KeyLock, for Cryptolens' own client libraries
// pointed at us. Parameters come as a form POST (what every SDK sends) or a GET query, with names in any case.
// Every answer is HTTP 200 with a JSON body: {"result":0,…} on success, {"result":1,"message":"…"} with
// Cryptolens' exact message on failure (old Java and Go clients drop the body of a non-2xx answer).

// Bounds on a Cryptolens request. Real calls are a few hundred bytes; AllowedMachines is the longest value.
const (
	cryptolensMaxBody     = 64 << 10
	cryptolensMaxParams   = 64
	cryptolensMaxNameLen  = 64
	cryptolensMaxValueLen = license.MaxAllowedMachinesLen
)

// cryptolensMethod answers one method; it returns the success body (without result and message) or an error
// from the license package.
type cryptolensMethod func(s *Server, ctx context.Context, c *cryptolensCall) (any, error)

// cryptolensMethods are the methods by lower-case path below /api/. Other surfaces of this API (auth/GetToken,
// User/GetLicenseKeys, …) add their entries here.
var cryptolensMethods = map[string]struct {
	perm license.Method // checked before the parameters are read; "" when the method checks its own rule
	fn   cryptolensMethod
}{
	"key/activate":       {license.MethodActivate, (*Server).clActivate},
	"key/getkey":         {license.MethodGetKey, (*Server).clGetKey},
	"key/deactivate":     {license.MethodDeactivate, (*Server).clDeactivate},
	"key/createkey":      {license.MethodCreateKey, (*Server).clCreateKey},
	"key/createtrialkey": {license.MethodCreateTrialKey, (*Server).clCreateTrialKey},
	"key/blockkey":       {license.MethodBlockKey, (*Server).clBlockKey},
	"key/unblockkey":     {license.MethodUnblockKey, (*Server).clUnblockKey},
	"key/extendlicense":  {license.MethodExtendLicense, (*Server).clExtendLicense},
	"auth/keylock":       {"", (*Server).clKeyLock},
	// App authorization (appauth_api.go).
	"auth/getchallenge":   {license.MethodGetToken, (*Server).clGetChallenge},
	"auth/gettoken":       {license.MethodGetToken, (*Server).clGetToken},
	"user/getlicensekeys": {license.MethodGetLicenseKeys, (*Server).clGetLicenseKeys},
	"userauth/login":      {license.MethodGetToken, (*Server).clUserLogin},
	// Key changes, templates, product listings (cryptolens_keys.go).
	"key/addfeature":            {license.MethodAddFeature, (*Server).clAddFeature},
	"key/removefeature":         {license.MethodRemoveFeature, (*Server).clRemoveFeature},
	"key/changenotes":           {license.MethodChangeNotes, (*Server).clChangeNotes},
	"key/changecustomer":        {license.MethodChangeCustomer, (*Server).clChangeCustomer},
	"key/changereseller":        {license.MethodChangeReseller, (*Server).clChangeReseller},
	"key/machinelocklimit":      {license.MethodMachineLockLimit, (*Server).clMachineLockLimit},
	"key/createkeyfromtemplate": {license.MethodCreateKeyFromTemplate, (*Server).clCreateKeyFromTemplate},
	"product/getproducts":       {license.MethodGetProducts, (*Server).clGetProducts},
	"product/getkeys":           {license.MethodGetKeys, (*Server).clGetKeys},
}

func (s *Server) routeCryptolens() {
	if s.deps.License == nil {
		return
	}
	s.mux.HandleFunc("/api/", s.cryptolensAPI)
}

// Cryptolens' messages, byte for byte: its SDKs compare them.
const (
	clMsgUnauthenticated = "Unable to authenticate."
	clMsgAccessDenied    = "Access denied."
	clMsgBadInput        = "The input parameters were incorrect."
	clMsgNoProduct       = "Could not find the product."
	clMsgNoKey           = "Could not find the key."
	clMsgBlocked         = "The key is blocked and cannot be accessed."
	clMsgLimit           = "Cannot activate the new device as the limit has been reached."
	clMsgNotActivated    = "Either the machine code was never activated or key activation feature was never set up."
	clMsgNoCustomer      = "Customer not found."
	clMsgServerError     = "Something went wrong. Please contact support."
)

// cryptolensMessage maps a license error to Cryptolens' message; anything else is logged as ours.
func (s *Server) cryptolensMessage(ctx context.Context, err error) string {
	if m := (*clMessageError)(nil); errors.As(err, &m) {
		return m.msg
	}
	if msg, ok := licenseMessage(err); ok {
		return msg
	}
	s.internalError(ctx, err)
	return clMsgServerError
}

// licenseMessage is Cryptolens' message for a licensing error, the one translation the Cryptolens wire and the
// SOAP LicenseService share; false for an error that is not the caller's (a failure of ours).
func licenseMessage(err error) (string, bool) {
	switch {
	case errors.Is(err, license.ErrUnauthenticated):
		return clMsgUnauthenticated, true
	case errors.Is(err, license.ErrAccessDenied), errors.Is(err, license.ErrNotVendor):
		return clMsgAccessDenied, true
	case errors.Is(err, license.ErrInvalidInput):
		return clMsgBadInput, true
	case errors.Is(err, license.ErrProductNotFound):
		return clMsgNoProduct, true
	case errors.Is(err, license.ErrKeyNotFound):
		return clMsgNoKey, true
	case errors.Is(err, license.ErrKeyBlocked):
		return clMsgBlocked, true
	case errors.Is(err, license.ErrMachineLimit):
		return clMsgLimit, true
	case errors.Is(err, license.ErrNotActivated):
		return clMsgNotActivated, true
	case errors.Is(err, license.ErrCustomerNotFound):
		return clMsgNoCustomer, true
	// Resellers and license templates (cryptolens_keys.go).
	case errors.Is(err, license.ErrResellerNotFound):
		return clMsgNoReseller, true
	case errors.Is(err, license.ErrTemplateNotFound):
		return clMsgNoTemplate, true
	}
	return "", false
}

type clResult struct {
	Result  int    `json:"result"`
	Message string `json:"message"`
}

func writeCryptolensError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, clResult{Result: 1, Message: msg})
}

// cryptolensCall is one request's parameters and caller.
type cryptolensCall struct {
	params   map[string]string
	access   *license.Access
	clientIP string
	r        *http.Request
	err      error // the first bad parameter
}

func (s *Server) cryptolensAPI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeCryptolensError(w, http.StatusMethodNotAllowed, "Use GET or POST.")
		return
	}
	name := strings.ToLower(strings.Trim(strings.TrimPrefix(r.URL.Path, "/api/"), "/"))
	m, ok := cryptolensMethods[name]
	if !ok {
		writeCryptolensError(w, http.StatusNotFound, "No such method.")
		return
	}
	params, err := s.cryptolensParams(w, r)
	if err != nil {
		writeCryptolensError(w, http.StatusOK, clMsgBadInput)
		return
	}
	ctx := r.Context()
	c := &cryptolensCall{params: params, clientIP: s.clients.host(r), r: r}
	// Guessing access tokens is throttled per client address (no account: a token names none). Only failures
	// count, and the token is checked first (a hash and one indexed read), so a valid token is answered even from
	// an address, such as a shared NAT, where others have failed.
	if c.access, err = s.deps.License.Authenticate(ctx, params["token"]); errors.Is(err, license.ErrUnauthenticated) {
		if te := s.throttled(r, "", ""); te != nil {
			retryAfter(w.Header(), te.RetryAfter)
			writeCryptolensError(w, http.StatusTooManyRequests, clMsgUnauthenticated)
			return
		}
		s.failedSignIn(r, "", "", "bad_license_token")
	}
	if err == nil && m.perm != "" {
		err = c.access.Allow(m.perm)
	}
	var body any
	if err == nil {
		body, err = m.fn(s, ctx, c)
	}
	if err == nil && c.err != nil {
		err = c.err
	}
	if limited := (*signLimitedError)(nil); errors.As(err, &limited) {
		retryAfter(w.Header(), limited.wait)
		writeCryptolensError(w, http.StatusTooManyRequests, limited.message())
		return
	}
	if err != nil {
		writeCryptolensError(w, http.StatusOK, s.cryptolensMessage(ctx, err))
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// cryptolensParams reads the body (when it is a form) and the query, bounded; body values win.
func (s *Server) cryptolensParams(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	var body string
	if r.Method == http.MethodPost && r.Body != nil {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct != "" && ct != "application/x-www-form-urlencoded" {
			return nil, fmt.Errorf("content type %q", ct)
		}
		limit := min(s.cfg.MaxBodyBytes, cryptolensMaxBody)
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		if err != nil {
			return nil, err
		}
		body = string(b)
	}
	return parseCryptolensParams(body, r.URL.RawQuery)
}

// parseCryptolensParams decodes url-encoded sources in order, folding names to lower case; the first value of
// a name wins. It bounds the number of parameters and the length of names and values.
func parseCryptolensParams(sources ...string) (map[string]string, error) {
	out := map[string]string{}
	n := 0
	for _, src := range sources {
		for part := range strings.SplitSeq(src, "&") {
			if part == "" {
				continue
			}
			if n++; n > cryptolensMaxParams {
				return nil, errors.New("too many parameters")
			}
			rawName, rawValue, _ := strings.Cut(part, "=")
			if len(rawName) > 3*cryptolensMaxNameLen || len(rawValue) > 3*cryptolensMaxValueLen {
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
			if name == "" || len(name) > cryptolensMaxNameLen || len(value) > cryptolensMaxValueLen {
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
func (c *cryptolensCall) str(name string) string {
	v := c.params[asciiLower(name)]
	if strings.TrimSpace(v) == "null" {
		return ""
	}
	return v
}

func (c *cryptolensCall) fail(name, v string) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: parameter %s=%.40q", license.ErrInvalidInput, name, v)
	}
}

// int64 reads an integer parameter; absent gives def.
func (c *cryptolensCall) int64(name string, def int64) int64 {
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

func (c *cryptolensCall) int(name string, def int) int {
	n := c.int64(name, int64(def))
	if n < -1<<31 || n > 1<<31-1 {
		c.fail(name, strconv.FormatInt(n, 10))
		return def
	}
	return int(n)
}

// bool reads a boolean as the SDKs write it: True/False (.NET), true/false, 1/0.
func (c *cryptolensCall) bool(name string) bool {
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
func (c *cryptolensCall) required(name string) string {
	v := c.str(name)
	if strings.TrimSpace(v) == "" {
		c.fail(name, v)
	}
	return v
}

// productID reads the ProductId every method takes.
func (c *cryptolensCall) productID() int64 {
	id := c.int64("ProductId", 0)
	if id <= 0 {
		c.fail("ProductId", c.str("ProductId"))
	}
	return id
}

// signMethod reads SignMethod: 0 or LinqSign, 1 or StringSign (the .NET SDK sends the enum's name).
func (c *cryptolensCall) signMethod() int {
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

// clLicenseResult is Activate's and GetKey's answer. licenseKey is base64 of the license JSON in every case;
// signature is set when Sign=true and null otherwise, as Cryptolens answers, and only then is anything signed
// (an RSA private-key operation, limited per token and per address: signlimit.go). Only SignMethod=1
// (StringSign) is produced: every current SDK asks for it, and the older LinqSign form (.NET DateTime fields,
// signature inside the object) is not implemented.
type clLicenseResult struct {
	Result     int         `json:"result"`
	Message    string      `json:"message"`
	LicenseKey string      `json:"licenseKey"`
	Signature  *string     `json:"signature"`
	Metadata   *clMetadata `json:"metadata,omitempty"`
}

// clMetadata is the metadata object; its signature, like the license's, is null unless Sign=true.
type clMetadata struct {
	license.Metadata
	Signature *string `json:"signature"` // hides Metadata.Signature
}

// clAnswer is how Activate and GetKey are asked to answer; read before the call so that a bad parameter
// changes nothing.
type clAnswer struct{ sign, metadata bool }

func (c *cryptolensCall) answer() clAnswer {
	a := clAnswer{sign: c.bool("Sign"), metadata: c.bool("Metadata")}
	c.signMethod() // validated; StringSign is what we answer
	return a
}

// clAllowSign checks the signing limits when the answer is to be signed, before the call changes anything.
func (s *Server) clAllowSign(c *cryptolensCall, ans clAnswer) error {
	if !ans.sign {
		return nil
	}
	if e := s.allowSign(c.r, c.access); e != nil {
		return e
	}
	return nil
}

func (s *Server) clLicense(ans clAnswer, l license.License) (any, error) {
	var out clLicenseResult
	if ans.sign {
		signed, err := s.deps.License.Sign(l)
		if err != nil {
			return nil, err
		}
		sig := base64.StdEncoding.EncodeToString(signed.Signature)
		out.LicenseKey, out.Signature = base64.StdEncoding.EncodeToString(signed.LicenseKey), &sig
	} else {
		body, err := license.LicenseJSON(l, s.deps.License.Now())
		if err != nil {
			return nil, err
		}
		out.LicenseKey = base64.StdEncoding.EncodeToString(body)
	}
	if ans.metadata {
		md := &clMetadata{Metadata: license.LicenseMetadata(l)}
		if ans.sign {
			signed, err := s.deps.License.SignedMetadata(l)
			if err != nil {
				return nil, err
			}
			md.Metadata, md.Signature = signed, &signed.Signature
		}
		out.Metadata = md
	}
	return out, nil
}

func (c *cryptolensCall) fieldMask() license.FieldMask {
	n := c.int64("FieldsToReturn", 0)
	if n < 0 {
		c.fail("FieldsToReturn", strconv.FormatInt(n, 10))
	}
	return license.FieldMask(n)
}

func (s *Server) clActivate(ctx context.Context, c *cryptolensCall) (any, error) {
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
	if err := s.clAllowSign(c, ans); err != nil {
		return nil, err
	}
	l, err := s.deps.License.Activate(ctx, c.access, req)
	s.auditLicense(c, "license.activate", req.ProductID, req.Key, req.MachineCode, err)
	if err != nil {
		return nil, err
	}
	return s.clLicense(ans, l)
}

// auditLicense records an activation or deactivation, refused or not, naming the key only by its first block
// (a whole license key is a secret of the customer's).
func (s *Server) auditLicense(c *cryptolensCall, action string, product int64, key, machine string, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "refused: " + err.Error()
	}
	prefix, _, _ := strings.Cut(key, "-")
	if len(prefix) > 5 {
		prefix = prefix[:5]
	}
	s.deps.Audit.Record(storage.AuditEvent{Action: action, Outcome: outcome, Actor: c.access.VendorName(), ClientHost: c.clientIP,
		Detail: fmt.Sprintf("product=%d key=%s-… machine=%q", product, prefix, machine)})
}

func (s *Server) clGetKey(ctx context.Context, c *cryptolensCall) (any, error) {
	pid, key, hide := c.productID(), c.required("Key"), c.fieldMask()
	c.int64("FloatingTimeInterval", 0) // accepted: floating seats carry their own expiry
	ans := c.answer()
	if c.err != nil {
		return nil, c.err
	}
	if err := s.clAllowSign(c, ans); err != nil {
		return nil, err
	}
	l, err := s.deps.License.GetKey(ctx, c.access, pid, key, hide)
	if err != nil {
		return nil, err
	}
	return s.clLicense(ans, l)
}

func (s *Server) clDeactivate(ctx context.Context, c *cryptolensCall) (any, error) {
	req := license.DeactivateRequest{ProductID: c.productID(), Key: c.required("Key"), MachineCode: c.str("MachineCode"),
		Floating: c.bool("Floating")}
	if c.err != nil {
		return nil, c.err
	}
	err := s.deps.License.Deactivate(ctx, c.access, req)
	s.auditLicense(c, "license.deactivate", req.ProductID, req.Key, req.MachineCode, err)
	return clResult{}, err
}

type clCreateKeyResult struct {
	Result     int      `json:"result"`
	Message    string   `json:"message"`
	Key        string   `json:"key"`
	Keys       []string `json:"keys,omitempty"` // NoOfKeys > 1: every key, the first also in key
	CustomerID int64    `json:"customerId,omitempty"`
}

func (s *Server) clCreateKey(ctx context.Context, c *cryptolensCall) (any, error) {
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
	created, err := s.deps.License.CreateKey(ctx, c.access, pid, spec)
	if err != nil {
		return nil, err
	}
	s.auditKeyChange(c, "license.key.create", pid, created.Key.Key, fmt.Sprintf("keys=%d", len(created.Keys)))
	out := clCreateKeyResult{Key: created.Key.Key}
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

type clKeyResult struct {
	Result  int    `json:"result"`
	Message string `json:"message"`
	Key     string `json:"key"`
}

func (s *Server) clCreateTrialKey(ctx context.Context, c *cryptolensCall) (any, error) {
	pid, mc := c.productID(), c.required("MachineCode")
	if c.err != nil {
		return nil, c.err
	}
	k, err := s.deps.License.CreateTrialKey(ctx, c.access, pid, mc)
	if err != nil {
		return nil, err
	}
	return clKeyResult{Key: k.Key}, nil
}

func (s *Server) clBlock(ctx context.Context, c *cryptolensCall, blocked bool) (any, error) {
	pid, key := c.productID(), c.required("Key")
	if c.err != nil {
		return nil, c.err
	}
	return clResult{}, s.deps.License.BlockKey(ctx, c.access, pid, key, blocked)
}

func (s *Server) clBlockKey(ctx context.Context, c *cryptolensCall) (any, error) {
	return s.clBlock(ctx, c, true)
}

func (s *Server) clUnblockKey(ctx context.Context, c *cryptolensCall) (any, error) {
	return s.clBlock(ctx, c, false)
}

func (s *Server) clExtendLicense(ctx context.Context, c *cryptolensCall) (any, error) {
	pid, key, n := c.productID(), c.required("Key"), c.int("NoOfDays", 0)
	if c.err != nil {
		return nil, c.err
	}
	return clResult{}, s.deps.License.ExtendLicense(ctx, c.access, pid, key, n)
}

type clKeyLockResult struct {
	KeyID   int64  `json:"keyId"`
	Token   string `json:"token"`
	Result  int    `json:"result"`
	Message string `json:"message"`
}

func (s *Server) clKeyLock(ctx context.Context, c *cryptolensCall) (any, error) {
	pid, key := c.productID(), c.required("Key")
	if c.err != nil {
		return nil, c.err
	}
	issued, keyID, err := s.deps.License.KeyLock(ctx, c.access, pid, key)
	if err != nil {
		return nil, err
	}
	return clKeyLockResult{KeyID: keyID, Token: issued.Token}, nil
}
