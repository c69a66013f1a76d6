package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestConsentPagesRefuseAStolenSession: paul signs in from 127.0.0.1, to the API (whose answer carries his
// SESSION value in its body) and to the pages, and authorizes an app. A second party on 127.0.0.2 that has
// the SESSION value, paul's page cookie and the vendor's parent token (public: it ships in the app) cannot
// approve its own app as paul, nor list or revoke paul's apps; nothing is approved.
func TestConsentPagesRefuseAStolenSession(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.mustCLI(t, "paul-pass-1\n", "user", "add", "paul", "--password-stdin")
	srv.mustCLI(t, "", "vendor", "add", adminUser)
	product := createdID(t, srv.mustCLI(t, "", "product", "add", "Desktop App", "--vendor", adminUser), "product")
	customer := createdID(t, srv.mustCLI(t, "", "customer", "add", "--vendor", adminUser, "--name", "Paul", "--user", "paul",
		"--max-devices", "3"), "customer")
	srv.mustCLI(t, "", "key", "create", "--product", product, "--customer", customer, "--period", "30")
	parent := strings.TrimSpace(srv.mustCLI(t, "", "apitoken", "create", "--vendor", adminUser, "--methods", "GetToken,GetLicenseKeys",
		"--product-lock", product, "--name", "desktop app"))
	appKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}

	// paul, on 127.0.0.1: an API session, then the pages, where he allows his app on machine-A.
	apiSession := srv.mustRESTToken(t, "paul", "paul-pass-1", true, 0).Session
	paul := pageClient(t, "127.0.0.1")
	own := consentURL(t, srv.URL, parent, appKey, randomBytes(30), "Photo Editor", "machine-A")
	page := paul.do("GET", own, nil, 200)
	page = paul.do("POST", own, url.Values{"action": {"signin"}, "username": {"paul"}, "password": {"paul-pass-1"}, "csrf": {csrfOf(t, page)}}, 200)
	if !strings.Contains(page, `id="approve"`) {
		t.Fatalf("paul's consent page after signing in:\n%s", page)
	}
	if page = paul.do("POST", own, url.Values{"action": {"approve"}, "csrf": {csrfOf(t, page)}}, 200); !strings.Contains(page, `data-state="approved"`) {
		t.Fatalf("paul's approval:\n%s", page)
	}
	list := paul.do("GET", srv.URL+"/User/AuthorizedApps/", nil, 200)
	revokeID := regexp.MustCompile(`name="id" value="(\d+)"`).FindStringSubmatch(list)
	if revokeID == nil {
		t.Fatalf("paul's list has no revocable app:\n%s", list)
	}
	paulsCookies := map[string]string{}
	for _, c := range paul.c.Jar.Cookies(mustURL(t, srv.URL+"/User/")) {
		paulsCookies[c.Name] = c.Value
	}

	// The second party, on 127.0.0.2, with each stolen value in turn.
	theirs := consentURL(t, srv.URL, parent, appKey, randomBytes(30), "Not Photo Editor", "machine-X")
	for _, stolen := range []map[string]string{{"SESSION": apiSession}, {"TM_PAGE_SESSION": apiSession}, paulsCookies} {
		thief := pageClient(t, "127.0.0.2")
		for _, u := range []string{srv.URL + "/", srv.URL + "/User/"} {
			for name, v := range stolen {
				thief.c.Jar.SetCookies(mustURL(t, u), []*http.Cookie{{Name: name, Value: v}})
			}
		}
		page := thief.do("GET", theirs, nil, 200)
		if !strings.Contains(page, `id="signin"`) || strings.Contains(page, `id="approve"`) {
			t.Fatalf("%v from 127.0.0.2: the consent page\n%s", stolen, page)
		}
		thief.do("POST", theirs, url.Values{"action": {"approve"}, "csrf": {csrfOf(t, page)}}, http.StatusUnauthorized)
		list := thief.do("GET", srv.URL+"/User/AuthorizedApps/", nil, 200)
		if !strings.Contains(list, `id="signin"`) || strings.Contains(list, "machine-A") {
			t.Fatalf("%v from 127.0.0.2: the list\n%s", stolen, list)
		}
		thief.do("POST", srv.URL+"/User/AuthorizedApps/", url.Values{"action": {"revoke"}, "id": {revokeID[1]}, "csrf": {csrfOf(t, list)}},
			http.StatusUnauthorized)
	}

	// Nothing was approved for the second party, and paul's app is not revoked (its app has not collected its
	// token yet).
	out := srv.mustCLI(t, "", "appauth", "list", "--user", "paul")
	if strings.Contains(out, "Not Photo Editor") || !regexp.MustCompile(`(?m)^\d+\s+paul\s+admin\s+Photo Editor\s+.*waiting for the app$`).MatchString(out) {
		t.Fatalf("appauth list:\n%s", out)
	}
	if paulsCookies["TM_PAGE_SESSION"] == "" {
		t.Fatalf("the page sign-in set no TM_PAGE_SESSION cookie: %v", paulsCookies)
	}
	// paul's own page session still works from his host.
	if list := paul.do("GET", srv.URL+"/User/AuthorizedApps/", nil, 200); !strings.Contains(list, "machine-A") {
		t.Fatalf("paul's list after the attempts:\n%s", list)
	}
}

// pageBrowser is a browser without JavaScript whose connections come from a given loopback address.
type pageBrowser struct {
	t *testing.T
	c *http.Client
}

func pageClient(t *testing.T, local string) *pageBrowser {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	return &pageBrowser{t: t, c: &http.Client{Jar: jar, Timeout: 15 * time.Second,
		Transport: &http.Transport{Proxy: nil, DialContext: d.DialContext, DisableKeepAlives: true}}}
}

// do sends a request (a form POST when form is not nil), follows redirects, and wants status.
func (b *pageBrowser) do(method, u string, form url.Values, status int) string {
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
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != status {
		b.t.Fatalf("%s %s: %d, want %d\n%s", method, u, resp.StatusCode, status, out)
	}
	return string(out)
}

var pageCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := pageCSRF.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", page)
	}
	return m[1]
}

func mustURL(t *testing.T, u string) *url.URL {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return pu
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
