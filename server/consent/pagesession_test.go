package consent_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
	"github.com/tokenmanager/tokenmanager/storage"
)

// The user's pages sign in with a cookie of their own, bound to the host that signed in; the API's SESSION
// value, which token answers carry in their body, opens nothing there.

// fromHost sends every request as if from client address h, through a trusted proxy (X-Forwarded-For).
type fromHost string

func (h fromHost) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", string(h))
	return http.DefaultTransport.RoundTrip(r)
}

func behindProxy(su *servertest.Setup) {
	su.Server.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

func browserFrom(t *testing.T, host string) *servertest.Browser {
	jar, _ := cookiejar.New(nil)
	return &servertest.Browser{T: t, C: &http.Client{Jar: jar, Transport: fromHost(host)}}
}

// steal gives thief every cookie victim holds for u.
func steal(thief, victim *servertest.Browser, u string) {
	pu, _ := url.Parse(u)
	thief.C.Jar.SetCookies(pu, victim.C.Jar.Cookies(pu))
}

func paulsAuthorizations(t *testing.T, s *servertest.AppStack) []storage.AppAuthorization {
	t.Helper()
	list, err := s.AA.List(context.Background(), storage.AppAuthorizationFilter{User: "paul1234", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestPagesRefuseTheAPISession(t *testing.T) {
	s := servertest.NewAppStack(t, behindProxy)
	consent := servertest.NewApp(s.ParentID, servertest.UserLoginScope, 30, "machine-A").ConsentURL(s.URL)
	listURL := s.URL + "/User/AuthorizedApps/"
	// paul1234 signs in to the API; the answer's body carries the SESSION value.
	_, sess, _ := s.SignIn(t, "paul1234", "pa55", "")

	// Whoever holds that value, from the very host that signed in, under either cookie name, is not signed in.
	for _, name := range []string{"SESSION", "TM_PAGE_SESSION"} {
		b := servertest.NewBrowser(t)
		u, _ := url.Parse(s.URL + "/User/")
		b.C.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: sess, Path: "/"}})
		status, page := b.Get(consent)
		if status != 200 || !strings.Contains(page, `id="signin"`) || strings.Contains(page, `id="approve"`) {
			t.Fatalf("consent page with %s=<the API session>: %d\n%s", name, status, page)
		}
		if status, _ := b.Submit(consent, page, "action", "approve"); status != http.StatusUnauthorized {
			t.Fatalf("approve with %s=<the API session>: %d", name, status)
		}
		status, list := b.Get(listURL)
		if status != 200 || !strings.Contains(list, `id="signin"`) {
			t.Fatalf("list with %s=<the API session>: %d\n%s", name, status, list)
		}
		if status, _ := b.Submit(listURL, list, "action", "revoke", "id", "1"); status != http.StatusUnauthorized {
			t.Fatalf("revoke with %s=<the API session>: %d", name, status)
		}
	}
	if got := paulsAuthorizations(t, s); len(got) != 0 {
		t.Fatalf("authorizations after the attempts: %+v", got)
	}
	// The API session still works for what it is for.
	if _, again, _ := s.SignIn(t, "paul1234", "pa55", sess); again != sess {
		t.Fatalf("the API session was replaced: %q, want %q", again, sess)
	}
}

func TestPageSessionIsBoundToItsHost(t *testing.T) {
	s := servertest.NewAppStack(t, behindProxy)
	consent := servertest.NewApp(s.ParentID, servertest.UserLoginScope, 30, "machine-A").ConsentURL(s.URL)
	listURL := s.URL + "/User/AuthorizedApps/"
	victim := browserFrom(t, "192.0.2.1")
	status, page := victim.SignIn(consent, "paul1234", "pa55")
	if status != 200 || !strings.Contains(page, `id="approve"`) {
		t.Fatalf("sign-in: %d\n%s", status, page)
	}
	for _, c := range victim.C.Jar.Cookies(mustParse(t, s.URL+"/")) {
		if c.Name == "SESSION" {
			t.Fatal("the page sign-in set the API's SESSION cookie")
		}
	}

	// The victim's cookies, CSRF token included, used from another address: not signed in, nothing approved.
	thief := browserFrom(t, "192.0.2.2")
	steal(thief, victim, consent)
	status, stolen := thief.Get(consent)
	if status != 200 || !strings.Contains(stolen, `id="signin"`) {
		t.Fatalf("consent page from another host: %d\n%s", status, stolen)
	}
	if status, _ := thief.Submit(consent, page, "action", "approve"); status != http.StatusUnauthorized {
		t.Fatalf("approve from another host: %d", status)
	}
	if got := paulsAuthorizations(t, s); len(got) != 0 {
		t.Fatalf("approved from another host: %+v", got)
	}

	// From its own host the session works: the victim approves.
	if status, page := victim.Submit(consent, page, "action", "approve"); status != 200 || !strings.Contains(page, `data-state="approved"`) {
		t.Fatalf("approve: %d\n%s", status, page)
	}
	_, list := victim.Get(listURL)
	got := paulsAuthorizations(t, s)
	if len(got) != 1 || !strings.Contains(list, "machine-A") {
		t.Fatalf("after the approval: %+v\n%s", got, list)
	}
	id := got[0].ID

	// Nor can the other host list or revoke.
	steal(thief, victim, listURL)
	status, stolen = thief.Get(listURL)
	if status != 200 || !strings.Contains(stolen, `id="signin"`) || strings.Contains(stolen, "machine-A") {
		t.Fatalf("list from another host: %d\n%s", status, stolen)
	}
	if status, _ := thief.Submit(listURL, list, "action", "revoke", "id", strconv.FormatInt(id, 10)); status != http.StatusUnauthorized {
		t.Fatalf("revoke from another host: %d", status)
	}
	if st := s.AA.State(paulsAuthorizations(t, s)[0]); st == "revoked" {
		t.Fatal("revoked from another host")
	}
	// The victim's session survives the attempts.
	if status, list := victim.Get(listURL); status != 200 || !strings.Contains(list, "machine-A") {
		t.Fatalf("the victim's list after the attempts: %d\n%s", status, list)
	}
}

func TestPageSessionWithoutHostCheck(t *testing.T) {
	s := servertest.NewAppStack(t, behindProxy, func(su *servertest.Setup) { su.Token.CheckHost = false })
	consent := servertest.NewApp(s.ParentID, servertest.UserLoginScope, 30, "machine-A").ConsentURL(s.URL)
	victim := browserFrom(t, "192.0.2.1")
	if status, page := victim.SignIn(consent, "paul1234", "pa55"); status != 200 || !strings.Contains(page, `id="approve"`) {
		t.Fatalf("sign-in: %d\n%s", status, page)
	}
	// --host-check=false: the address may change (a client behind rotating NAT), as for session tokens.
	moved := browserFrom(t, "192.0.2.2")
	steal(moved, victim, consent)
	if status, page := moved.Get(consent); status != 200 || !strings.Contains(page, `id="approve"`) {
		t.Fatalf("with host checks off, the session from another address: %d\n%s", status, page)
	}
}

func TestPageSessionCookie(t *testing.T) {
	s := servertest.NewAppStack(t)
	consent := servertest.NewApp(s.ParentID, servertest.UserLoginScope, 30, "machine-A").ConsentURL(s.URL)
	b := servertest.NewBrowser(t)
	b.C.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	_, page := b.Get(consent)
	m := servertest.CSRFField.FindStringSubmatch(page)
	pu := mustParse(t, consent)
	req, _ := http.NewRequest("POST", consent, strings.NewReader(url.Values{"csrf": {m[1]}, "action": {"signin"},
		"username": {"paul1234"}, "password": {"pa55"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range b.C.Jar.Cookies(pu) {
		req.AddCookie(c)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var page0 *http.Cookie
	for _, c := range resp.Cookies() {
		switch c.Name {
		case "TM_PAGE_SESSION":
			page0 = c
		case "SESSION":
			t.Fatalf("the page sign-in set SESSION: %s", c.Raw)
		}
	}
	if resp.StatusCode != http.StatusSeeOther || page0 == nil || len(page0.Value) != 36 || page0.Path != "/" || !page0.HttpOnly ||
		page0.SameSite != http.SameSiteLaxMode || page0.Secure {
		t.Fatalf("sign-in: %d, page cookie %+v", resp.StatusCode, page0)
	}
	// Made-up, overlong and empty page cookies sign nobody in and break nothing.
	for _, v := range []string{"11111111-2222-4333-8444-555555555555", strings.Repeat("a", 4000), `""`, "%00"} {
		r := servertest.Do(t, "GET", consent, "", map[string]string{"Cookie": "TM_PAGE_SESSION=" + v})
		if r.Status != 200 || !strings.Contains(r.Body, `id="signin"`) {
			t.Fatalf("page cookie %.20q: %d\n%s", v, r.Status, r.Body)
		}
	}
	// Signing out ends the session on the server: the old value is dead even if a copy was kept.
	r := servertest.Do(t, "GET", consent, "", map[string]string{"Cookie": "TM_PAGE_SESSION=" + page0.Value})
	if !strings.Contains(r.Body, `id="approve"`) {
		t.Fatalf("with the page cookie: %d\n%s", r.Status, r.Body)
	}
	b.C.Jar.SetCookies(pu, []*http.Cookie{page0})
	if status, _ := b.Submit(consent, r.Body, "action", "signout"); status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", status)
	}
	if r := servertest.Do(t, "GET", consent, "", map[string]string{"Cookie": "TM_PAGE_SESSION=" + page0.Value}); !strings.Contains(r.Body, `id="signin"`) {
		t.Fatalf("the page cookie after signing out: %d\n%s", r.Status, r.Body)
	}
}

func mustParse(t *testing.T, u string) *url.URL {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return pu
}
