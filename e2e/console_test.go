package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The web console in headless Chromium against the built binary: the operator signs in, creates a user and
// makes it a vendor; the vendor signs in, creates a product and three keys through the forms; an app activates
// one key over the Cryptolens API; the vendor sees the activation on the key's page and frees the seat with
// its button. Another vendor's key is not found by URL, and bad input is answered beside its field with
// nothing saved. Every page is photographed at 1280 and 390 px into bin/screenshots/.

// keyRE matches a license key as the CLI prints it.
var keyRE = regexp.MustCompile(`[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}`)

// consolePage drives the console in one tab.
type consolePage struct {
	t    *testing.T
	ctx  context.Context
	base string // the server's URL
	shot string // the screenshots' folder
}

func (c *consolePage) run(a chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, a); err != nil {
		c.t.Fatal(err)
	}
}

// eval evaluates a JavaScript expression that yields a string.
func (c *consolePage) eval(js string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		c.t.Fatalf("%s: %v", js, err)
	}
	return v
}

// waitFor polls until the JavaScript condition holds.
func (c *consolePage) waitFor(what, cond string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		c.t.Fatalf("waiting for %s (%s): %v\npage: %s", what, cond, err, c.mainText())
	}
}

func (c *consolePage) mainText() string {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('main') ? document.getElementById('main').innerText : document.body.innerText`))
	return v
}

// open loads a console path and waits for its heading.
func (c *consolePage) open(path, heading string) {
	c.t.Helper()
	c.run(chromedp.Navigate(c.base + "/console/" + path))
	c.waitHeading(heading)
}

func (c *consolePage) waitHeading(heading string) {
	c.t.Helper()
	c.waitFor("heading "+strconv.Quote(heading), fmt.Sprintf(`(document.querySelector('main h1') || {}).textContent === %q && !document.querySelector('main .loading')`, heading))
}

func (c *consolePage) fill(id, value string) {
	c.t.Helper()
	c.run(chromedp.SetValue(chromedp.ID(id), value))
}

func (c *consolePage) click(sel string) {
	c.t.Helper()
	c.run(chromedp.Click(chromedp.CSS(sel)))
}

// clickIn presses the button labelled label in the table row that contains text.
func (c *consolePage) clickIn(text, label string) {
	c.t.Helper()
	ok := c.eval(fmt.Sprintf(`(() => { const tr = [...document.querySelectorAll('main tbody tr')].find(r => r.textContent.includes(%q));
		const b = tr && [...tr.querySelectorAll('button')].find(b => b.textContent.trim() === %q); if (!b) return 'no'; b.click(); return 'ok'; })()`, text, label))
	if ok != "ok" {
		c.t.Fatalf("no button %q in a row with %q:\n%s", label, text, c.mainText())
	}
}

func (c *consolePage) signIn(user, pass string) {
	c.t.Helper()
	c.run(chromedp.Navigate(c.base + "/console/"))
	c.waitHeading("Sign in to the console")
	c.fill("signin-user", user)
	c.fill("signin-password", pass)
	c.click("#signin-submit")
	c.waitHeading("Overview")
}

// signInByKeyboard signs in without the mouse: the page focuses the user name; Tab, then Enter submits.
func (c *consolePage) signInByKeyboard(user, pass string) {
	c.t.Helper()
	c.run(chromedp.Navigate(c.base + "/console/"))
	c.waitHeading("Sign in to the console")
	c.waitFor("the user name focused", `document.activeElement && document.activeElement.id === 'signin-user'`)
	c.run(chromedp.KeyEvent(user))
	c.run(chromedp.KeyEvent(kb.Tab))
	c.waitFor("the password focused", `document.activeElement.id === 'signin-password'`)
	c.run(chromedp.KeyEvent(pass))
	c.run(chromedp.KeyEvent(kb.Enter))
	c.waitHeading("Overview")
}

// mustBeLabelled fails when a control of the page has no label, or something clickable is not a button or link.
func (c *consolePage) mustBeLabelled(page string) {
	c.t.Helper()
	bad := c.eval(`[...document.querySelectorAll('input, select, textarea')].filter(el => !el.labels || el.labels.length === 0)
		.map(el => el.id || el.name).concat([...document.querySelectorAll('[role=button], div[tabindex="0"]:not(.table-wrap), span[tabindex]')].map(el => el.outerHTML.slice(0, 60))).join(', ')`)
	if bad != "" {
		c.t.Errorf("%s: controls without a label, or clickable elements that are not buttons: %s", page, bad)
	}
}

func (c *consolePage) signOut() {
	c.t.Helper()
	c.click("#signout")
	c.waitHeading("Sign in to the console")
}

// screenshots photographs the page as it is at 1280 px and at 390 px (phone) wide.
func (c *consolePage) screenshots(name string) {
	c.t.Helper()
	for _, w := range []int64{1280, 390} {
		h := int64(900)
		if w == 390 {
			h = 844
		}
		c.run(viewport(w, h))
		ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		cancel()
		if err != nil {
			c.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(c.shot, fmt.Sprintf("%s-%d.png", name, w)), png, 0o644); err != nil {
			c.t.Fatal(err)
		}
	}
	c.run(chromedp.EmulateViewport(1280, 900))
}

// viewport emulates a desktop window, or below 500 px a phone held upright (overlay scrollbars, as phones have).
func viewport(w, h int64) chromedp.Action[chromedp.Void] {
	if w < 500 {
		return chromedp.EmulateViewport(w, h, chromedp.EmulatePortrait, chromedp.EmulateMobile)
	}
	return chromedp.EmulateViewport(w, h)
}

func TestConsole(t *testing.T) {
	srv := startServer(t)
	ctx := browser(t, nil)
	shots := filepath.Join(repoRoot, "bin", "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	c := &consolePage{t: t, ctx: ctx, base: srv.URL, shot: shots}
	c.run(chromedp.EmulateViewport(1280, 900))

	// Another vendor, with a product and a key, made with the CLI.
	srv.mustCLI(t, "other-password-1\n", "user", "add", "othervendor", "--password-stdin")
	srv.mustCLI(t, "", "vendor", "add", "othervendor")
	otherProduct := createdID(t, srv.mustCLI(t, "", "product", "add", "Other App", "--vendor", "othervendor"), "product")
	otherKey := strings.TrimSpace(srv.mustCLI(t, "", "key", "create", "--product", otherProduct))

	// The operator signs in and sees every page.
	c.run(chromedp.Navigate(srv.URL + "/console/"))
	c.waitHeading("Sign in to the console")
	c.screenshots("signin")
	c.signIn(adminUser, srv.AdminPassword)
	c.screenshots("overview-operator")
	for _, p := range [][3]string{
		{"users", "Users", "users"}, {"vendors", "Vendors", "vendors"}, {"admin-tokens", "Admin API tokens", "admin-tokens"},
		{"tokens", "Spectrum tokens", "tokens"}, {"sessions", "Sessions", "sessions"}, {"clients", "API clients", "clients"},
		{"oauth-tokens", "OAuth tokens", "oauth-tokens"}, {"powerauth/apps", "PowerAuth apps", "powerauth-apps"},
		{"powerauth/activations", "PowerAuth activations", "powerauth-activations"}, {"powerauth/tokens", "PowerAuth tokens", "powerauth-tokens"},
		{"customers", "Customers", "customers"}, {"api-tokens", "Licensing API tokens", "api-tokens"},
		{"woocommerce/stores", "WooCommerce stores", "woocommerce-stores"}, {"app-authorizations", "App authorizations", "app-authorizations"},
		{"app-devices", "App devices", "app-devices"}, {"audit", "Audit log", "audit"},
	} {
		c.open(p[0], p[1])
		c.mustBeLabelled(p[0])
		c.screenshots(p[2])
	}
	// The menu at phone width: collapsed behind its button, opened by it.
	c.run(viewport(390, 844))
	if v := c.eval(`getComputedStyle(document.getElementById('menu')).display`); v != "none" {
		t.Fatalf("the menu at 390 px is shown before it is opened: display %s", v)
	}
	c.click("#menu-toggle")
	c.waitFor("the opened menu", `getComputedStyle(document.getElementById('menu')).display !== 'none' && document.getElementById('menu-toggle').getAttribute('aria-expanded') === 'true'`)
	c.screenshots("menu") // ends at 1280 px, where the menu is a column of its own

	// Bad input: a user name the server refuses is answered beside the name field, and no user is made.
	c.open("users", "Users")
	c.click("#create-users-details > summary")
	c.fill("create-users-name", "acme:corp")
	c.fill("create-users-password", "acme-password-1")
	c.click("#create-users-submit")
	c.waitFor("the name's error", `!document.getElementById('create-users-name-error').hidden`)
	if msg := c.eval(`document.getElementById('create-users-name-error').textContent`); !strings.Contains(msg, "contains ':'") {
		t.Fatalf("the name's error: %q", msg)
	}
	if c.eval(`document.getElementById('create-users-name').getAttribute('aria-invalid')`) != "true" {
		t.Fatal("the refused field is not marked invalid")
	}
	c.screenshots("users-bad-input")
	if out := srv.mustCLI(t, "", "user", "list"); strings.Contains(out, "acme") {
		t.Fatalf("a refused user was saved:\n%s", out)
	}
	// A short password never leaves the browser: the form's own rule says so beside the field.
	c.fill("create-users-name", "acme")
	c.fill("create-users-password", "short")
	c.click("#create-users-submit")
	c.waitFor("the password's error", `!document.getElementById('create-users-password-error').hidden`)
	c.fill("create-users-password", "acme-password-1")
	c.click("#create-users-submit")
	c.waitFor("the new user in the list", `[...document.querySelectorAll('main tbody tr')].some(r => r.textContent.includes('acme'))`)
	c.clickIn("acme", "Make vendor")
	c.waitFor("the vendor made", `document.getElementById('status').textContent === 'Make vendor: done.'`)
	c.open("vendors", "Vendors")
	c.waitFor("acme among the vendors", `[...document.querySelectorAll('main tbody tr')].some(r => r.textContent.includes('acme'))`)
	c.signOut()

	// The vendor signs in, with the keyboard alone: the operator-only entries are not in the menu.
	c.signInByKeyboard("acme", "acme-password-1")
	c.screenshots("overview-vendor")
	if menu := c.eval(`document.getElementById('menu').innerText`); strings.Contains(menu, "Users") || strings.Contains(menu, "Sessions") || !strings.Contains(menu, "Products") {
		t.Fatalf("the vendor's menu:\n%s", menu)
	}
	c.open("products", "Products")
	c.click("#create-products-details > summary")
	if c.eval(`String(document.getElementById('create-products-vendor') === null)`) != "true" {
		t.Fatal("the vendor is asked for a vendor")
	}
	c.fill("create-products-name", "Photo Editor")
	c.click("#create-products-submit")
	c.waitFor("the product in the list", `[...document.querySelectorAll('main tbody tr')].some(r => r.textContent.includes('Photo Editor'))`)
	c.screenshots("products")
	product := c.eval(`[...document.querySelectorAll('main tbody tr')].find(r => r.textContent.includes('Photo Editor')).querySelector('td').textContent`)
	c.click("main tbody tr a[href$='/products/" + product + "']")
	c.waitHeading("Product Photo Editor")
	c.screenshots("product")

	c.open("products/"+product+"/keys", "License keys of product "+product)
	c.click("#create-keys-details > summary")
	// Bad input the server refuses (a client that skips the form's own limit): beside the field, nothing saved.
	c.fill("create-keys-count", "3")
	c.eval(`document.getElementById('create-keys-max_machines').removeAttribute('max'); ''`)
	c.fill("create-keys-max_machines", "2000000")
	c.click("#create-keys-submit")
	c.waitFor("the machines' error", `!document.getElementById('create-keys-max_machines-error').hidden`)
	if msg := c.eval(`document.getElementById('create-keys-max_machines-error').textContent`); !strings.Contains(msg, "max_machines") && !strings.Contains(msg, "machines") {
		t.Fatalf("the machines' error: %q", msg)
	}
	if n := c.eval(`String(document.querySelectorAll('main #results tbody tr').length)`); n != "0" {
		t.Fatalf("%s keys after a refused create", n)
	}
	if out := srv.mustCLI(t, "", "key", "list", "--product", product); keyRE.MatchString(out) {
		t.Fatalf("keys saved after a refused create:\n%s", out)
	}
	c.screenshots("keys-bad-input")
	c.fill("create-keys-max_machines", "1")
	c.fill("create-keys-features", "1, 3")
	c.click("#create-keys-submit")
	c.waitFor("three keys", `document.querySelectorAll('main #results tbody tr').length === 3`)
	c.screenshots("keys")
	key := c.eval(`document.querySelector('main #results tbody tr td a').textContent`)

	// An app activates the first key over the Cryptolens API, with a licensing API token made by the CLI.
	token := strings.TrimSpace(srv.mustCLI(t, "", "apitoken", "create", "--vendor", "acme", "--methods", "Activate",
		"--product-lock", product, "--name", "console e2e"))
	res, err := http.PostForm(srv.URL+"/api/key/Activate", url.Values{"token": {token}, "ProductId": {product}, "Key": {key}, "MachineCode": {"photo-pc-1"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	var answer struct {
		Result  int    `json:"result"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &answer) != nil || answer.Result != 0 {
		t.Fatalf("Activate: %d %s", res.StatusCode, body)
	}

	// The vendor sees the activation on the key's page and frees the seat.
	c.click("main #results tbody tr td a")
	c.waitHeading("Key " + key)
	c.mustBeLabelled("the key's page")
	c.waitFor("the activation", `document.querySelector('section.child') && document.querySelector('section.child').textContent.includes('photo-pc-1')`)
	c.screenshots("key")
	c.clickIn("photo-pc-1", "Free the seat")
	c.waitFor("the confirmation", `document.getElementById('confirm').open`)
	c.click("#confirm-yes")
	c.waitFor("the freed seat", `document.querySelector('section.child').textContent.includes('No machine has activated this key.')`)
	if out := srv.mustCLI(t, "", "key", "show", "--product", product, key); !regexp.MustCompile(`activations:\s+0\n`).MatchString(out) {
		t.Fatalf("the seat is still taken:\n%s", out)
	}
	// On reload the deep link still shows the key's page.
	c.run(chromedp.Reload())
	c.waitHeading("Key " + key)

	// Another vendor's key, by URL: not found, as if it did not exist.
	c.open("products/"+otherProduct+"/keys/"+otherKey, "Not found")
	if text := c.mainText(); strings.Contains(text, otherKey+"\n") || !strings.Contains(text, "Error: Not found") {
		t.Fatalf("another vendor's key:\n%s", text)
	}
	c.screenshots("key-not-found")
	c.signOut()
	// After sign-out the API refuses the browser: its cookie is gone and the session ended.
	ectx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ectx, chromedp.Evaluate[string](`fetch('/admin/v1/me', {headers: {'X-CSRF-Token': 'x'}}).then(r => String(r.status))`, chromedp.EvalAwaitPromise))
	if err != nil || v != "401" {
		t.Fatalf("/admin/v1/me after sign-out: %s %v", v, err)
	}
}
