package e2e

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestAccountPageInBrowser: the vendor, its product (customers may free machines), a key for carol's customer
// record and a licensing API token are made with the CLI; an app activates the key through key/Activate;
// carol signs in at /account/ in headless Chromium, sees the key and the machine, frees the machine with the
// keyboard, and GetKey shows it gone. Screenshots of /account/ at 1280 and 390 px go to bin/screenshots/.
func TestAccountPageInBrowser(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.mustCLI(t, "carol-pass-1\n", "user", "add", "carol", "--password-stdin")
	srv.mustCLI(t, "", "vendor", "add", adminUser)
	product := createdID(t, srv.mustCLI(t, "", "product", "add", "Photo Editor", "--vendor", adminUser), "product")
	if out := srv.mustCLI(t, "", "product", "edit", product, "--allow-activation-management=true"); !strings.Contains(out, "customers manage activations true") {
		t.Fatalf("product edit: %q", out)
	}
	customer := createdID(t, srv.mustCLI(t, "", "customer", "add", "--vendor", adminUser, "--name", "Carol", "--user", "carol"), "customer")
	key := strings.TrimSpace(srv.mustCLI(t, "", "key", "create", "--product", product, "--customer", customer, "--period", "30",
		"--max-machines", "2", "--features", "1,3"))
	token := strings.TrimSpace(srv.mustCLI(t, "", "apitoken", "create", "--vendor", adminUser, "--methods", "Activate,GetKey",
		"--product-lock", product, "--name", "photo editor"))
	const machine = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	call := func(method string, kv ...string) map[string]any {
		t.Helper()
		form := url.Values{"token": {token}, "ProductId": {product}, "Key": {key}}
		for i := 0; i+1 < len(kv); i += 2 {
			form.Set(kv[i], kv[i+1])
		}
		res, err := httpClient.PostForm(srv.URL+"/api/key/"+method, form)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		var m map[string]any
		if json.Unmarshal(body, &m) != nil || m["result"] != float64(0) {
			t.Fatalf("%s: HTTP %d %s", method, res.StatusCode, body)
		}
		return m
	}
	machines := func() []string {
		t.Helper()
		var lic struct {
			ActivatedMachines []struct{ Mid string }
		}
		raw, err := base64.StdEncoding.DecodeString(call("GetKey")["licenseKey"].(string))
		if err != nil || json.Unmarshal(raw, &lic) != nil {
			t.Fatalf("GetKey: %v", err)
		}
		var out []string
		for _, m := range lic.ActivatedMachines {
			out = append(out, m.Mid)
		}
		return out
	}
	call("Activate", "MachineCode", machine, "FriendlyName", "Carol's laptop")
	if got := machines(); len(got) != 1 || got[0] != machine {
		t.Fatalf("after Activate: %v", got)
	}

	ctx := browser(t, nil)
	p := &page{t: t, ctx: ctx}
	run(p, chromedp.Steps(chromedp.EmulateViewport(1280, 900), chromedp.Navigate(srv.URL+"/account/"), chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "carol"), chromedp.SendKeys(chromedp.ID("password"), "carol-pass-1"),
		chromedp.Click(chromedp.ID("signin")), chromedp.WaitVisible(`section.license`)))
	text := p.eval(`document.querySelector('main').innerText`)
	last := key[strings.LastIndex(key, "-")+1:]
	for _, want := range []string{"Photo Editor", last, "9f86d081…0a08", "Carol's laptop", "F1, F3", "30 days left", "1 of at most 2", "active"} {
		if !strings.Contains(text, want) {
			t.Fatalf("/account/ does not show %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, key) {
		t.Fatalf("the key is shown whole before asking:\n%s", text)
	}
	// The stylesheet applied (the CSP allows it and nothing inline).
	if w := p.eval(`getComputedStyle(document.querySelector('main')).maxWidth`); w != "1152px" {
		t.Fatalf("main's max-width %q: the stylesheet did not apply", w)
	}
	shots := filepath.Join(repoRoot, "bin", "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	screenshot := func(name string, width int64) {
		t.Helper()
		run(p, chromedp.EmulateViewport(width, 900, chromedp.EmulateScale(1)))
		png := run(p, chromedp.FullScreenshot(100)) // 100: PNG (below it, JPEG)
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	screenshot("account-1280.png", 1280)
	screenshot("account-390.png", 390)
	// At 390 px nothing is wider than the screen.
	if fits := p.eval(`String(document.documentElement.scrollWidth <= window.innerWidth)`); fits != "true" {
		t.Fatalf("at 390 px the page scrolls sideways: %s > %s", p.eval(`String(document.documentElement.scrollWidth)`), p.eval(`String(window.innerWidth)`))
	}
	run(p, chromedp.EmulateReset())

	// The whole key on request, with the keyboard: focus the Show button, press Enter.
	run(p, chromedp.Steps(chromedp.Focus(`button[name=reveal]`), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(`button[id^=hide-]`)))
	if text := p.eval(`document.querySelector('.key').innerText`); text != key {
		t.Fatalf("revealed key %q, want %q", text, key)
	}
	// Free the machine, with the keyboard as well; the page comes back with a message and no machine.
	run(p, chromedp.Steps(chromedp.Focus(`button[name=action][value=free]`), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.ID("message"))))
	if text := p.eval(`document.querySelector('main').innerText`); !strings.Contains(text, "Not activated on any machine.") || strings.Contains(text, "Carol's laptop") {
		t.Fatalf("after freeing:\n%s", text)
	}
	if got := machines(); len(got) != 0 {
		t.Fatalf("GetKey after freeing on /account/: %v", got)
	}
	// The audit log names carol as the one who freed it.
	if out := srv.mustCLI(t, "", "audit", "--action", "license.activation.remove"); !strings.Contains(out, "carol") {
		t.Fatalf("audit: %q", out)
	}
	// The navigation leads to the authorized apps, signed in, and Sign out ends the session on both.
	run(p, chromedp.Steps(chromedp.Click(chromedp.ID("nav-apps")), chromedp.WaitVisible(chromedp.ID("no-apps"))))
	run(p, chromedp.Steps(chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("signin"))))
	run(p, chromedp.Steps(chromedp.Navigate(srv.URL+"/account/"), chromedp.WaitVisible(chromedp.ID("signin"))))
}
