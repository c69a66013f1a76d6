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
// makes it a vendor on the user's page, creates an API client and gives it a new secret; the vendor signs in,
// creates a product and three keys, a customer, a licensing API token (its secret shown once) and WooCommerce
// stores through the forms; an app activates one key over the Cryptolens API with that token; the vendor sees
// the activation in the overview's chart and table at once, and on the key's page, and frees the seat with its
// button. Another vendor's key is not found by URL, and bad input in every form is answered beside its field
// with nothing saved (checked through the API). Every page is photographed at 1280 and 390 px into
// bin/screenshots/.

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
	if value == "" { // SetValue refuses an empty value
		if c.eval(fmt.Sprintf(`(el => el ? (el.value = '', 'ok') : 'no')(document.getElementById(%q))`, id)) != "ok" {
			c.t.Fatalf("no field %s", id)
		}
		return
	}
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

// evalAsync evaluates a JavaScript expression that yields a promise of a string.
func (c *consolePage) evalAsync(js string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		c.t.Fatalf("%s: %v", js, err)
	}
	return v
}

// apiStatus is the status of a GET of the management API with the browser's console session.
func (c *consolePage) apiStatus(path string) string {
	c.t.Helper()
	return c.evalAsync(fmt.Sprintf(`fetch(%q, {cache: 'no-store'}).then(r => String(r.status))`, path))
}

// apiCount is how many items a list of the management API answers the browser's console session.
func (c *consolePage) apiCount(path string) string {
	c.t.Helper()
	return c.evalAsync(fmt.Sprintf(`fetch(%q, {cache: 'no-store'}).then(r => r.ok ? r.json().then(b => String(b.items.length)) : 'HTTP ' + r.status)`, path))
}

// fieldError waits for the error beside the field id and fails unless it contains want.
func (c *consolePage) fieldError(id, want string) {
	c.t.Helper()
	c.waitFor(id+"'s error", fmt.Sprintf(`!document.getElementById('%s-error').hidden`, id))
	if msg := c.eval(fmt.Sprintf(`document.getElementById('%s-error').textContent`, id)); !strings.Contains(msg, want) {
		c.t.Fatalf("the error beside %s: %q, want %q in it", id, msg, want)
	}
	if c.eval(fmt.Sprintf(`document.getElementById(%q).getAttribute('aria-invalid')`, id)) != "true" {
		c.t.Fatalf("%s is not marked invalid", id)
	}
}

// pageButton reports whether the page's actions offer a button labelled label.
func (c *consolePage) pageButton(label string) bool {
	c.t.Helper()
	return c.eval(fmt.Sprintf(`String([...document.querySelectorAll('main .page-actions button')].some(b => b.textContent.trim() === %q))`, label)) == "true"
}

func (c *consolePage) clickPageButton(label string) {
	c.t.Helper()
	ok := c.eval(fmt.Sprintf(`(b => b ? (b.click(), 'ok') : 'no')([...document.querySelectorAll('main .page-actions button')].find(b => b.textContent.trim() === %q))`, label))
	if ok != "ok" {
		c.t.Fatalf("no button %q among the page's actions:\n%s", label, c.mainText())
	}
}

// clientCredentials asks the OAuth token endpoint for a token with an API client's id and key: its status.
func (c *consolePage) clientCredentials(id, key string) int {
	c.t.Helper()
	req, err := http.NewRequest("POST", c.base+"/auth/token", strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	return res.StatusCode
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
	// "Make vendor" is on the page of a user who is not a vendor yet, and only there.
	c.open("users/othervendor", "User othervendor")
	if c.pageButton("Make vendor") {
		t.Fatalf("a vendor is offered Make vendor:\n%s", c.mainText())
	}
	c.open("users/acme", "User acme")
	c.mustBeLabelled("the user's page")
	c.screenshots("user")
	c.clickPageButton("Make vendor")
	c.waitFor("the vendor made", `document.getElementById('status').textContent === 'Make vendor: done.'`)
	c.waitFor("the page redrawn without the action", `[...document.querySelectorAll('main .page-actions a')].some(a => a.textContent === 'Products')`)
	if c.pageButton("Make vendor") {
		t.Fatal("Make vendor is still offered to a vendor")
	}
	c.open("vendors", "Vendors")
	c.waitFor("acme among the vendors", `[...document.querySelectorAll('main tbody tr')].some(r => r.textContent.includes('acme'))`)

	// An API client: a scope the server refuses is answered beside the scopes, and no client is made.
	c.open("clients", "API clients")
	c.click("#create-clients-details > summary")
	c.fill("create-clients-id", "billing")
	c.fill("create-clients-scopes", `Partner Re"ports`)
	c.click("#create-clients-submit")
	c.fieldError("create-clients-scopes", "scope")
	c.screenshots("clients-bad-input")
	if st := c.apiStatus("/admin/v1/clients/billing"); st != "404" {
		t.Fatalf("a refused client was saved: GET /clients/billing %s", st)
	}
	c.fill("create-clients-scopes", "Partner Reports")
	c.fill("create-clients-description", "Billing system")
	c.click("#create-clients-submit")
	c.waitFor("the client's keys, shown once", `document.querySelectorAll('main .create-out .secret').length === 2`)
	primary := c.eval(`document.querySelector('main .create-out .secret code').textContent`)
	c.waitFor("the client in the list", `[...document.querySelectorAll('main #results tbody tr')].some(r => r.textContent.includes('billing'))`)
	c.screenshots("clients")
	c.click("main #results tbody tr td a[href$='/clients/billing']")
	c.waitHeading("API client billing")
	c.mustBeLabelled("the client's page")
	// A new primary key: confirmed, shown once, and the key before no longer gets a token.
	c.click("#clients-form0-submit")
	c.waitFor("the confirmation", `document.getElementById('confirm').open`)
	c.click("#confirm-yes")
	c.waitFor("the new key, shown once", `document.querySelector('main .action-out .secret code') !== null`)
	newKey := c.eval(`document.querySelector('main .action-out .secret code').textContent`)
	if newKey == "" || newKey == primary {
		t.Fatalf("the new key %q (the first %q)", newKey, primary)
	}
	c.screenshots("client")
	if st := c.clientCredentials("billing", primary); st != 401 {
		t.Fatalf("the replaced key still gets a token: %d", st)
	}
	if st := c.clientCredentials("billing", newKey); st != 200 {
		t.Fatalf("the new key gets no token: %d", st)
	}
	c.signOut()

	// The vendor signs in, with the keyboard alone: the operator-only entries are not in the menu, and the
	// overview has no live counts and only the chart of its own activations.
	c.signInByKeyboard("acme", "acme-password-1")
	if n := c.eval(`String(document.querySelectorAll('main figure img').length) + (document.getElementById('live-title') ? ' live' : '')`); n != "1" {
		t.Fatalf("the vendor's overview: %s charts:\n%s", n, c.mainText())
	}
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

	// A customer: a blank name is refused by the server beside the name, nothing saved; then one is made.
	c.open("customers", "Customers")
	c.click("#create-customers-details > summary")
	c.fill("create-customers-name", "   ")
	c.fill("create-customers-email", "carol@example.com")
	c.click("#create-customers-submit")
	c.fieldError("create-customers-name", "name")
	c.screenshots("customers-bad-input")
	if n := c.apiCount("/admin/v1/customers"); n != "0" {
		t.Fatalf("%s customers after a refused create", n)
	}
	c.fill("create-customers-name", "Carol")
	c.fill("create-customers-max_devices", "3")
	c.click("#create-customers-submit")
	c.waitFor("the customer in the list", `[...document.querySelectorAll('main #results tbody tr')].some(r => r.textContent.includes('carol@example.com'))`)
	c.screenshots("customers")
	c.click("main #results tbody tr td a")
	c.waitHeading("Customer Carol")
	c.mustBeLabelled("the customer's page")
	c.screenshots("customer")

	// A licensing API token for the app: a method the server does not know is refused beside the methods;
	// then the token is made and its secret shown once.
	c.open("api-tokens", "Licensing API tokens")
	c.click("#create-api-tokens-details > summary")
	c.fill("create-api-tokens-name", "desktop app")
	c.fill("create-api-tokens-methods", "Activate Teleport")
	c.fill("create-api-tokens-product_lock", product)
	c.click("#create-api-tokens-submit")
	c.fieldError("create-api-tokens-methods", "Teleport")
	c.screenshots("api-tokens-bad-input")
	if n := c.apiCount("/admin/v1/api-tokens"); n != "0" {
		t.Fatalf("%s licensing API tokens after a refused create", n)
	}
	c.fill("create-api-tokens-methods", "Activate")
	c.click("#create-api-tokens-submit")
	c.waitFor("the token, shown once", `document.querySelector('main .create-out .secret code') !== null`)
	token := c.eval(`document.querySelector('main .create-out .secret code').textContent`)
	c.waitFor("the token in the list", `[...document.querySelectorAll('main #results tbody tr')].some(r => r.textContent.includes('desktop app'))`)
	c.screenshots("api-tokens")
	c.open("api-tokens", "Licensing API tokens")
	if strings.Contains(c.mainText(), token) {
		t.Fatal("the token's secret is shown again")
	}

	// WooCommerce stores: a vendor does not choose a store's code (the form has no such field); the server
	// makes one and shows it once. A name too long is refused beside the name, nothing saved.
	c.open("woocommerce/stores", "WooCommerce stores")
	c.click("#create-woocommerce-details > summary")
	if c.eval(`String(document.getElementById('create-woocommerce-code') !== null)`) == "true" {
		t.Fatal("a vendor is offered a store code field")
	}
	c.fill("create-woocommerce-name", "Acme shop")
	c.click("#create-woocommerce-submit")
	c.waitFor("the store in the list", `[...document.querySelectorAll('main #results tbody tr')].some(r => r.textContent.includes('Acme shop'))`)
	c.waitFor("the code made, shown once", `document.querySelector('main .create-out .secret code') !== null`)
	c.fill("create-woocommerce-name", strings.Repeat("x", 300))
	c.click("#create-woocommerce-submit")
	c.fieldError("create-woocommerce-name", "name")
	c.screenshots("woocommerce-bad-input")
	if n := c.apiCount("/admin/v1/woocommerce/stores"); n != "1" {
		t.Fatalf("%s stores after a refused create", n)
	}
	c.fill("create-woocommerce-name", "Acme outlet")
	c.click("#create-woocommerce-submit")
	c.waitFor("two stores", `document.querySelectorAll('main #results tbody tr').length === 2`)
	c.screenshots("woocommerce-stores-vendor")
	c.click("main #results tbody tr td a")
	c.waitHeading("Store Acme shop")
	c.fill("woocommerce-form0-sku", "ED-PRO")
	c.fill("woocommerce-form0-product", product)
	c.click("#woocommerce-form0-submit")
	c.waitFor("the SKU", `document.querySelector('section.child') && document.querySelector('section.child').textContent.includes('ED-PRO')`)
	c.mustBeLabelled("the store's page")
	c.screenshots("woocommerce-store")

	// An app activates the first key over the Cryptolens API, with the licensing API token made above.
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

	// The overview shows it at once (this node's counts not yet written included): the chart loads, its text
	// alternative counts 1 for the product, and so does the table of the stats the page read.
	c.open("", "Overview")
	c.waitFor("the chart loaded", `(i => i && i.complete && i.naturalWidth > 0)(document.getElementById('chart-activations-per-day'))`)
	chart := c.evalAsync(`fetch(document.getElementById('chart-activations-per-day').src).then(async r => r.status + ' ' + await r.text())`)
	if !strings.HasPrefix(chart, "200 ") || !strings.Contains(chart, "Photo Editor: 1 activations in all") {
		t.Fatalf("the activations chart: %.600s", chart)
	}
	if row := c.eval(`(r => r ? r.innerText.replace(/\s+/g, ' ') : '')([...document.querySelectorAll('#activations tbody tr')].find(r => r.textContent.includes('Photo Editor')))`); row != "Photo Editor 1 1" {
		t.Fatalf("the activations table's row: %q", row)
	}
	c.screenshots("overview-vendor")
	c.open("products/"+product+"/keys", "License keys of product "+product)

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
	// The edit form sets the key's expiry; saving another member leaves the expiry as it was, to the second.
	c.fill("edit-keys-expires", "2030-12-31T23:59")
	c.click("#edit-keys-submit")
	c.waitFor("saved", `document.getElementById('status').textContent === 'Saved.'`)
	keyAPI := "/admin/v1/products/" + product + "/keys/" + key
	want := c.eval(`new Date('2030-12-31T23:59').toISOString().replace('.000Z', 'Z')`)
	expiresAt := func() string {
		return c.evalAsync(fmt.Sprintf(`fetch(%q, {cache: 'no-store'}).then(r => r.json()).then(k => k.expires_at)`, keyAPI))
	}
	if got := expiresAt(); got != want {
		t.Fatalf("the key's expiry after the edit: %s, want %s", got, want)
	}
	c.waitHeading("Key " + key)
	c.eval(`document.getElementById('status').textContent = ''; ''`)
	c.fill("edit-keys-notes", "renewed by phone")
	c.click("#edit-keys-submit")
	c.waitFor("saved again", `document.getElementById('status').textContent === 'Saved.'`)
	if !strings.Contains(c.eval(`document.querySelector('main dl.facts').textContent`), "renewed by phone") {
		t.Fatalf("the notes not saved:\n%s", c.mainText())
	}
	if got := expiresAt(); got != want {
		t.Fatalf("the key's expiry after editing the notes: %s, want %s", got, want)
	}

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
