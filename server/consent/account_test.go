package consent_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
	"github.com/tokenmanager/tokenmanager/storage"
)

// The customer's account pages over loopback HTTP with a real SQLite store, driven like a browser without
// JavaScript: paul1234 is linked to simon0897's customer "Paul" and to the customer "Paul at Hostile" of a
// second vendor; carol is simon0897's customer too. Machines are activated through the Cryptolens API.

const hostile = `<script>alert(1)</script>`

type accountFixture struct {
	*servertest.AppStack
	url                   string
	paulKey, otherKey     storage.LicenseKey // simon0897's (product setting off), the second vendor's (customer flag on)
	carolKey, unownedKey  storage.LicenseKey
	activateSimon, actOth string // licensing API tokens with Activate
}

func newAccountFixture(t *testing.T, opts ...servertest.Option) *accountFixture {
	t.Helper()
	ctx := context.Background()
	s := servertest.NewAppStack(t, opts...)
	f := &accountFixture{AppStack: s, url: s.URL + "/account/", paulKey: s.Key}
	for _, u := range []string{"carol", "hostileco"} {
		h, _ := auth.HashPassword("carol-pw", servertest.Cheap)
		if err := s.Store.CreateUser(ctx, storage.User{Name: u, PasswordHash: h}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Svc.AddVendor(ctx, "hostileco"); err != nil {
		t.Fatal(err)
	}
	carol, err := s.Svc.CreateCustomer(ctx, license.Admin(), "simon0897", license.CustomerSpec{Name: "Carol Customer", User: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	f.carolKey = s.NewKey(t, license.KeySpec{Period: 30, CustomerID: carol.ID, MaxNoOfMachines: 2})
	f.unownedKey = s.NewKey(t, license.KeySpec{Period: 30, MaxNoOfMachines: 2})

	// The second vendor: a hostile product name, a customer linked to paul1234 whose own flag allows freeing.
	op, err := s.Svc.CreateProduct(ctx, license.Admin(), "hostileco", license.ProductSpec{Name: "Tool " + hostile})
	if err != nil {
		t.Fatal(err)
	}
	oc, err := s.Svc.CreateCustomer(ctx, license.Admin(), "hostileco", license.CustomerSpec{Name: "Paul at " + hostile, User: "paul1234"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Store.UpdateCustomer(ctx, oc.ID, func(c *storage.Customer) error {
		c.Flags |= storage.CustomerActivationManagement // customer edit --activation-management=true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f.otherKey = s.NewKeyIn(t, op.ID, license.KeySpec{Period: 10, CustomerID: oc.ID, MaxNoOfMachines: 1, Notes: "notes " + hostile,
		Features: [8]bool{true, false, true}})

	f.activateSimon = s.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodActivate, license.MethodGetKey}})
	issued, err := s.Svc.CreateAPIToken(ctx, "hostileco", license.TokenSpec{Name: "app", Methods: []license.Method{license.MethodActivate}})
	if err != nil {
		t.Fatal(err)
	}
	f.actOth = issued.Token
	f.activate(t, f.activateSimon, f.paulKey, "paul-machine-0123456789abcdef0123456789", hostile)
	f.activate(t, f.activateSimon, f.carolKey, "carol-machine", "Carol's PC")
	f.activate(t, f.actOth, f.otherKey, "other-machine", "Work laptop")
	return f
}

func (f *accountFixture) activate(t *testing.T, token string, k storage.LicenseKey, machine, name string) {
	t.Helper()
	servertest.MustOK(t, "Activate "+machine, f.Post(t, "key/Activate", f.Form(token, k.ProductID, k.Key, "MachineCode", machine, "FriendlyName", name)))
}

func (f *accountFixture) machines(t *testing.T, k storage.LicenseKey) []string {
	t.Helper()
	acts, err := f.Store.ListActivations(context.Background(), k.GlobalID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range acts {
		out = append(out, a.MachineCode)
	}
	return out
}

func lastBlock(key string) string { return key[strings.LastIndex(key, "-")+1:] }

func freeForm(csrf string, k storage.LicenseKey, machine string) url.Values {
	return url.Values{"action": {"free"}, "csrf": {csrf}, "key": {fmt.Sprint(k.GlobalID)}, "machine": {machine}, "floating": {"false"}}
}

func TestAccountLicenses(t *testing.T) {
	f := newAccountFixture(t)
	b := servertest.NewBrowser(t)

	// Not signed in: the sign-in form, with the pages' headers.
	r := servertest.Do(t, "GET", f.url, "", nil)
	if r.Status != 200 || !strings.Contains(r.Body, `id="signin"`) || !strings.Contains(r.Body, "your licenses") {
		t.Fatalf("signed out: %d\n%s", r.Status, r.Body)
	}
	for h, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
		"Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"} {
		if got := r.Header.Get(h); got != want {
			t.Fatalf("%s: %q, want %q", h, got, want)
		}
	}
	if strings.Contains(r.Body, "<style") || strings.Contains(r.Body, "style=") || strings.Contains(r.Body, "<script") {
		t.Fatalf("inline style or script:\n%s", r.Body)
	}
	css := servertest.Do(t, "GET", f.URL+"/account/style.css", "", nil)
	if css.Status != 200 || css.Header.Get("Content-Type") != "text/css; charset=utf-8" || css.Header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.Contains(css.Body, "@media (max-width: 40rem)") {
		t.Fatalf("stylesheet: %d %v", css.Status, css.Header)
	}
	if status, page := b.SignIn(f.url, "paul1234", "wrong"); status != 401 || !strings.Contains(page, "Wrong user name or password.") {
		t.Fatalf("wrong password: %d\n%s", status, page)
	}
	status, page := b.SignIn(f.url, "paul1234", "pa55")
	if status != 200 {
		t.Fatalf("sign-in: %d\n%s", status, page)
	}

	// Paul's keys of both vendors, masked but for the last block; nobody else's.
	servertest.MustContain(t, "paul's licenses", page, `<a href="/account/" id="nav-licenses" aria-current="page">Licenses</a>`,
		`id="license-`+fmt.Sprint(f.paulKey.GlobalID)+`"`, `id="license-`+fmt.Sprint(f.otherKey.GlobalID)+`"`,
		"•••••-"+lastBlock(f.paulKey.Key), "•••••-"+lastBlock(f.otherKey.Key), "from simon0897, for Paul", "from hostileco",
		"paul-mac…6789", "F1, F3", "10 days left", "1 of at most 1", "1 of at most 3", "Work laptop", "127.0.0.1")
	for _, never := range []string{f.paulKey.Key, f.otherKey.Key, f.carolKey.Key, lastBlock(f.carolKey.Key), f.unownedKey.Key,
		lastBlock(f.unownedKey.Key), "carol-machine", "Carol", hostile, "notes", "internal: paid by invoice"} {
		if strings.Contains(page, never) {
			t.Fatalf("paul's page shows %q:\n%s", never, page)
		}
	}
	servertest.MustContain(t, "escaped", page, "Tool &lt;script&gt;alert(1)&lt;/script&gt;", "Paul at &lt;script&gt;")

	// Reveal shows the whole key of one's own license only.
	if _, p := b.Get(f.url + "?reveal=" + fmt.Sprint(f.paulKey.GlobalID)); !strings.Contains(p, f.paulKey.Key) || strings.Contains(p, f.otherKey.Key) {
		t.Fatalf("reveal:\n%s", p)
	}
	if _, p := b.Get(f.url + "?reveal=" + fmt.Sprint(f.carolKey.GlobalID)); strings.Contains(p, f.carolKey.Key) {
		t.Fatalf("revealed carol's key:\n%s", p)
	}

	// Simon's product does not allow it and Paul's record has no flag: no button, a forged POST is refused.
	paulFree := fmt.Sprintf(`id="free-%d-0"`, f.paulKey.GlobalID)
	otherFree := fmt.Sprintf(`id="free-%d-0"`, f.otherKey.GlobalID)
	if strings.Contains(page, paulFree) || !strings.Contains(page, otherFree) {
		t.Fatalf("free buttons:\n%s", page)
	}
	csrf := servertest.CSRFField.FindStringSubmatch(page)[1]
	if status, p := b.Send("POST", f.url, freeForm(csrf, f.paulKey, "paul-machine-0123456789abcdef0123456789")); status != 403 ||
		!strings.Contains(p, "does not let you free") {
		t.Fatalf("forged free where not allowed: %d\n%s", status, p)
	}
	// Carol's key, a key of nobody's, a missing key, a bad id: 404, and nothing changes.
	for _, k := range []storage.LicenseKey{f.carolKey, f.unownedKey, {GlobalID: 99999}, {GlobalID: -1}} {
		machine := "carol-machine"
		if status, p := b.Send("POST", f.url, freeForm(csrf, k, machine)); status != 404 || !strings.Contains(p, "No such license of yours.") {
			t.Fatalf("free on key %d: %d\n%s", k.GlobalID, status, p)
		}
	}
	// CSRF missing, wrong, or another session's: 403.
	other := servertest.NewBrowser(t)
	_, otherPage := other.SignIn(f.url, "carol", "carol-pw")
	for name, token := range map[string]string{"missing": "", "wrong": strings.Repeat("A", 43), "another session's": servertest.CSRFField.FindStringSubmatch(otherPage)[1]} {
		if status, p := b.Send("POST", f.url, freeForm(token, f.otherKey, "other-machine")); status != 403 || !strings.Contains(p, "This form has expired") {
			t.Fatalf("free with a %s CSRF token: %d\n%s", name, status, p)
		}
	}
	if m := f.machines(t, f.paulKey); len(m) != 1 {
		t.Fatalf("paul's machine after refusals: %v", m)
	}
	if m := f.machines(t, f.carolKey); len(m) != 1 {
		t.Fatalf("carol's machine after paul's attempts: %v", m)
	}
	if m := f.machines(t, f.otherKey); len(m) != 1 {
		t.Fatalf("the other machine after refusals: %v", m)
	}
	// Carol sees her own key only.
	if !strings.Contains(otherPage, "•••••-"+lastBlock(f.carolKey.Key)) || strings.Contains(otherPage, lastBlock(f.paulKey.Key)) {
		t.Fatalf("carol's page:\n%s", otherPage)
	}

	// Allowed by the customer flag: freed, 303 back to the page, audited with paul1234 as the actor.
	status, page = b.Submit(f.url, page, "action", "free", "key", fmt.Sprint(f.otherKey.GlobalID), "machine", "other-machine", "floating", "false")
	if status != 200 || !strings.Contains(page, `id="message"`) || strings.Contains(page, "Work laptop") {
		t.Fatalf("free: %d\n%s", status, page)
	}
	if m := f.machines(t, f.otherKey); len(m) != 0 {
		t.Fatalf("after freeing: %v", m)
	}
	if status, p := b.Submit(f.url, page, "action", "free", "key", fmt.Sprint(f.otherKey.GlobalID), "machine", "other-machine"); status != 404 ||
		!strings.Contains(p, "not activated on this license") {
		t.Fatalf("freeing twice: %d\n%s", status, p)
	}

	// The product setting turned on: Simon's key gets its button and frees too.
	on := true
	if _, err := f.Svc.EditProduct(context.Background(), license.Admin(), f.Product.ID, license.ProductEdit{AllowActivationManagement: &on}, nil); err != nil {
		t.Fatal(err)
	}
	_, page = b.Get(f.url)
	if !strings.Contains(page, paulFree) || !strings.Contains(page, `aria-label="Free machine paul-mac…6789 (&lt;script&gt;`) {
		t.Fatalf("no free button after the product allowed it:\n%s", page)
	}
	if status, _ := b.Submit(f.url, page, "action", "free", "key", fmt.Sprint(f.paulKey.GlobalID), "machine", "paul-machine-0123456789abcdef0123456789",
		"floating", "false"); status != 200 {
		t.Fatalf("free paul's machine: %d", status)
	}
	if m := f.machines(t, f.paulKey); len(m) != 0 {
		t.Fatalf("paul's machine after freeing: %v", m)
	}
	// Carol's key in the same product is still not paul's.
	if status, _ := b.Submit(f.url, page, "action", "free", "key", fmt.Sprint(f.carolKey.GlobalID), "machine", "carol-machine"); status != 404 {
		t.Fatalf("free carol's machine once the product allows it: %d", status)
	}
	if m := f.machines(t, f.carolKey); len(m) != 1 {
		t.Fatalf("carol's machine: %v", m)
	}

	var ok, refused int
	for _, e := range f.AuditEvents(t, "license.activation.remove") {
		if e.Actor != "paul1234" {
			t.Fatalf("audit event by %q: %+v", e.Actor, e)
		}
		if e.Outcome == "ok" {
			ok++
		} else {
			refused++
		}
	}
	if ok != 2 || refused < 3 {
		t.Fatalf("audit: %d freed, %d refused", ok, refused)
	}
}

func TestAccountSharesTheSignIn(t *testing.T) {
	f := newAccountFixture(t)
	b := servertest.NewBrowser(t)
	if status, _ := b.SignIn(f.url, "paul1234", "pa55"); status != 200 {
		t.Fatalf("sign-in: %d", status)
	}
	// One sign-in on /account/ covers /User/AuthorizedApps/, which shows the same navigation.
	status, apps := b.Get(f.URL + "/User/AuthorizedApps/")
	if status != 200 || strings.Contains(apps, `id="signin"`) {
		t.Fatalf("authorized apps after signing in on /account/: %d\n%s", status, apps)
	}
	servertest.MustContain(t, "the apps page", apps, `<a href="/User/AuthorizedApps/" id="nav-apps" aria-current="page">Authorized apps</a>`,
		`<a href="/account/" id="nav-licenses">Licenses</a>`, `id="signout"`, `<b id="whoami">paul1234</b>`)
	for _, c := range b.C.Jar.Cookies(mustParse(t, f.URL+"/account/")) {
		if c.Name == "SESSION" {
			t.Fatal("the page sign-in set SESSION")
		}
	}
	// Signing out on the apps page signs out of /account/ too.
	if status, p := b.Submit(f.URL+"/User/AuthorizedApps/", apps, "action", "signout"); status != 200 || !strings.Contains(p, `id="signin"`) {
		t.Fatalf("sign out: %d\n%s", status, p)
	}
	if _, p := b.Get(f.url); !strings.Contains(p, `id="signin"`) || strings.Contains(p, lastBlock(f.paulKey.Key)) {
		t.Fatalf("/account/ after signing out:\n%s", p)
	}
	// A POST without a session is told to sign in; nothing changes.
	_, p := b.Get(f.url)
	if status, _ := b.Submit(f.url, p, "action", "free", "key", fmt.Sprint(f.otherKey.GlobalID), "machine", "other-machine"); status != http.StatusUnauthorized {
		t.Fatalf("free while signed out: %d", status)
	}
	if m := f.machines(t, f.otherKey); len(m) != 1 {
		t.Fatalf("freed while signed out: %v", m)
	}
	// A user linked to no customer is told so.
	h, _ := auth.HashPassword("d-pw", servertest.Cheap)
	if err := f.Store.CreateUser(context.Background(), storage.User{Name: "dave", PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
	if _, p := servertest.NewBrowser(t).SignIn(f.url, "dave", "d-pw"); !strings.Contains(p, `id="no-licenses"`) {
		t.Fatalf("dave's page:\n%s", p)
	}
}

func TestAccountSessionIsBoundToItsHost(t *testing.T) {
	f := newAccountFixture(t, behindProxy)
	victim := browserFrom(t, "192.0.2.1")
	status, page := victim.SignIn(f.url, "paul1234", "pa55")
	if status != 200 || !strings.Contains(page, lastBlock(f.otherKey.Key)) {
		t.Fatalf("sign-in: %d\n%s", status, page)
	}
	thief := browserFrom(t, "192.0.2.2")
	steal(thief, victim, f.url)
	if _, p := thief.Get(f.url); !strings.Contains(p, `id="signin"`) || strings.Contains(p, lastBlock(f.otherKey.Key)) {
		t.Fatalf("/account/ from another host:\n%s", p)
	}
	if status, _ := thief.Submit(f.url, page, "action", "free", "key", fmt.Sprint(f.otherKey.GlobalID), "machine", "other-machine"); status != http.StatusUnauthorized {
		t.Fatalf("free from another host: %d", status)
	}
	if m := f.machines(t, f.otherKey); len(m) != 1 {
		t.Fatalf("freed from another host: %v", m)
	}
	if status, _ := victim.Submit(f.url, page, "action", "free", "key", fmt.Sprint(f.otherKey.GlobalID), "machine", "other-machine"); status != 200 {
		t.Fatalf("free from its own host: %d", status)
	}
}

func TestAccountBadInput(t *testing.T) {
	f := newAccountFixture(t)
	b := servertest.NewBrowser(t)
	_, page := b.SignIn(f.url, "paul1234", "pa55")
	csrf := servertest.CSRFField.FindStringSubmatch(page)[1]
	for name, form := range map[string]url.Values{
		"no key":            {"action": {"free"}, "csrf": {csrf}, "machine": {"other-machine"}},
		"key not a number":  {"action": {"free"}, "csrf": {csrf}, "key": {"1e3"}, "machine": {"other-machine"}},
		"no machine":        {"action": {"free"}, "csrf": {csrf}, "key": {fmt.Sprint(f.otherKey.GlobalID)}},
		"overlong machine":  {"action": {"free"}, "csrf": {csrf}, "key": {fmt.Sprint(f.otherKey.GlobalID)}, "machine": {strings.Repeat("m", 5000)}},
		"floating mismatch": {"action": {"free"}, "csrf": {csrf}, "key": {fmt.Sprint(f.otherKey.GlobalID)}, "machine": {"other-machine"}, "floating": {"true"}},
	} {
		if status, _ := b.Send("POST", f.url, form); status != 404 {
			t.Fatalf("%s: %d", name, status)
		}
	}
	if status, _ := b.Send("POST", f.url, url.Values{"action": {"nonsense"}, "csrf": {csrf}}); status != 400 {
		t.Fatalf("unknown action: %d", status)
	}
	if status, _ := b.Send("POST", f.url, url.Values{"action": {"free"}, "csrf": {csrf}, "pad": {strings.Repeat("x", 9000)}}); status != 413 {
		t.Fatalf("an overlong form: %d", status)
	}
	if m := f.machines(t, f.otherKey); len(m) != 1 {
		t.Fatalf("bad input changed something: %v", m)
	}
	// A reveal of nonsense reveals nothing.
	if status, p := b.Get(f.url + "?reveal=abc"); status != 200 || strings.Contains(p, f.otherKey.Key) {
		t.Fatalf("reveal=abc: %d", status)
	}
}
