package console_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
	"github.com/tokenmanager/tokenmanager/storage"
)

// The console signs in operators and vendor accounts into TM_CONSOLE_SESSION, a host-bound, SameSite=Strict,
// HttpOnly cookie that the management API also accepts: reads as they are, changes only with the session's
// X-CSRF-Token. These tests run a real server over a real SQLite file and speak HTTP to it.

func behindProxy(su *servertest.Setup) {
	su.Server.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

// agent is a browser of the console: a cookie jar, a client address (X-Forwarded-For through the trusted
// proxy), and the CSRF token its scripts would hold.
type agent struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

type fromHost string

func (h fromHost) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", string(h))
	return http.DefaultTransport.RoundTrip(r)
}

func newAgent(t *testing.T, base, host string) *agent {
	jar, _ := cookiejar.New(nil)
	return &agent{t: t, base: base, c: &http.Client{Jar: jar, Transport: fromHost(host),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (a *agent) do(method, path, body string, h map[string]string) answer {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := a.c.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// signIn signs in through the console's sign-in and keeps the CSRF token.
func (a *agent) signIn(user, pass string) answer {
	a.t.Helper()
	ans := a.do("POST", "/console/session", `{"user":"`+user+`","password":"`+pass+`"}`, nil)
	if ans.status == http.StatusOK {
		var v struct{ CSRF string }
		json.Unmarshal([]byte(ans.body), &v)
		a.csrf = v.CSRF
	}
	return ans
}

func (a *agent) cookie(name string) *http.Cookie {
	u, _ := url.Parse(a.base + "/admin/v1/")
	for _, c := range a.c.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func newStack(t *testing.T, opts ...servertest.Option) *servertest.AppStack {
	s := servertest.NewAppStack(t, append([]servertest.Option{behindProxy, servertest.WithAdmin(t)}, opts...)...)
	h, _ := auth.HashPassword("n0body", servertest.Cheap)
	if err := s.Store.CreateUser(context.Background(), storage.User{Name: "nobody", PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
	return s
}

func mustStatus(t *testing.T, what string, a answer, want int) {
	t.Helper()
	if a.status != want {
		t.Fatalf("%s: %d, want %d\n%s", what, a.status, want, a.body)
	}
}

var wantHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
	"X-Frame-Options":         "DENY",
	"X-Content-Type-Options":  "nosniff",
	"Referrer-Policy":         "same-origin",
}

func TestConsolePagesAndHeaders(t *testing.T) {
	s := newStack(t)
	a := newAgent(t, s.URL, "10.0.0.1")
	for _, tc := range []struct {
		path, ctype string
		status      int
	}{
		{"/console/", "text/html; charset=utf-8", 200},
		{"/console/products/3/keys/ABCDE-FGHIJ-KLMNO-PQRST", "text/html; charset=utf-8", 200}, // a deep link
		{"/console/assets/app.js", "text/javascript; charset=utf-8", 200},
		{"/console/assets/console.css", "text/css; charset=utf-8", 200},
		{"/console/assets/nothing.js", "", 404},
		{"/console/session", "application/problem+json", 401},
	} {
		ans := a.do("GET", tc.path, "", nil)
		mustStatus(t, tc.path, ans, tc.status)
		for k, v := range wantHeaders {
			if got := ans.header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", tc.path, k, got, v)
			}
		}
		if tc.ctype != "" && ans.header.Get("Content-Type") != tc.ctype {
			t.Errorf("%s: Content-Type %q, want %q", tc.path, ans.header.Get("Content-Type"), tc.ctype)
		}
		if strings.HasPrefix(tc.ctype, "text/html") {
			if ans.header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: Cache-Control %q, want no-store", tc.path, ans.header.Get("Cache-Control"))
			}
			// No inline script or style: the policy would refuse them.
			for _, bad := range []string{"<script>", "<style", " style=", "onclick", "javascript:"} {
				if strings.Contains(ans.body, bad) {
					t.Errorf("%s: the page has %q", tc.path, bad)
				}
			}
		}
	}
	mustStatus(t, "GET /console", a.do("GET", "/console", "", nil), http.StatusMovedPermanently)
}

func TestConsoleSignInRoles(t *testing.T) {
	s := newStack(t)
	for _, tc := range []struct{ user, pass, role, vendor string }{
		{"root", "r00t", "operator", ""},
		{"simon0897", "s3cret", "vendor", "simon0897"},
	} {
		a := newAgent(t, s.URL, "10.0.0.1")
		ans := a.signIn(tc.user, tc.pass)
		mustStatus(t, "sign-in of "+tc.user, ans, 200)
		if ans.header.Get("Cache-Control") != "no-store" {
			t.Errorf("sign-in answer: Cache-Control %q", ans.header.Get("Cache-Control"))
		}
		var v struct{ User, Role, Vendor, CSRF string }
		json.Unmarshal([]byte(ans.body), &v)
		if v.User != tc.user || v.Role != tc.role || v.Vendor != tc.vendor || len(v.CSRF) != 43 {
			t.Fatalf("sign-in of %s: %s", tc.user, ans.body)
		}
		// The cookie: HttpOnly, SameSite=Strict, not Secure on plain HTTP, a browser-session cookie.
		var set string
		for _, c := range ans.header.Values("Set-Cookie") {
			if strings.HasPrefix(c, "TM_CONSOLE_SESSION=") {
				set = c
			}
		}
		for _, want := range []string{"Path=/", "HttpOnly", "SameSite=Strict"} {
			if !strings.Contains(set, want) {
				t.Errorf("Set-Cookie %q lacks %s", set, want)
			}
		}
		if strings.Contains(set, "Secure") || strings.Contains(set, "Max-Age") || strings.Contains(set, "Expires") {
			t.Errorf("Set-Cookie %q: Secure on plain HTTP, or a persistent cookie", set)
		}
		me := a.do("GET", "/admin/v1/me", "", nil)
		mustStatus(t, "me with the console cookie", me, 200)
		if !strings.Contains(me.body, `"role":"`+tc.role+`"`) {
			t.Fatalf("me: %s", me.body)
		}
		got := a.do("GET", "/console/session", "", nil)
		mustStatus(t, "GET /console/session", got, 200)
		if !strings.Contains(got.body, `"csrf":"`+a.csrf+`"`) {
			t.Fatalf("the session's token changed: %s", got.body)
		}
	}
	// Neither an operator nor a vendor: refused, and no session.
	a := newAgent(t, s.URL, "10.0.0.1")
	mustStatus(t, "sign-in of a plain user", a.signIn("nobody", "n0body"), 403)
	if a.cookie("TM_CONSOLE_SESSION") != nil {
		t.Fatal("a plain user got a console cookie")
	}
	mustStatus(t, "wrong password", a.signIn("root", "wrong"), 401)
	// Only the console's own scripts sign in: JSON, from the same origin.
	mustStatus(t, "a form post", a.do("POST", "/console/session", "user=root&password=r00t",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}), 415)
	mustStatus(t, "from another site", a.do("POST", "/console/session", `{"user":"root","password":"r00t"}`,
		map[string]string{"Sec-Fetch-Site": "cross-site"}), 403)
	bad := a.do("POST", "/console/session", `{"user":"root"}`, nil)
	mustStatus(t, "no password", bad, 400)
	if !strings.Contains(bad.body, `"field":"password"`) {
		t.Fatalf("no password: %s", bad.body)
	}
	mustStatus(t, "an unknown member", a.do("POST", "/console/session", `{"user":"root","password":"r00t","admin":true}`, nil), 400)
	if a.cookie("TM_CONSOLE_SESSION") != nil {
		t.Fatal("a refused sign-in set a console cookie")
	}
}

func TestConsoleSignInSharesTheThrottle(t *testing.T) {
	s := newStack(t, servertest.WithThrottle(auth.ThrottleConfig{AccountBurst: 2, AccountEvery: time.Minute, AddressBurst: 100, AddressEvery: time.Second}))
	a := newAgent(t, s.URL, "10.0.0.1")
	mustStatus(t, "failure 1", a.signIn("root", "x"), 401)
	mustStatus(t, "failure 2", a.signIn("root", "y"), 401)
	mustStatus(t, "the right password, throttled", a.signIn("root", "r00t"), 429)
	// The same account is throttled on the management API's Basic sign-in from that address too.
	basic := a.do("GET", "/admin/v1/me", "", map[string]string{"Authorization": servertest.Basic("root", "r00t")})
	mustStatus(t, "Basic after the console's failures", basic, 429)
	bad := 0
	for _, e := range s.AuditEvents(t, "login.fail") {
		if e.Outcome == "bad_credentials" && e.Subject == "root" {
			bad++
		}
	}
	if bad != 2 {
		t.Fatalf("%d login.fail bad_credentials events, want 2", bad)
	}
	s.Clock.Add(3 * time.Minute)
	mustStatus(t, "after the wait", a.signIn("root", "r00t"), 200)
}

func TestManageAPITakesTheConsoleCookieWithCSRF(t *testing.T) {
	s := newStack(t)
	a := newAgent(t, s.URL, "10.0.0.1")
	mustStatus(t, "sign-in", a.signIn("root", "r00t"), 200)
	create := func(name string, h map[string]string) answer {
		return a.do("POST", "/admin/v1/users", `{"name":"`+name+`","password":"correct horse battery"}`, h)
	}
	mustStatus(t, "GET with the cookie", a.do("GET", "/admin/v1/users", "", nil), 200)
	mustStatus(t, "POST without X-CSRF-Token", create("mallory1", nil), 403)
	mustStatus(t, "POST with a wrong X-CSRF-Token", create("mallory2", map[string]string{"X-CSRF-Token": strings.Repeat("A", 43)}), 403)
	mustStatus(t, "POST with an overlong X-CSRF-Token", create("mallory3", map[string]string{"X-CSRF-Token": a.csrf + strings.Repeat("A", 200)}), 403)
	// A token of another session is no good either.
	b := newAgent(t, s.URL, "10.0.0.1")
	mustStatus(t, "second sign-in", b.signIn("root", "r00t"), 200)
	mustStatus(t, "POST with another session's token", create("mallory4", map[string]string{"X-CSRF-Token": b.csrf}), 403)
	for _, n := range []string{"mallory1", "mallory2", "mallory3", "mallory4"} {
		if _, err := s.Store.GetUser(context.Background(), n); err == nil {
			t.Fatalf("%s was created without the right token", n)
		}
	}
	mustStatus(t, "POST with the token", create("alice", map[string]string{"X-CSRF-Token": a.csrf}), 201)
	// Credentials in the Authorization header come first: the cookie is then not looked at.
	basic := a.do("GET", "/admin/v1/me", "", map[string]string{"Authorization": servertest.Basic("simon0897", "s3cret")})
	mustStatus(t, "Basic beside the cookie", basic, 200)
	if !strings.Contains(basic.body, `"user":"simon0897"`) {
		t.Fatalf("Basic beside the cookie: %s", basic.body)
	}
	// The console's own calls never get a Basic challenge (the browser would open its password dialog).
	none := newAgent(t, s.URL, "10.0.0.1").do("GET", "/admin/v1/me", "", map[string]string{"X-CSRF-Token": "x"})
	mustStatus(t, "no credentials", none, 401)
	if strings.HasPrefix(none.header.Get("WWW-Authenticate"), "Basic") {
		t.Fatalf("a console call got a challenge: %q", none.header.Get("WWW-Authenticate"))
	}

	// From another host, the stolen cookie opens nothing.
	thief := newAgent(t, s.URL, "10.9.9.9")
	u, _ := url.Parse(s.URL + "/")
	thief.c.Jar.SetCookies(u, []*http.Cookie{a.cookie("TM_CONSOLE_SESSION")})
	mustStatus(t, "GET from another host", thief.do("GET", "/admin/v1/me", "", nil), 401)
	mustStatus(t, "console session from another host", thief.do("GET", "/console/session", "", nil), 401)
	mustStatus(t, "POST from another host", thief.do("POST", "/admin/v1/users", `{"name":"eve","password":"correct horse battery"}`,
		map[string]string{"X-CSRF-Token": a.csrf}), 401)

	// Sign-out needs the token too; afterwards the cookie opens nothing, even if kept.
	old := a.cookie("TM_CONSOLE_SESSION")
	mustStatus(t, "sign-out without the token", a.do("DELETE", "/console/session", "", nil), 403)
	mustStatus(t, "still signed in", a.do("GET", "/admin/v1/me", "", nil), 200)
	out := a.do("DELETE", "/console/session", "", map[string]string{"X-CSRF-Token": a.csrf})
	mustStatus(t, "sign-out", out, 204)
	if !strings.Contains(strings.Join(out.header.Values("Set-Cookie"), "\n"), "TM_CONSOLE_SESSION=; Path=/; Max-Age=0") {
		t.Fatalf("sign-out does not expire the cookie: %q", out.header.Values("Set-Cookie"))
	}
	a.c.Jar.SetCookies(u, []*http.Cookie{old})
	mustStatus(t, "GET after sign-out", a.do("GET", "/admin/v1/me", "", nil), 401)
	mustStatus(t, "POST after sign-out", a.do("POST", "/admin/v1/users", `{"name":"bob","password":"correct horse battery"}`,
		map[string]string{"X-CSRF-Token": a.csrf}), 401)
	mustStatus(t, "console session after sign-out", a.do("GET", "/console/session", "", nil), 401)
	if n := len(s.AuditEvents(t, "console.signout")); n != 1 {
		t.Fatalf("%d console.signout events", n)
	}
}

func TestConsoleSessionLifetimes(t *testing.T) {
	s := newStack(t)
	idle := newAgent(t, s.URL, "10.0.0.1")
	mustStatus(t, "sign-in", idle.signIn("root", "r00t"), 200)
	busy := newAgent(t, s.URL, "10.0.0.1")
	mustStatus(t, "sign-in", busy.signIn("simon0897", "s3cret"), 200)
	s.Clock.Add(20 * time.Minute)
	mustStatus(t, "busy after 20 minutes", busy.do("GET", "/admin/v1/me", "", nil), 200)
	s.Clock.Add(20 * time.Minute)
	mustStatus(t, "idle after 40 minutes", idle.do("GET", "/admin/v1/me", "", nil), 401)
	mustStatus(t, "idle console session", idle.do("GET", "/console/session", "", nil), 401)
	// Used every 20 minutes, the session still ends at its absolute lifetime (24 hours).
	for elapsed := 40 * time.Minute; elapsed < 24*time.Hour; elapsed += 20 * time.Minute {
		mustStatus(t, "busy", busy.do("GET", "/console/session", "", nil), 200)
		s.Clock.Add(20 * time.Minute)
	}
	s.Clock.Add(time.Minute) // 24 hours and a minute after sign-in, 21 minutes after the last use
	mustStatus(t, "busy after 24 hours", busy.do("GET", "/admin/v1/me", "", nil), 401)
}

func TestConsoleAndPageCookiesDoNotCross(t *testing.T) {
	s := newStack(t)
	// paul1234 is a vendor in this stack and has the user's pages too.
	a := newAgent(t, s.URL, "10.0.0.1")
	mustStatus(t, "console sign-in", a.signIn("paul1234", "pa55"), 200)
	consoleValue := a.cookie("TM_CONSOLE_SESSION").Value

	// The browser sends the console cookie to /User/ too (path /): the pages do not take it, under either name.
	st, page := pageGet(t, a, s.URL+"/User/AuthorizedApps/")
	if st != 200 || !strings.Contains(page, `id="signin"`) {
		t.Fatalf("the user's pages with the console cookie: %d\n%s", st, page)
	}
	p := newAgent(t, s.URL, "10.0.0.1")
	u, _ := url.Parse(s.URL + "/User/")
	p.c.Jar.SetCookies(u, []*http.Cookie{{Name: "TM_PAGE_SESSION", Value: consoleValue, Path: "/"}})
	if st, page := pageGet(t, p, s.URL+"/User/AuthorizedApps/"); st != 200 || !strings.Contains(page, `id="signin"`) {
		t.Fatalf("the console's value as TM_PAGE_SESSION: %d\n%s", st, page)
	}

	// A page session (signed in on the user's pages) opens neither the console nor the API under the console's name.
	br := servertest.Browser{T: t, C: &http.Client{Jar: mustJar(), Transport: fromHost("10.0.0.1")}}
	if st, _ := br.SignIn(s.URL+"/User/AuthorizedApps/", "paul1234", "pa55"); st != 200 {
		t.Fatalf("page sign-in: %d", st)
	}
	var pageValue string
	for _, c := range br.C.Jar.Cookies(u) {
		if c.Name == "TM_PAGE_SESSION" {
			pageValue = c.Value
		}
	}
	if pageValue == "" {
		t.Fatal("no page session")
	}
	_, apiSession, _ := s.SignIn(t, "paul1234", "pa55", "")
	for what, v := range map[string]string{"the page session": pageValue, "the API's SESSION": apiSession} {
		c := newAgent(t, s.URL, "10.0.0.1")
		root, _ := url.Parse(s.URL + "/")
		c.c.Jar.SetCookies(root, []*http.Cookie{{Name: "TM_CONSOLE_SESSION", Value: v, Path: "/"}})
		mustStatus(t, what+" as the console cookie", c.do("GET", "/console/session", "", nil), 401)
		mustStatus(t, what+" as the console cookie on the API", c.do("GET", "/admin/v1/me", "", nil), 401)
	}
	// And the console takes no other cookie: the page cookie under its own name, or SESSION, sign in no one.
	c := newAgent(t, s.URL, "10.0.0.1")
	root, _ := url.Parse(s.URL + "/")
	c.c.Jar.SetCookies(root, []*http.Cookie{{Name: "TM_PAGE_SESSION", Value: pageValue, Path: "/"}, {Name: "SESSION", Value: apiSession, Path: "/"}})
	mustStatus(t, "the page and API cookies on the console", c.do("GET", "/console/session", "", nil), 401)
}

func mustJar() http.CookieJar { j, _ := cookiejar.New(nil); return j }

func pageGet(t *testing.T, a *agent, u string) (int, string) {
	t.Helper()
	resp, err := a.c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestConsoleCookieSecure(t *testing.T) {
	s := newStack(t, func(su *servertest.Setup) { su.Server.SecureCookies = true })
	ans := newAgent(t, s.URL, "10.0.0.1").signIn("root", "r00t")
	mustStatus(t, "sign-in", ans, 200)
	if set := strings.Join(ans.header.Values("Set-Cookie"), "\n"); !strings.Contains(set, "; Secure") {
		t.Fatalf("--secure-cookies: %q", set)
	}
}
