// Package woocommerce serves the WooCommerce License Keys wire (10 Quality's "woo-license-keys" plugin and its
// PHP client): the WordPress REST routes (activate, validate, deactivate, token) and the admin-ajax.php form,
// translated to the calls of license/woo. Both handlers answer with the plugin's envelope
// {"error","status","message","errors","data"}; the REST handler sends the envelope's status as the HTTP
// status (and WordPress's own 400/404 errors before the plugin runs), the Ajax handler always 200.
package woocommerce

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/server/internal/credential"
	"github.com/tokenmanager/tokenmanager/server/internal/reply"
	"github.com/tokenmanager/tokenmanager/server/internal/surface"
)

// The plugin's paths.
const (
	restBase = "/wp-json/woo-license-keys/v1/"
	ajaxPath = "/wp-admin/admin-ajax.php"
)

// The plugin's success messages.
const (
	msgActivated   = "License Key activated successfully."
	msgValid       = "License Key is valid."
	msgDeactivated = "Activation has been deactivated."
)

// API is the wire over the WooCommerce mapping of the licensing core (package license/woo).
type API struct {
	env *surface.Env
	woo *woo.Service
}

// New returns the wire over w.
func New(env *surface.Env, w *woo.Service) *API { return &API{env: env, woo: w} }

// Mount adds the REST routes and admin-ajax.php.
func (a *API) Mount(mux *http.ServeMux) {
	for _, op := range RESTOperations {
		h := a.rest(op)
		mux.HandleFunc("GET "+restBase+op, h)
		mux.HandleFunc("POST "+restBase+op, h)
	}
	// The namespace's route index, with and without the trailing slash (WordPress routes both alike).
	mux.HandleFunc(indexPath, a.serveIndex)
	mux.HandleFunc(restBase+"{$}", a.serveIndex)
	mux.HandleFunc(restBase, func(w http.ResponseWriter, r *http.Request) { noRoute(w) })
	mux.HandleFunc("GET "+ajaxPath, a.ajax)
	mux.HandleFunc("POST "+ajaxPath, a.ajax)
}

// --- parameters ---

// params are a request's parameters the way WordPress merges them: the JSON body over the form body over the
// query string. A value is a string, a json.Number, a bool, nil, or array (PHP's name[] or a JSON array or
// object), which is never a valid value here.
type params map[string]any

type array struct{}

// errBody is a body that cannot be read as parameters; WordPress answers it with rest_invalid_json.
var errBody = errors.New("woocommerce: malformed request body")

// readParams reads the query string and a form or JSON body of at most max bytes (a larger body is an
// *http.MaxBytesError).
func readParams(w http.ResponseWriter, r *http.Request, max int64) (params, error) {
	p := params{}
	addForm(p, r.URL.RawQuery)
	if r.Body == nil || r.Method == http.MethodGet {
		return p, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		return nil, err
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "application/json" || (mt == "" && bytes.HasPrefix(bytes.TrimSpace(body), []byte("{"))):
		if len(bytes.TrimSpace(body)) == 0 {
			return p, nil
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil || obj == nil {
			return nil, errBody
		}
		for k, v := range obj {
			switch v.(type) {
			case map[string]any, []any:
				v = array{}
			}
			p[k] = v
		}
	default: // application/x-www-form-urlencoded, or what curl sends without saying
		addForm(p, string(body))
	}
	return p, nil
}

// addForm adds urlencoded pairs as PHP reads them: the last of repeated names wins, and name[...] is an array.
func addForm(p params, raw string) {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(pair, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil || k == "" {
			continue
		}
		if name, _, isArray := strings.Cut(k, "["); isArray {
			p[name] = array{}
			continue
		}
		p[k] = v
	}
}

// str returns a string parameter and whether it is present as a string (JSON numbers are not strings).
func (p params) str(name string) (string, bool) {
	v, ok := p[name].(string)
	return v, ok
}

// text returns a parameter as PHP would read it into a string: strings and numbers; anything else is empty.
func (p params) text(name string) string {
	switch v := p[name].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

var (
	wpSpaces  = regexp.MustCompile(`[\r\n\t ]+`)
	wpTags    = regexp.MustCompile(`<[^>]*>?`)
	wpControl = strings.NewReplacer("\x00", "")
)

// sanitizeText is WordPress's sanitize_text_field, which the plugin applies to every REST parameter: invalid
// UTF-8 is dropped, tags stripped, whitespace runs folded to one space, the ends trimmed and percent-encoded
// octets removed.
func sanitizeText(s string) string {
	if !utf8.ValidString(s) {
		return ""
	}
	s = wpControl.Replace(s)
	if strings.Contains(s, "<") {
		s = wpTags.ReplaceAllString(s, "")
	}
	s = strings.TrimSpace(wpSpaces.ReplaceAllString(s, " "))
	// WordPress removes %XX until none is left ("%%4141" → "%41" → ""); one pass with a stack does the same in
	// linear time.
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		out = append(out, s[i])
		if n := len(out); n >= 3 && out[n-3] == '%' && wpIsHex(out[n-2]) && wpIsHex(out[n-1]) {
			out = out[:n-3]
		}
	}
	return strings.TrimSpace(string(out))
}

func wpIsHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// phpNumeric is PHP's is_numeric for strings: optional surrounding whitespace, a decimal number with an
// optional fraction and exponent; no hex, no "inf".
var phpNumeric = regexp.MustCompile(`^[ \t\n\r\v\f]*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?[ \t\n\r\v\f]*$`)

// absint is WordPress's absint over a numeric value: the absolute value of its integer part (0 when out of range).
func absint(v string) int64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f != f || f > 1<<62 || f < -(1<<62) {
		return 0
	}
	n := int64(f)
	if n < 0 {
		n = -n
	}
	return n
}

// activationID reads activation_id as the REST route does: numeric or refused, then absint.
func (p params) activationID() (int64, bool) {
	switch v := p["activation_id"].(type) {
	case string:
		if !phpNumeric.MatchString(v) {
			return 0, false
		}
		return absint(v), true
	case json.Number:
		return absint(v.String()), true
	}
	return 0, false
}

// --- WordPress's own errors ---

type wpErrorData struct {
	Status int `json:"status"`
	Params any `json:"params,omitempty"`
}

type wpError struct {
	Code    string      `json:"code"`
	Message string      `json:"message"`
	Data    wpErrorData `json:"data"`
}

// restArgNames are the REST routes' arguments in the order the plugin registers them; the domain is optional.
var restArgNames = map[string][]string{
	"activate":   {"store_code", "sku", "license_key"},
	"validate":   {"activation_id", "store_code", "sku", "license_key"},
	"deactivate": {"activation_id", "store_code", "sku", "license_key"},
}

// restArgs checks the arguments as WordPress does before the plugin runs: every required one present, each of
// the right type. It returns WordPress's error, or nil.
func restArgs(op string, p params) *wpError {
	var missing []string
	for _, name := range restArgNames[op] {
		if v, ok := p[name]; !ok || v == nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return &wpError{Code: "rest_missing_callback_param", Message: "Missing parameter(s): " + strings.Join(missing, ", "),
			Data: wpErrorData{Status: http.StatusBadRequest, Params: missing}}
	}
	invalid := orderedObject{}
	for _, name := range append(restArgNames[op], "domain") {
		v, present := p[name]
		if !present {
			continue
		}
		var ok bool
		if name == "activation_id" {
			_, ok = p.activationID()
		} else {
			_, ok = v.(string)
		}
		if !ok {
			invalid = invalid.add(name, "Invalid parameter.")
		}
	}
	if len(invalid) > 0 {
		return &wpError{Code: "rest_invalid_param", Message: "Invalid parameter(s): " + strings.Join(invalid.keys(), ", "),
			Data: wpErrorData{Status: http.StatusBadRequest, Params: invalid}}
	}
	return nil
}

// orderedObject is a JSON object that keeps its keys in insertion order, as PHP's arrays do.
type orderedObject []struct {
	key string
	val any
}

func (o orderedObject) add(key string, val any) orderedObject {
	return append(o, struct {
		key string
		val any
	}{key, val})
}

func (o orderedObject) keys() []string {
	out := make([]string, len(o))
	for i, kv := range o {
		out[i] = kv.key
	}
	return out
}

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, kv := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv.key)
		v, err := json.Marshal(kv.val)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// --- the plugin's envelope ---

// envelope is WPMVC\Response::to_array: error and status always, the rest when set.
type envelope struct {
	Error   bool           `json:"error"`
	Status  int            `json:"status"`
	Message string         `json:"message,omitempty"`
	Errors  orderedObject  `json:"errors,omitempty"`
	Data    *licenseFields `json:"data,omitempty"`

	retryAfter time.Duration // sent as Retry-After
}

// licenseFields is the plugin's LicenseKey model without its hidden fields, in its order.
type licenseFields struct {
	Expire       *int64  `json:"expire"`
	ActivationID int64   `json:"activation_id"`
	ExpireDate   *string `json:"expire_date"`
	Timezone     *string `json:"timezone"`
	TheKey       string  `json:"the_key"`
	URL          string  `json:"url"` // the shop's My Account link; we have no shop
	HasExpired   bool    `json:"has_expired"`
	Status       string  `json:"status"`
}

func licenseData(l woo.License) *licenseFields {
	d := &licenseFields{ActivationID: l.ActivationID, TheKey: l.TheKey, HasExpired: l.HasExpired, Status: "active"}
	if !l.Expire.IsZero() {
		e, date, tz := l.Expire.Unix(), l.Expire.UTC().Format("2006-01-02 15:04"), "UTC"
		d.Expire, d.ExpireDate, d.Timezone = &e, &date, &tz
	}
	if l.HasExpired {
		d.Status = "inactive"
	}
	return d
}

// refusalStatus is the status a refusal is sent with: 401 when the access token is missing or invalid, 429 when
// throttled (our codes; the plugin publishes none), else the plugin's 500.
func refusalStatus(e *woo.Errors) int {
	switch {
	case e.Has(woo.ErrTooMany.Code):
		return http.StatusTooManyRequests
	case e.Has(woo.ErrTokenRequired.Code) || e.Has(woo.ErrTokenInvalid.Code):
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// isGuess reports whether a refusal is what guessing a secret gets: a store code or key that does not match
// (1, 2, 4, 5) or an unknown token (301). Those count against the client's address in the sign-in throttle.
func isGuess(e *woo.Errors) bool {
	for _, x := range []woo.Error{woo.ErrStoreCode, woo.ErrKeyFormat, woo.ErrKeyParse,
		woo.ErrKeyNotFound, woo.ErrTokenInvalid} {
		if e.Has(x.Code) {
			return true
		}
	}
	return false
}

// refusalBody renders a refusal in the store's format: messages keyed by parameter (the plugin's default,
// where "Invalid activation." also adds "Invalid license key." under license_key) or by numeric code.
func refusalBody(e *woo.Errors) envelope {
	var out orderedObject
	add := func(key, msg string) {
		for i := range out {
			if out[i].key == key {
				out[i].val = append(out[i].val.([]string), msg)
				return
			}
		}
		out = out.add(key, []string{msg})
	}
	for _, x := range e.Errors {
		if e.ByCode {
			add(strconv.Itoa(x.Code), x.Message)
			continue
		}
		add(x.Param, x.Message)
		if x.Code == woo.ErrActivation.Code {
			add("license_key", "Invalid license key.")
		}
	}
	return envelope{Error: true, Status: refusalStatus(e), Errors: out, retryAfter: e.RetryAfter}
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	Expires     int64  `json:"expires"` // the lifetime in seconds, the plugin's name
}

// call runs one operation on parameters already checked. It returns what to send, the status it stands for
// and, for a refused access token, the error of the Bearer challenge.
func (a *API) call(r *http.Request, op string, p params, ajax bool) (body any, status int, challenge string) {
	str := func(name string) string { return sanitizeText(p.text(name)) }
	ctx := r.Context()
	// Guessing store codes, keys and tokens is throttled per client address, like passwords; only failures count,
	// so clients sharing an address are not refused for each other's successes.
	if te := a.env.SignIn.Throttled(r, "", ""); te != nil {
		return a.failure(r, &woo.Errors{Errors: []woo.Error{woo.ErrTooMany}, RetryAfter: te.RetryAfter})
	}
	if op == "token" {
		t, err := a.woo.IssueToken(ctx, str("grant_type"), str("license_key"))
		if err != nil {
			return a.failure(r, err)
		}
		return tokenResponse{AccessToken: t.Token, TokenType: "Bearer", Expires: int64(t.Lifetime / time.Second)}, http.StatusOK, ""
	}
	req := woo.Request{StoreCode: str("store_code"), SKU: str("sku"), LicenseKey: str("license_key"),
		Domain: str("domain"), IP: a.env.Clients.Host(r), Token: credential.BearerHeader(r)}
	switch v := str("activation_id"); {
	case op == "activate":
	case !ajax:
		req.ActivationID, _ = p.activationID() // checked by restArgs
	case v == "":
		// Request::input's default, 0, which the plugin calls "Required."
	case phpNumeric.MatchString(v):
		req.ActivationID = absint(v)
	default:
		req.ActivationID = -1 // present, and matching no activation
	}
	var (
		l   woo.License
		err error
		msg string
	)
	switch op {
	case "activate":
		l, err = a.woo.Activate(ctx, req)
		msg = msgActivated
	case "validate":
		l, err = a.woo.Validate(ctx, req)
		msg = msgValid
	case "deactivate":
		if err = a.woo.Deactivate(ctx, req); err == nil {
			return envelope{Status: http.StatusOK, Message: msgDeactivated}, http.StatusOK, ""
		}
	}
	if err != nil {
		return a.failure(r, err)
	}
	return envelope{Status: http.StatusOK, Message: msg, Data: licenseData(l)}, http.StatusOK, ""
}

// failure translates an error of woo.Service: the plugin's refusal, or an internal error that the plugin
// would answer with a bare {"error":true,"status":500} (503 with a message and Retry-After while the database
// is unavailable).
func (a *API) failure(r *http.Request, err error) (any, int, string) {
	var we *woo.Errors
	if errors.As(err, &we) {
		if isGuess(we) {
			a.env.SignIn.Failed(r, "", "", "bad_woo_credentials")
		}
		body := refusalBody(we)
		challenge := ""
		if we.Has(woo.ErrTokenInvalid.Code) {
			challenge = "invalid_token"
		}
		return body, body.Status, challenge
	}
	a.env.InternalError(r.Context(), err)
	if surface.Unavailable(err) {
		return envelope{Error: true, Status: http.StatusServiceUnavailable, Message: "The service is temporarily unavailable. Please try again later.",
			retryAfter: surface.RetryAfterUnavailable}, http.StatusServiceUnavailable, ""
	}
	return envelope{Error: true, Status: http.StatusInternalServerError}, http.StatusInternalServerError, ""
}

// requestError answers a body that could not be read: 413 when too large, else WordPress's rest_invalid_json.
func requestError(w http.ResponseWriter, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		reply.JSON(w, http.StatusRequestEntityTooLarge, wpError{Code: "rest_request_too_large",
			Message: "The request body is too large.", Data: wpErrorData{Status: http.StatusRequestEntityTooLarge}})
		return
	}
	reply.JSON(w, http.StatusBadRequest, wpError{Code: "rest_invalid_json", Message: "Invalid JSON body passed.",
		Data: wpErrorData{Status: http.StatusBadRequest}})
}

// noRoute is WordPress's answer for a path or method no route serves.
func noRoute(w http.ResponseWriter) {
	reply.JSON(w, http.StatusNotFound, wpError{Code: "rest_no_route",
		Message: "No route was found matching the URL and request method.", Data: wpErrorData{Status: http.StatusNotFound}})
}

// rest serves one REST route.
func (a *API) rest(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := readParams(w, r, a.env.MaxBodyBytes)
		if err != nil {
			requestError(w, err)
			return
		}
		if e := restArgs(op, p); e != nil {
			reply.JSON(w, e.Data.Status, e)
			return
		}
		if op != "token" {
			if _, ok := p["domain"]; !ok {
				p["domain"] = "localhost" // the route's default
			}
		}
		body, status, challenge := a.call(r, op, p, false)
		a.write(w, status, challenge, body)
	}
}

// ajax serves admin-ajax.php?action=license_key_*: any other action is WordPress's "0" with 400.
func (a *API) ajax(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(w, r, a.env.MaxBodyBytes)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "0", http.StatusRequestEntityTooLarge)
			return
		}
		p = params{}
		addForm(p, r.URL.RawQuery)
	}
	action, _ := p.str("action")
	op, ok := strings.CutPrefix(action, "license_key_")
	if _, known := restArgNames[op]; !ok || (!known && op != "token") {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "0")
		return
	}
	body, _, _ := a.call(r, op, p, true)
	a.write(w, http.StatusOK, "", body) // Response::json() sets no status
}

// write sends an answer with its status, a Bearer challenge with a 401, and Retry-After with a throttled
// refusal (also through the Ajax handler, whose status is always 200).
func (a *API) write(w http.ResponseWriter, status int, challenge string, body any) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", a.env.BearerChallenge(challenge))
	}
	if env, ok := body.(envelope); ok && env.retryAfter > 0 {
		reply.RetryAfter(w.Header(), env.retryAfter)
	}
	reply.JSON(w, status, body)
}
