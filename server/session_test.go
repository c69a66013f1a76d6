package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// sessionCookie returns the SESSION cookie a response set, or nil.
func sessionCookie(r servertest.Response) *http.Cookie {
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "SESSION" {
			return c
		}
	}
	return nil
}

func seedRequest(t *testing.T, op string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "spectrum", op+".request.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEverySessionOperationSetsTheCookie(t *testing.T) {
	s := newStack(t)
	soap := func(op string) servertest.Response {
		return s.SOAPCall(t, tokPath, seedRequest(t, op))
	}
	cases := map[string]servertest.Response{
		"SOAP getAccessSessionToken":  soap("getAccessSessionToken"),
		"SOAP getAccessExpiringToken": soap("getAccessExpiringToken"),
		"REST session route":          servertest.Do(t, "GET", s.URL+"/security/rest/token/access/session/0", "", map[string]string{"Authorization": servertest.Basic("simon0897", "s3cret")}),
	}
	for name, resp := range cases {
		c := sessionCookie(resp)
		if resp.Status != 200 || c == nil {
			t.Errorf("%s: %d, SESSION cookie %v", name, resp.Status, c)
			continue
		}
		if c.Path != "/" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.MaxAge != 0 {
			t.Errorf("%s: cookie %q; want Path=/; HttpOnly; SameSite=Lax and nothing else on plain HTTP", name, c.Raw)
		}
		if !strings.Contains(resp.Body, c.Value) {
			t.Errorf("%s: the body's session is not the cookie's %q", name, c.Value)
		}
	}
	if c := sessionCookie(soap("getAccessToken")); c != nil {
		t.Errorf("getAccessToken (open token, no session) set %q", c.Raw)
	}
}

func TestSameSiteNoneIsSecureAndPartitioned(t *testing.T) {
	s := newStack(t, func(su *servertest.Setup) { su.Server.CookieSameSite = http.SameSiteNoneMode })
	_, _, resp := s.SignIn(t, "simon0897", "s3cret", "")
	if c := sessionCookie(resp); c == nil || c.SameSite != http.SameSiteNoneMode || !c.Secure || !c.Partitioned {
		t.Fatalf("cookie %v: want SameSite=None; Secure; Partitioned", c)
	}
}

func TestSessionReuseAndFixation(t *testing.T) {
	s := newStack(t)
	tok1, sess1, _ := s.SignIn(t, "simon0897", "s3cret", "")

	// The same user signing in again with a live SESSION gets the token in that session.
	tok2, sess2, resp := s.SignIn(t, "simon0897", "s3cret", sess1)
	if sess2 != sess1 || sessionCookie(resp).Value != sess1 {
		t.Fatalf("same user, live session: got session %q, want %q reused", sess2, sess1)
	}
	for _, tok := range []string{tok1, tok2} {
		if v := s.Verify(t, tok, sess1); v.Status != 200 {
			t.Fatalf("token of the shared session: %d", v.Status)
		}
	}

	// Another user's SESSION is never adopted; that user's session is left alone.
	paulTok, paulSess, _ := s.SignIn(t, "paul1234", "pa55", sess1)
	if paulSess == sess1 {
		t.Fatal("paul1234 was signed in to simon0897's session")
	}
	if v := s.Verify(t, tok1, sess1); v.Status != 200 {
		t.Fatalf("simon0897's session after paul1234 presented it: %d", v.Status)
	}
	if v := s.Verify(t, paulTok, sess1); v.Status != 401 {
		t.Fatalf("paul1234's token with simon0897's SESSION: %d", v.Status)
	}

	// A made-up SESSION is never adopted (fixation), nor an idle one.
	planted := "0badc0de-0000-4000-8000-000000000000"
	_, sess, _ := s.SignIn(t, "simon0897", "s3cret", planted)
	if sess == planted {
		t.Fatal("a planted SESSION id was adopted")
	}
	s.Clock.Add(31 * time.Minute)
	_, sess, _ = s.SignIn(t, "simon0897", "s3cret", sess1)
	if sess == sess1 {
		t.Fatal("an idle session was reused")
	}
}

func TestIdleTimeoutOverTheWire(t *testing.T) {
	s := newStack(t)
	tok, sess, _ := s.SignIn(t, "simon0897", "s3cret", "")
	s.Clock.Add(29*time.Minute + 59*time.Second)
	if v := s.Verify(t, tok, sess); v.Status != 200 {
		t.Fatalf("after 29:59 idle: %d %s", v.Status, v.Body)
	}
	s.Clock.Add(29*time.Minute + 59*time.Second)
	if v := s.Verify(t, tok, sess); v.Status != 200 {
		t.Fatalf("29:59 after the last use: %d", v.Status)
	}
	s.Clock.Add(30*time.Minute + time.Second)
	if v := s.Verify(t, tok, sess); v.Status != 401 {
		t.Fatalf("after 30:01 idle: %d", v.Status)
	}
}

func TestAbsoluteSessionLifetime(t *testing.T) {
	s := newStack(t, func(su *servertest.Setup) { su.Session.MaxLifetime = time.Hour })
	tok, sess, _ := s.SignIn(t, "simon0897", "s3cret", "")
	for range 3 { // busy every 20 minutes: only the cap can end it
		s.Clock.Add(20 * time.Minute)
		if v := s.Verify(t, tok, sess); v.Status != 200 {
			t.Fatalf("within the cap: %d", v.Status)
		}
	}
	s.Clock.Add(time.Second)
	if v := s.Verify(t, tok, sess); v.Status != 401 {
		t.Fatalf("past the absolute lifetime: %d", v.Status)
	}
}

func TestLogoutEndsEveryTokenOfTheSession(t *testing.T) {
	for _, via := range []string{"REST", "SOAP"} {
		t.Run(via, func(t *testing.T) {
			s := newStack(t)
			tok1, sess, _ := s.SignIn(t, "simon0897", "s3cret", "")
			tok2, _, _ := s.SignIn(t, "simon0897", "s3cret", sess) // same session
			// A session of its own, from a SOAP sign-in without a cookie: untouched by this logout.
			expTok := s.SOAPCall(t, tokPath, seedRequest(t, "getAccessExpiringToken"))
			otherSess := sessionCookie(expTok).Value
			otherTok := between(expTok.Body, "<token>", "</token>")
			h := map[string]string{"Authorization": "Bearer " + tok2, "Cookie": "SESSION=" + sess}
			var resp servertest.Response
			if via == "REST" {
				resp = servertest.Do(t, "GET", s.URL+"/security/rest/token/logout", "", h)
			} else {
				h["Content-Type"] = "text/xml"
				resp = servertest.Do(t, "POST", s.URL+logoutPath, logoutEnvelope, h)
			}
			if resp.Status != 200 {
				t.Fatalf("logout: %d %s", resp.Status, resp.Body)
			}
			if c := sessionCookie(resp); c == nil || c.Value != "" || c.MaxAge >= 0 {
				t.Errorf("logout should expire the SESSION cookie; got %v", c)
			}
			for name, tok := range map[string]string{"the token logged out": tok2, "its sibling": tok1} {
				if v := s.Verify(t, tok, sess); v.Status != 401 {
					t.Errorf("%s after logout: %d", name, v.Status)
				}
			}
			if v := s.Verify(t, otherTok, otherSess); v.Status != 200 {
				t.Errorf("the token of another session after this logout: %d", v.Status)
			}
			// Signing in again with the dead cookie starts a new session.
			if _, again, _ := s.SignIn(t, "simon0897", "s3cret", sess); again == sess {
				t.Error("an ended session was reused")
			}
		})
	}
}

func between(s, open, close string) string {
	_, rest, _ := strings.Cut(s, open)
	v, _, _ := strings.Cut(rest, close)
	return v
}

func TestWrongSessionCookieRejected(t *testing.T) {
	s := newStack(t)
	tok, sess, _ := s.SignIn(t, "simon0897", "s3cret", "")
	_, other, _ := s.SignIn(t, "paul1234", "pa55", "")
	for name, cookie := range map[string]string{
		"none": "", "another user's": other, "made up": "0badc0de-0000-4000-8000-000000000000",
		"lower-case name": "", "right one": sess,
	} {
		h := map[string]string{"Authorization": "Bearer " + tok}
		switch {
		case name == "lower-case name":
			h["Cookie"] = "session=" + sess // Spectrum: "The cookie name SESSION must be in all caps."
		case cookie != "":
			h["Cookie"] = "SESSION=" + cookie
		}
		want := 401
		if name == "right one" {
			want = 200
		}
		if v := servertest.Do(t, "GET", s.URL+server.PathVerify, "", h); v.Status != want {
			t.Errorf("%s SESSION: %d, want %d", name, v.Status, want)
		}
	}
}
