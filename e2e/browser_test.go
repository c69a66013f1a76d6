package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The example app (examples/browser) in headless Chromium, served from another origin than the service:
// it signs in with credentials, uses its token with the SESSION cookie, is refused from an origin that is
// not listed, and is refused after logout. Chromium is Debian's, installed by .ci/run.

const chromiumPath = "/usr/bin/chromium"

var exampleDir = filepath.Join("..", "examples", "browser")

// browser starts a fresh headless Chromium with the flags this machine needs (no sandbox as root, nothing
// that reaches the network) and an empty profile. extraFlags are added as --name=value.
func browser(t *testing.T, extraFlags map[string]string) context.Context {
	t.Helper()
	needServer(t)
	if _, err := os.Stat(chromiumPath); err != nil {
		skipOrFatal(t, "%s not installed (Debian package chromium): %v", chromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	for k, v := range extraFlags {
		opts = append(opts, chromedp.Flag(k, v))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first call starts the browser, which lives as long as ctx: no timeout on it (chromedp's rule);
	// each later step gets its own.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return ctx
}

// page drives the example app in one tab.
type page struct {
	t   *testing.T
	ctx context.Context
}

// run runs one action with a time limit.
func run[T any](p *page, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.t.Fatal(err)
	}
	return v
}

func openPage(t *testing.T, ctx context.Context, pageURL, serviceURL string) *page {
	t.Helper()
	p := &page{t: t, ctx: ctx}
	u := pageURL + "/index.html?service=" + url.QueryEscape(serviceURL)
	run(p, chromedp.Steps(chromedp.Navigate(u), chromedp.WaitVisible(chromedp.ID("login-rest"))))
	return p
}

// click presses a button and returns the outcome the page reports ("ok"/"error") and its text.
func (p *page) click(button string) (state, text string) {
	p.t.Helper()
	n, _ := strconv.Atoi(run(p, chromedp.AttributeValue(chromedp.ID("status"), "data-seq")).Value)
	run(p, chromedp.Click(chromedp.ID(button)))
	run(p, chromedp.Poll[chromedp.Void](`Number(document.getElementById('status').dataset.seq) > `+strconv.Itoa(n),
		chromedp.WithPollingTimeout(20*time.Second)))
	return run(p, chromedp.AttributeValue(chromedp.ID("status"), "data-state")).Value, p.text("status")
}

func (p *page) mustClick(button string) string {
	p.t.Helper()
	state, text := p.click(button)
	if state != "ok" {
		p.t.Fatalf("%s: %s", button, text)
	}
	return text
}

func (p *page) signIn(user, pass string) {
	p.t.Helper()
	run(p, chromedp.Steps(chromedp.SetValue(chromedp.ID("username"), user), chromedp.SetValue(chromedp.ID("password"), pass)))
}

func (p *page) text(id string) string {
	p.t.Helper()
	return run(p, chromedp.Text(chromedp.ID(id)))
}

func (p *page) eval(js string) string {
	p.t.Helper()
	return run(p, chromedp.Evaluate[string](js))
}

// servePage serves the example app on its own loopback origin.
func servePage(t *testing.T) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.FileServer(http.Dir(exampleDir)))
	t.Cleanup(ts.Close)
	return ts
}

func TestBrowserCrossOrigin(t *testing.T) {
	t.Parallel()
	app := servePage(t)      // listed origin
	stranger := servePage(t) // same page, origin not listed
	srv := startServer(t, "--cors-origins", app.URL)
	ctx := browser(t, nil)

	p := openPage(t, ctx, app.URL, srv.URL)
	p.signIn(adminUser, srv.AdminPassword)
	if got := p.mustClick("login-rest"); !strings.Contains(got, adminUser) {
		t.Fatalf("sign in (REST): %q", got)
	}
	if p.text("user") != adminUser || p.text("kind") != "session" {
		t.Fatalf("page shows user %q kind %q", p.text("user"), p.text("kind"))
	}
	p.mustClick("check")
	// The page (same host, other port) cannot read the SESSION cookie: it is HttpOnly.
	if c := p.eval(`document.cookie`); strings.Contains(c, "SESSION") {
		t.Fatalf("document.cookie exposes %q", c)
	}
	p.mustClick("logout")
	if state, text := p.click("check"); state != "error" || !strings.Contains(text, "401") {
		t.Fatalf("check after logout: %s %q, want a 401", state, text)
	}

	// SOAP from the browser: a preflight for text/xml, SOAPAction and Authorization, then the call.
	p.mustClick("login-soap")
	if p.text("kind") != "session" {
		t.Fatalf("after SOAP sign-in the page shows kind %q", p.text("kind"))
	}
	p.mustClick("check")

	// The same page on an origin that is not listed: the browser refuses to hand over the response.
	q := openPage(t, ctx, stranger.URL, srv.URL)
	q.signIn(adminUser, srv.AdminPassword)
	if state, text := q.click("login-rest"); state != "error" || !strings.Contains(text, "Failed to fetch") {
		t.Fatalf("sign in from an unlisted origin: %s %q, want the browser's CORS refusal", state, text)
	}
}

// TestBrowserCrossSiteTLS runs the page on https://127.0.0.1 and the service on https://localhost: two sites,
// so the SESSION cookie travels only as SameSite=None; Secure. With the default Lax it does not, and the
// session token is refused: the reason --cookie-samesite none exists.
func TestBrowserCrossSiteTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, cert, spki := testCertificate(t)
	app := httptest.NewUnstartedServer(http.FileServer(http.Dir(exampleDir)))
	app.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	app.StartTLS()
	t.Cleanup(app.Close)

	ctx := browser(t, map[string]string{"ignore-certificate-errors-spki-list": spki})
	for _, tc := range []struct {
		sameSite   string
		checkState string
	}{
		{"none", "ok"},
		{"lax", "error"},
	} {
		srv := startServer(t, "--tls-cert", certFile, "--tls-key", keyFile, "--cookie-samesite", tc.sameSite, "--cors-origins", app.URL)
		service := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
		p := openPage(t, ctx, app.URL, service)
		p.signIn(adminUser, srv.AdminPassword)
		state, text := p.click("login-rest")
		if state != tc.checkState {
			t.Fatalf("SameSite=%s: sign in and check across sites: %s %q, want %s", tc.sameSite, state, text, tc.checkState)
		}
		if tc.checkState == "ok" {
			p.mustClick("check")
			p.mustClick("logout")
			if state, text := p.click("check"); state != "error" || !strings.Contains(text, "401") {
				t.Fatalf("check after logout: %s %q", state, text)
			}
		} else if !strings.Contains(text, "401") {
			t.Fatalf("SameSite=lax across sites: %q, want the token refused (401) for want of its SESSION cookie", text)
		}
	}
}

// testCertificate makes a self-signed certificate for localhost and 127.0.0.1, writes it and its key as PEM
// files, and returns the base64 SHA-256 of its public key, which Chromium is told to trust.
func testCertificate(t *testing.T) (certFile, keyFile string, cert tls.Certificate, spkiHash string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	parsed, _ := x509.ParseCertificate(der)
	sum := sha256.Sum256(parsed.RawSubjectPublicKeyInfo)
	return certFile, keyFile, cert, base64.StdEncoding.EncodeToString(sum[:])
}

// TestServeRefusesUnsafeSessionSettings: settings a browser would reject, or that would expose sessions to any
// site, stop the start with a message instead of failing quietly in the field.
func TestServeRefusesUnsafeSessionSettings(t *testing.T) {
	t.Parallel()
	needServer(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--cookie-samesite", "none"}, "needs HTTPS"},
		{[]string{"--cors-origins", "*"}, "wildcards are refused"},
		{[]string{"--cors-origins", "https://*.example.com"}, "wildcards are refused"},
		{[]string{"--tls-cert", "missing.pem"}, "go together"},
		{[]string{"--cookie-samesite", "sometimes"}, "want lax, strict or none"},
	} {
		args := append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir()}, tc.args...)
		cmd := exec.Command(serverBin, args...)
		cmd.Env = childEnv()
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("serve %v: err %v, output %q; want a refusal mentioning %q", tc.args, err, out, tc.want)
		}
	}
}
