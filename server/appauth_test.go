package server_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/appauth"
	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/storage"
)

// The app authorization flow end to end over loopback HTTP: the consent page driven like a browser without
// JavaScript (a cookie jar, forms posted with their CSRF tokens), the app's side with real RSA-2048 keys
// signing the challenge as Cryptolens' .NET SDK does, and the child token used on the Cryptolens API.

// appStack is the licensing stack with app authorization: simon0897 is the vendor, paul1234 the end user,
// linked to simon0897's customer "Paul" (one device at most), who owns one key of the product.
type appStack struct {
	*clStack
	aa       *appauth.Service
	customer storage.Customer
	key      storage.LicenseKey
	parent   string // simon0897's parent token: GetToken, GetLicenseKeys, GetKey; product lock; key lock 30 days
	parentID int64
}

func withAppAuth(svc **appauth.Service, lic **license.Service) option {
	return func(su *setup) {
		su.wire = append(su.wire, func(st *stack, d *server.Deps) {
			*svc = appauth.New(st.Store, *lic, appauth.Options{Now: st.Clock.Now})
			d.AppAuth = server.AppAuthDeps{Service: *svc, CSRFKey: []byte("csrf test key, 32 bytes long....")}
		})
	}
}

func newAppStack(t *testing.T, opts ...option) *appStack {
	t.Helper()
	ctx := context.Background()
	var lic *license.Service
	var aa *appauth.Service
	st := newStack(t, append(opts, withLicense(&lic), withAppAuth(&aa, &lic))...)
	for _, v := range []string{"simon0897", "paul1234"} {
		if err := lic.AddVendor(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	cl := &clStack{stack: st, svc: lic}
	cl.product = cl.newProduct(t, "simon0897")
	pub, err := license.PublicKey(cl.product)
	if err != nil {
		t.Fatal(err)
	}
	cl.pubXML = license.PublicKeyXML(pub)
	s := &appStack{clStack: cl, aa: aa}
	if s.customer, err = lic.CreateCustomer(ctx, license.Admin(), "simon0897", license.CustomerSpec{Name: "Paul", Email: "paul@example.com",
		MaxNoOfDevices: 1, User: "paul1234"}); err != nil {
		t.Fatal(err)
	}
	s.key = cl.newKey(t, license.KeySpec{Period: 365, Notes: "internal: paid by invoice", CustomerID: s.customer.ID, MaxNoOfMachines: 3})
	cl.newKey(t, license.KeySpec{Period: 365}) // someone else's
	issued, err := lic.CreateAPIToken(ctx, "simon0897", license.TokenSpec{Name: "desktop app", Methods: []license.Method{
		license.MethodGetToken, license.MethodGetLicenseKeys, license.MethodGetKey}, ProductLock: cl.product.ID, KeyLock: 30,
		FeatureLock: int64(license.HideNotes)})
	if err != nil {
		t.Fatal(err)
	}
	s.parent, s.parentID = issued.Token, issued.Record.ID
	return s
}

// app is the vendor's desktop app: a fresh RSA key and AuthorizationToken per request, as the SDK makes them.
type app struct {
	key       *rsa.PrivateKey
	authToken string
	query     url.Values
}

func newApp(parentID int64, scope string, expires int, machine string) *app {
	raw := make([]byte, 30)
	rand.Read(raw)
	a := &app{key: pooledKeys()[0], authToken: base64.StdEncoding.EncodeToString(raw)}
	pk, _ := json.Marshal(map[string]any{"Exponent": big.NewInt(int64(a.key.E)).Bytes(), "Modulus": a.key.N.Bytes(),
		"P": nil, "Q": nil, "DP": nil, "DQ": nil, "InverseQ": nil, "D": nil})
	a.query = url.Values{"AuthorizationToken": {a.authToken}, "PublicKey": {string(pk)}, "Scope": {scope}, "VendorAppName": {"Photo Editor"},
		"Expires": {strconv.Itoa(expires)}, "TokenId": {strconv.FormatInt(parentID, 10)}, "MachineCode": {machine},
		"DeviceName": {"PAUL-PC"}, "Algorithm": {"RSA_2048"}}
	return a
}

// consentURL is the URL the SDK opens: its query is built with EscapeDataString (%20, never +).
func (a *app) consentURL(base string) string {
	return base + "/User/AuthorizeApp/?" + strings.ReplaceAll(a.query.Encode(), "+", "%20")
}

const userLoginScope = `{"GetLicenseKeys":true,"Activate":false,"KeyInfo":false,"LockToProduct":0,"LockToKey":0,"LockToFeature":0}`

func (s *appStack) challenge(t *testing.T, a *app, parent string) map[string]any {
	t.Helper()
	return s.post(t, "auth/GetChallenge", url.Values{"AuthorizationToken": {a.authToken}, "token": {parent}, "v": {"1"}, "modelversion": {"1"}})
}

// solve signs challenge ‖ int64-LE(date) with SHA-512, exactly as the .NET SDK does.
func solve(t *testing.T, key *rsa.PrivateKey, challengeB64 string, date int64) string {
	t.Helper()
	challenge, err := base64.StdEncoding.DecodeString(challengeB64)
	if err != nil || len(challenge) != appauth.ChallengeSize {
		t.Fatalf("challenge %q: %v", challengeB64, err)
	}
	msg := binary.LittleEndian.AppendUint64(challenge, uint64(date))
	sum := sha512.Sum512(msg)
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA512, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func (s *appStack) getToken(t *testing.T, a *app, parent string, date int64, signed string) map[string]any {
	t.Helper()
	return s.post(t, "auth/GetToken/", url.Values{"AuthorizationToken": {a.authToken}, "Date": {strconv.FormatInt(date, 10)},
		"SignedChallenge": {signed}, "token": {parent}, "v": {"1"}, "modelversion": {"1"}})
}

// collect is the SDK's loop body once: GetChallenge, sign with key at date, GetToken.
func (s *appStack) collect(t *testing.T, a *app, key *rsa.PrivateKey, date int64) map[string]any {
	t.Helper()
	c := s.challenge(t, a, s.parent)
	mustOK(t, "GetChallenge", c)
	return s.getToken(t, a, s.parent, date, solve(t, key, c["challenge"].(string), date))
}

func (s *appStack) now() int64 { return s.Clock.Now().Unix() }

// browser is a user agent without JavaScript: cookies, redirects, forms.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar}}
}

func (b *browser) send(method, u string, form url.Values) (int, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if form == nil && resp.Header.Get("X-Frame-Options") != "DENY" {
		b.t.Fatalf("%s %s: no X-Frame-Options: DENY on a page", method, u)
	}
	return resp.StatusCode, string(out)
}

func (b *browser) get(u string) (int, string) { b.t.Helper(); return b.send("GET", u, nil) }

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// submit posts a form of page (the last body seen at u) with its CSRF token and the given fields.
func (b *browser) submit(u, page string, fields ...string) (int, string) {
	b.t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("no CSRF token in the page:\n%s", page)
	}
	form := url.Values{"csrf": {m[1]}}
	for i := 0; i+1 < len(fields); i += 2 {
		form.Set(fields[i], fields[i+1])
	}
	return b.send("POST", u, form)
}

func (b *browser) signIn(u, user, pass string) (int, string) {
	b.t.Helper()
	_, page := b.get(u)
	return b.submit(u, page, "action", "signin", "username", user, "password", pass)
}

func mustContain(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Fatalf("%s does not contain %q:\n%s", what, w, body)
		}
	}
}

// verifyLicenseKeys checks a GetLicenseKeys answer independently, as the .NET SDK does: SHA-256 PKCS #1 v1.5
// over results ‖ activatedMachineCodes ‖ int64-LE(signDate) with the product's <RSAKeyValue>.
func verifyLicenseKeys(t *testing.T, pubXML string, m map[string]any) ([]map[string]any, []string) {
	t.Helper()
	mustOK(t, "GetLicenseKeys", m)
	results, err1 := base64.StdEncoding.DecodeString(m["results"].(string))
	machines, err2 := base64.StdEncoding.DecodeString(m["activatedMachineCodes"].(string))
	sig, err3 := base64.StdEncoding.DecodeString(m["signature"].(string))
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatalf("GetLicenseKeys answer %v", m)
	}
	date := make([]byte, 8)
	binary.LittleEndian.PutUint64(date, uint64(int64(m["signDate"].(float64))))
	sum := sha256.Sum256(slices.Concat(results, machines, date))
	if err := rsa.VerifyPKCS1v15(parseRSAKeyValue(t, pubXML), crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("GetLicenseKeys signature: %v", err)
	}
	var rs []map[string]any
	var mcs []string
	if json.Unmarshal(results, &rs) != nil || json.Unmarshal(machines, &mcs) != nil {
		t.Fatalf("results %s, machines %s", results, machines)
	}
	return rs, mcs
}

func TestAppAuthorizationFlow(t *testing.T) {
	s := newAppStack(t)
	a := newApp(s.parentID, userLoginScope, 90, "9f86d081884c7d65")
	consent := a.consentURL(s.URL)
	b := newBrowser(t)

	// The app opens the page; the user is not signed in.
	status, page := b.get(consent)
	if status != 200 {
		t.Fatalf("consent page: %d\n%s", status, page)
	}
	mustContain(t, "the sign-in page", page, `id="signin"`, "Photo Editor", "simon0897", "PAUL-PC")
	if status, page := b.submit(consent, page, "action", "signin", "username", "paul1234", "password", "wrong"); status != 401 ||
		!strings.Contains(page, "Wrong user name or password.") {
		t.Fatalf("wrong password: %d\n%s", status, page)
	}
	mustFail(t, "GetChallenge before the user decided", s.challenge(t, a, s.parent), "The authorization request could not be found.")
	// The sign-in form is CSRF-protected too (bound to a pre-session cookie): a forged sign-in is refused.
	if status, page := b.send("POST", consent, url.Values{"action": {"signin"}, "username": {"paul1234"}, "password": {"pa55"}}); status != 403 ||
		!strings.Contains(page, "This form has expired") {
		t.Fatalf("sign-in without a CSRF token: %d\n%s", status, page)
	}
	if status, page := newBrowser(t).submit(consent, page, "action", "signin", "username", "paul1234", "password", "pa55"); status != 403 {
		t.Fatalf("sign-in with the token of another browser's pre-session cookie: %d\n%s", status, page)
	}

	status, page = b.signIn(consent, "paul1234", "pa55")
	if status != 200 {
		t.Fatalf("after signing in: %d\n%s", status, page)
	}
	mustContain(t, "the consent page", page, `id="approve"`, `id="deny"`, "Signed in as <b id=\"whoami\">paul1234</b>",
		"see your license keys", "30 days, until 23 Dec 2026", "The app asked for longer (90 days); its vendor allows no more.",
		"customer account at simon0897: Paul (at most 1 device)", "9f86d081884c7d65")

	// CSRF: a POST without the token, or with another, is refused and changes nothing.
	if status, body := b.send("POST", consent, url.Values{"action": {"approve"}}); status != 403 || !strings.Contains(body, "This form has expired") {
		t.Fatalf("approve without a CSRF token: %d\n%s", status, body)
	}
	if status, _ := b.send("POST", consent, url.Values{"action": {"approve"}, "csrf": {"AAAA" + strings.Repeat("x", 39)}}); status != 403 {
		t.Fatalf("approve with a wrong CSRF token: %d", status)
	}
	other := newBrowser(t) // another browser's token is no good here either
	other.signIn(consent, "paul1234", "pa55")
	_, otherPage := other.get(consent)
	if status, _ := b.send("POST", consent, url.Values{"action": {"approve"}, "csrf": {csrfField.FindStringSubmatch(otherPage)[1]}}); status != 403 {
		t.Fatalf("approve with another session's CSRF token: %d", status)
	}
	mustFail(t, "GetChallenge after refused approvals", s.challenge(t, a, s.parent), "The authorization request could not be found.")

	status, page = b.submit(consent, page, "action", "approve")
	if status != 200 || !strings.Contains(page, `data-state="approved"`) {
		t.Fatalf("approve: %d\n%s", status, page)
	}

	// A parent token other than the one the request named finds nothing.
	otherParent := s.token(t, license.TokenSpec{Methods: []license.Method{license.MethodGetToken}})
	mustFail(t, "GetChallenge with another parent token", s.challenge(t, a, otherParent), "The authorization request could not be found.")
	// A token without GetToken may not even ask.
	noGetToken := s.token(t, license.TokenSpec{Methods: []license.Method{license.MethodGetKey}})
	mustFail(t, "GetChallenge with a token without GetToken", s.challenge(t, a, noGetToken), "Access denied.")

	// Stale and future dates are refused, and the challenge is used up by the attempt.
	c := s.challenge(t, a, s.parent)
	mustOK(t, "GetChallenge", c)
	stale := s.now() - 6*60
	mustFail(t, "GetToken with a stale Date", s.getToken(t, a, s.parent, stale, solve(t, a.key, c["challenge"].(string), stale)),
		"The Date is too far from the server's time. Check the device's clock.")
	fresh := s.now()
	mustFail(t, "GetToken again with the used challenge", s.getToken(t, a, s.parent, fresh, solve(t, a.key, c["challenge"].(string), fresh)),
		"The challenge has expired or was already used. Get a new one with auth/GetChallenge.")
	future := s.now() + 6*60
	mustFail(t, "GetToken with a future Date", s.collect(t, a, a.key, future), "The Date is too far from the server's time. Check the device's clock.")
	// A signature by another key (the app's key was not the one in the request), or over another date.
	mustFail(t, "GetToken signed with the wrong key", s.collect(t, a, pooledKeys()[2], s.now()),
		"The signed challenge could not be verified with the public key of the request.")
	c = s.challenge(t, a, s.parent)
	mustFail(t, "GetToken signed over another date", s.getToken(t, a, s.parent, s.now(), solve(t, a.key, c["challenge"].(string), s.now()-1)),
		"The signed challenge could not be verified with the public key of the request.")
	// An expired challenge.
	c = s.challenge(t, a, s.parent)
	s.Clock.Add(3 * time.Minute)
	mustFail(t, "GetToken after the challenge expired", s.getToken(t, a, s.parent, s.now(), solve(t, a.key, c["challenge"].(string), s.now())),
		"The challenge has expired or was already used. Get a new one with auth/GetChallenge.")
	if list, _ := s.Store.ListAPITokens(context.Background(), "simon0897"); len(list) != 3 {
		t.Fatalf("%d API tokens after the refused attempts; want 3 (no child issued)", len(list))
	}

	// The right answer.
	c = s.challenge(t, a, s.parent)
	date := s.now()
	signed := solve(t, a.key, c["challenge"].(string), date)
	got := s.getToken(t, a, s.parent, date, signed)
	mustOK(t, "GetToken", got)
	child, _ := got["token"].(string)
	if child == "" {
		t.Fatalf("GetToken answer %v", got)
	}
	// Replaying the same signed answer gets nothing more.
	mustFail(t, "GetToken replayed", s.getToken(t, a, s.parent, date, signed), "The authorization request could not be found.")
	mustFail(t, "GetChallenge after the token was collected", s.challenge(t, a, s.parent), "The authorization request could not be found.")

	// The child token within its scope: the user's license keys, signed, the parent's feature lock hiding notes.
	keys := s.post(t, "User/GetLicenseKeys", url.Values{"token": {child}, "Sign": {"True"}, "MachineCode": {"9f86d081884c7d65"}, "SignMethod": {"LinqSign"}})
	rs, mcs := verifyLicenseKeys(t, s.pubXML, keys)
	if len(rs) != 1 || !slices.Equal(mcs, []string{"9f86d081884c7d65"}) {
		t.Fatalf("GetLicenseKeys: %d keys %v, machines %v; want Paul's one key and the authorized device", len(rs), rs, mcs)
	}
	lk := rs[0]["licenseKey"].(map[string]any)
	if lk["key"] != s.key.Key || lk["notes"] != nil || lk["customer"].(map[string]any)["name"] != "Paul" || rs[0]["result"] != float64(0) {
		t.Fatalf("license key %v: want the key, notes hidden by the feature lock, the customer shown", lk)
	}
	// … and not beyond it: the parent may read keys, the child was not given that; nor may it ask for children.
	mustFail(t, "the child token on GetKey", s.post(t, "key/GetKey", s.form(child, s.product.ID, s.key.Key)), "Access denied.")
	mustFail(t, "the child token on GetChallenge", s.challenge(t, a, child), "Access denied.")
	mustFail(t, "the parent token on GetLicenseKeys", s.post(t, "User/GetLicenseKeys", url.Values{"token": {s.parent}, "Sign": {"true"}}), "Access denied.")

	// The request cannot be decided again.
	if status, page := b.get(consent); status != 409 || !strings.Contains(page, "already approved") {
		t.Fatalf("the consent page after approval: %d\n%s", status, page)
	}

	// The child outlives neither the parent's key lock (30 days, though the app asked for 90) …
	s.Clock.Add(30*24*time.Hour - 10*time.Minute)
	mustOK(t, "GetLicenseKeys on day 29", s.post(t, "User/GetLicenseKeys", url.Values{"token": {child}, "Sign": {"true"}}))
	s.Clock.Add(20 * time.Minute)
	mustFail(t, "GetLicenseKeys after the key lock's 30 days", s.post(t, "User/GetLicenseKeys", url.Values{"token": {child}, "Sign": {"true"}}),
		"Unable to authenticate.")

	events := s.auditEvents(t, "appauth.")
	if !slices.ContainsFunc(events, func(e storage.AuditEvent) bool {
		return e.Action == "appauth.approve" && e.Outcome == "ok" && e.Actor == "paul1234"
	}) ||
		!slices.ContainsFunc(events, func(e storage.AuditEvent) bool { return e.Action == "appauth.refuse" && e.Outcome == "bad_signature" }) {
		t.Fatalf("audit events %+v", events)
	}
	issues := s.auditEvents(t, "token.issue")
	if !slices.ContainsFunc(issues, func(e storage.AuditEvent) bool {
		return strings.Contains(e.Detail, "kind=app ") && e.Subject == "paul1234"
	}) {
		t.Fatalf("no token.issue event for the child token: %+v", issues)
	}
}

func (s *appStack) auditEvents(t *testing.T, action string) []storage.AuditEvent {
	t.Helper()
	s.Audit.Flush(context.Background())
	events, err := s.Store.ListAudit(context.Background(), storage.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// approveInBrowser signs paul1234 in on a fresh browser and approves a's request.
func (s *appStack) approveInBrowser(t *testing.T, a *app) *browser {
	t.Helper()
	b := newBrowser(t)
	status, page := b.signIn(a.consentURL(s.URL), "paul1234", "pa55")
	if status != 200 {
		t.Fatalf("sign in: %d\n%s", status, page)
	}
	if status, page := b.submit(a.consentURL(s.URL), page, "action", "approve"); status != 200 || !strings.Contains(page, `data-state="approved"`) {
		t.Fatalf("approve: %d\n%s", status, page)
	}
	return b
}

func TestAppAuthorizationDenied(t *testing.T) {
	s := newAppStack(t)
	a := newApp(s.parentID, userLoginScope, 10, "machine-1")
	b := newBrowser(t)
	_, page := b.signIn(a.consentURL(s.URL), "paul1234", "pa55")
	status, page := b.submit(a.consentURL(s.URL), page, "action", "deny")
	if status != 200 || !strings.Contains(page, `data-state="denied"`) {
		t.Fatalf("deny: %d\n%s", status, page)
	}
	mustFail(t, "GetChallenge of a denied request", s.challenge(t, a, s.parent), "The authorization request could not be found.")
	mustFail(t, "GetToken of a denied request", s.getToken(t, a, s.parent, s.now(), base64.StdEncoding.EncodeToString(make([]byte, 256))),
		"The authorization request could not be found.")
	// Approving afterwards (the form still open in another tab) changes nothing.
	if status, page := b.submit(a.consentURL(s.URL), page, "action", "approve"); status != 409 {
		t.Fatalf("approve after deny: %d\n%s", status, page)
	}
	mustFail(t, "GetChallenge after a late approval", s.challenge(t, a, s.parent), "The authorization request could not be found.")
	if devs, _ := s.aa.Devices(context.Background(), "paul1234"); len(devs) != 0 {
		t.Fatalf("a denied request registered %v", devs)
	}
}

func TestAppAuthorizationDeviceLimit(t *testing.T) {
	s := newAppStack(t)
	first := newApp(s.parentID, userLoginScope, 10, "machine-1")
	s.approveInBrowser(t, first)
	// The same device again is no new device.
	s.approveInBrowser(t, newApp(s.parentID, userLoginScope, 10, "machine-1"))

	// A second device: Paul's customer record allows one.
	second := newApp(s.parentID, userLoginScope, 10, "machine-2")
	b := newBrowser(t)
	status, page := b.signIn(second.consentURL(s.URL), "paul1234", "pa55")
	if status != 200 || strings.Contains(page, `id="approve"`) {
		t.Fatalf("consent at the device limit: %d, want no Allow button\n%s", status, page)
	}
	mustContain(t, "the consent page at the limit", page, "This device cannot be added: Paul already has 1 of 1 devices.")
	if status, page := b.submit(second.consentURL(s.URL), page, "action", "approve"); status != 409 || !strings.Contains(page, "device limit") {
		t.Fatalf("approve past the device limit: %d\n%s", status, page)
	}
	mustFail(t, "GetChallenge past the device limit", s.challenge(t, second, s.parent), "The authorization request could not be found.")

	// The user removes the old device on the list page; the new one can then be approved.
	status, list := b.get(s.URL + "/User/AuthorizedApps/")
	if status != 200 {
		t.Fatalf("list page: %d", status)
	}
	mustContain(t, "the list page", list, "machine-1", `id="remove-device-0"`)
	if status, list := b.submit(s.URL+"/User/AuthorizedApps/", list, "action", "remove-device", "customer", strconv.FormatInt(s.customer.ID, 10),
		"machine", "machine-1"); status != 200 || !strings.Contains(list, "No device is registered.") {
		t.Fatalf("remove device: %d\n%s", status, list)
	}
	mustFail(t, "GetChallenge of the removed device's request", s.challenge(t, first, s.parent), "The authorization request could not be found.")
	s.approveInBrowser(t, second)
	mustOK(t, "GetToken for the second device", s.collect(t, second, second.key, s.now()))

	// User Login Auth for a user linked to no customer of the vendor.
	lonely := newApp(s.parentID, userLoginScope, 10, "machine-3")
	lb := newBrowser(t)
	_, page = lb.signIn(lonely.consentURL(s.URL), "simon0897", "s3cret")
	mustContain(t, "consent for a user without a customer record", page, "Your account is not linked to a customer account at simon0897")
}

func TestAppAuthorizationRevokedOnListPage(t *testing.T) {
	s := newAppStack(t)
	a := newApp(s.parentID, userLoginScope, 10, "machine-1")
	b := s.approveInBrowser(t, a)
	got := s.collect(t, a, a.key, s.now())
	mustOK(t, "GetToken", got)
	child := got["token"].(string)
	getKeys := func() map[string]any {
		return s.post(t, "User/GetLicenseKeys", url.Values{"token": {child}, "Sign": {"true"}, "MachineCode": {"machine-1"}})
	}
	mustOK(t, "GetLicenseKeys", getKeys())

	listURL := s.URL + "/User/AuthorizedApps/"
	status, list := b.get(listURL)
	row := regexp.MustCompile(`<tr id="app-(\d+)" data-state="active">`).FindStringSubmatch(list)
	if status != 200 || row == nil {
		t.Fatalf("list page: %d\n%s", status, list)
	}
	mustContain(t, "the list page", list, "Photo Editor", "simon0897", "PAUL-PC", "see your license keys")
	// Without the CSRF token, nothing happens.
	if status, _ := b.send("POST", listURL, url.Values{"action": {"revoke"}, "id": {row[1]}}); status != 403 {
		t.Fatalf("revoke without a CSRF token: %d", status)
	}
	mustOK(t, "GetLicenseKeys after a refused revoke", getKeys())
	// Another user cannot revoke it.
	stranger := newBrowser(t)
	_, strangerList := stranger.signIn(listURL, "simon0897", "s3cret")
	if status, _ := stranger.submit(listURL, strangerList, "action", "revoke", "id", row[1]); status != 404 {
		t.Fatalf("another user's revoke: %d", status)
	}
	status, list = b.submit(listURL, list, "action", "revoke", "id", row[1])
	if status != 200 || !strings.Contains(list, `data-state="revoked"`) {
		t.Fatalf("revoke: %d\n%s", status, list)
	}
	mustFail(t, "GetLicenseKeys after the user revoked the app", getKeys(), "Unable to authenticate.")

	// Signed out, the list asks for a sign-in again.
	if status, page := b.submit(listURL, list, "action", "signout"); status != 200 || !strings.Contains(page, `id="signin"`) {
		t.Fatalf("sign out: %d\n%s", status, page)
	}
}

func TestAppAuthorizationConsentErrors(t *testing.T) {
	s := newAppStack(t)
	b := newBrowser(t)
	status, page := b.get(s.URL + "/User/AuthorizeApp/?VendorAppName=X&Scope=%7B%22Fly%22%3Atrue%7D")
	if status != 400 {
		t.Fatalf("missing parameters: %d", status)
	}
	mustContain(t, "the error page", page, "AuthorizationToken: missing", "PublicKey is missing", "unknown permission", "TokenId is missing",
		"nothing was authorized")
	if strings.Contains(page, `name="action"`) {
		t.Fatal("the error page offers a decision")
	}
	for _, tc := range []struct {
		mutate func(a *app)
		want   string
	}{
		{func(a *app) { a.query.Set("TokenId", "9999") }, "the token it names (TokenId 9999) is unknown"},
		{func(a *app) {
			a.query.Set("Scope", `{"GetLicenseKeys":true,"LockToProduct":77}`)
		}, "The app asks for product 77, but its token is locked to product"},
		{func(a *app) { a.query.Set("Scope", `{"CreateKey":true}`) }, "can give none of the permissions asked for"},
		{func(a *app) { a.query.Set("PublicKey", `{"Modulus":"AQAB","Exponent":"AQAB"}`) }, "want an RSA key of 2048 to 4096 bits"},
	} {
		a := newApp(s.parentID, userLoginScope, 10, "m")
		tc.mutate(a)
		if status, page := b.get(a.consentURL(s.URL)); status != 400 || !strings.Contains(page, tc.want) {
			t.Errorf("%s: %d\n%s", tc.want, status, page)
		}
	}
	// Unsupported and withheld permissions are named but not granted.
	a := newApp(s.parentID, `{"GetLicenseKeys":true,"Activate":true,"GetKeys":true}`, 10, "m")
	_, page = b.signIn(a.consentURL(s.URL), "paul1234", "pa55")
	mustContain(t, "the consent page", page, "It also asked for activate license keys on machines, which its vendor does not allow",
		"It also asked for GetKeys, which this service does not offer")
}

// TestAppAuthorizationGetTokenRace: the app's GetToken sent many times at once with one valid answer gets one
// token.
func TestAppAuthorizationGetTokenRace(t *testing.T) {
	s := newAppStack(t)
	a := newApp(s.parentID, userLoginScope, 10, "machine-1")
	s.approveInBrowser(t, a)
	c := s.challenge(t, a, s.parent)
	date := s.now()
	signed := solve(t, a.key, c["challenge"].(string), date)
	var wg sync.WaitGroup
	var mu sync.Mutex
	tokens := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := do(t, "POST", s.URL+"/api/auth/GetToken", url.Values{"AuthorizationToken": {a.authToken}, "Date": {strconv.FormatInt(date, 10)},
				"SignedChallenge": {signed}, "token": {s.parent}}.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
			if strings.Contains(r.Body, `"result":0`) {
				mu.Lock()
				tokens++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if tokens != 1 {
		t.Fatalf("%d GetToken calls succeeded, want exactly 1", tokens)
	}
}

func TestUserAuthLogin(t *testing.T) {
	s := newAppStack(t, withThrottle(auth.ThrottleConfig{AccountBurst: 3, AccountEvery: 30 * time.Second, AddressBurst: 100, AddressEvery: time.Second}))
	login := func(user, pass string) map[string]any {
		return s.post(t, "userauth/Login", url.Values{"token": {s.parent}, "UserName": {user}, "Password": {pass}, "MachineCode": {"m-1"},
			"DeviceName": {"laptop"}, "VendorAppName": {"CLI"}})
	}
	mustFail(t, "Login without a password", login("paul1234", ""), "No username or password supplied.")
	mustFail(t, "Login with a wrong password", login("paul1234", "nope"), "Unable to authenticate user.")
	got := login("paul1234", "pa55")
	mustOK(t, "Login", got)
	rs, mcs := verifyLicenseKeys(t, s.pubXML, s.post(t, "User/GetLicenseKeys", url.Values{"token": {got["token"].(string)}, "Sign": {"true"}}))
	if len(rs) != 1 || !slices.Equal(mcs, []string{"m-1"}) {
		t.Fatalf("keys after Login: %v %v", rs, mcs)
	}
	mustFail(t, "Login without a customer record", login("simon0897", "s3cret"), "Customer not found.")
	noGetToken := s.token(t, license.TokenSpec{Methods: []license.Method{license.MethodGetKey}})
	mustFail(t, "Login with a token without GetToken", s.post(t, "userauth/Login", url.Values{"token": {noGetToken}, "UserName": {"paul1234"},
		"Password": {"pa55"}, "MachineCode": {"m-1"}}), "Access denied.")
	// Throttled like every sign-in: after the account's burst of failures, even the right password waits.
	for range 3 {
		login("paul1234", "nope")
	}
	if m := login("paul1234", "pa55"); m["result"] != float64(1) || !strings.HasPrefix(m["message"].(string), "Too many failed sign-ins. Try again in") {
		t.Fatalf("Login after a storm of wrong passwords: %v", m)
	}
}

func TestAppAuthorizationAdminAPI(t *testing.T) {
	s := newAppStack(t)
	if err := s.Store.UpdateUser(context.Background(), "simon0897", func(u *storage.User) error { u.Admin = true; return nil }); err != nil {
		t.Fatal(err)
	}
	a := newApp(s.parentID, userLoginScope, 10, "machine-1")
	s.approveInBrowser(t, a)
	got := s.collect(t, a, a.key, s.now())
	mustOK(t, "GetToken", got)
	admin := map[string]string{"Authorization": basic("simon0897", "s3cret")}
	r := do(t, "GET", s.URL+"/admin/v1/app-authorizations?user=paul1234", "", admin)
	var list struct {
		Auths []struct {
			ID          int64    `json:"id"`
			User        string   `json:"user"`
			State       string   `json:"state"`
			Permissions []string `json:"permissions"`
			Token       int64    `json:"api_token_id"`
		} `json:"app_authorizations"`
	}
	if r.Status != 200 || json.Unmarshal([]byte(r.Body), &list) != nil || len(list.Auths) != 1 || list.Auths[0].State != "active" ||
		list.Auths[0].User != "paul1234" || !slices.Equal(list.Auths[0].Permissions, []string{"GetLicenseKeys"}) || list.Auths[0].Token == 0 {
		t.Fatalf("admin list: %d %s", r.Status, r.Body)
	}
	id := strconv.FormatInt(list.Auths[0].ID, 10)
	if r := do(t, "GET", s.URL+"/admin/v1/app-authorizations/"+id, "", map[string]string{"Authorization": basic("paul1234", "pa55")}); r.Status != 403 {
		t.Fatalf("a non-admin: %d", r.Status)
	}
	if r := do(t, "DELETE", s.URL+"/admin/v1/app-authorizations/"+id, "", admin); r.Status != 204 {
		t.Fatalf("admin revoke: %d %s", r.Status, r.Body)
	}
	mustFail(t, "the child token after an admin revoked it", s.post(t, "User/GetLicenseKeys", url.Values{"token": {got["token"].(string)}}),
		"Unable to authenticate.")
	if r := do(t, "GET", s.URL+"/admin/v1/app-authorizations/"+id, "", admin); r.Status != 200 || !strings.Contains(r.Body, `"state":"revoked"`) {
		t.Fatalf("after revoke: %d %s", r.Status, r.Body)
	}
	if r := do(t, "DELETE", s.URL+"/admin/v1/app-authorizations/9999", "", admin); r.Status != 404 {
		t.Fatalf("revoke of a missing authorization: %d", r.Status)
	}
	r = do(t, "GET", s.URL+"/admin/v1/app-devices?user=paul1234", "", admin)
	if r.Status != 200 || !strings.Contains(r.Body, `"machine_code":"machine-1"`) {
		t.Fatalf("devices: %d %s", r.Status, r.Body)
	}
	q := fmt.Sprintf("?customer=%d&machine=machine-1", s.customer.ID)
	if r := do(t, "DELETE", s.URL+"/admin/v1/app-devices"+q, "", admin); r.Status != 204 {
		t.Fatalf("remove device: %d %s", r.Status, r.Body)
	}
	if r := do(t, "DELETE", s.URL+"/admin/v1/app-devices"+q, "", admin); r.Status != 404 {
		t.Fatalf("remove a removed device: %d %s", r.Status, r.Body)
	}
	if events := s.auditEvents(t, "admin.appauth."); len(events) != 2 {
		t.Fatalf("admin audit events: %+v", events)
	}
}
