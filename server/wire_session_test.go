package server_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// TestVerifyDeadlines: the check endpoint says when each kind of token dies if it is not used again, and a
// use moves a session token's idle deadline on.
func TestVerifyDeadlines(t *testing.T) {
	s := newStack(t, func(su *servertest.Setup) { su.Session.MaxLifetime = 2 * time.Hour })
	get := func(tok, sess string) map[string]any {
		t.Helper()
		v := s.Verify(t, tok, sess)
		if v.Status != 200 {
			t.Fatalf("verify: %d %s", v.Status, v.Body)
		}
		return v.JSON(t)
	}
	want := func(what string, m map[string]any, expires, idle, session any) {
		t.Helper()
		if m["expires_at"] != expires || m["idle_expires_at"] != idle || m["session_expires_at"] != session {
			t.Errorf("%s: expires_at %v idle_expires_at %v session_expires_at %v, want %v %v %v", what,
				m["expires_at"], m["idle_expires_at"], m["session_expires_at"], expires, idle, session)
		}
	}
	// The stack's clock starts at 2026-11-23T08:00:00Z; idle timeout 30 minutes, session cap 2 hours.
	sess := s.restJSON(t, "/security/rest/token/access/session/0")
	tok, id := sess["access_token"].(string), sess["session"].(string)
	want("fresh session token", get(tok, id), "2026-11-23T08:30:00Z", "2026-11-23T08:30:00Z", "2026-11-23T10:00:00Z")
	// Used at 08:20, it lives until 08:50, and so on until the cap is the nearer deadline.
	s.Clock.Add(20 * time.Minute)
	want("used at 08:20", get(tok, id), "2026-11-23T08:50:00Z", "2026-11-23T08:50:00Z", "2026-11-23T10:00:00Z")
	for range 4 { // 08:40, 09:00, 09:20, 09:40
		s.Clock.Add(20 * time.Minute)
		get(tok, id)
	}
	want("used at 09:40", get(tok, id), "2026-11-23T10:00:00Z", "2026-11-23T10:10:00Z", "2026-11-23T10:00:00Z")
	s.Clock.Add(20*time.Minute + time.Second)
	if v := s.Verify(t, tok, id); v.Status != 401 {
		t.Fatalf("past the session's cap: %d", v.Status)
	}

	// An expiring token of 15 minutes: its own expiry comes first.
	exp := s.restJSON(t, "/security/rest/token/access/session/15")
	want("expiring token", get(exp["access_token"].(string), exp["session"].(string)),
		"2026-11-23T10:15:01Z", "2026-11-23T10:30:01Z", "2026-11-23T12:00:01Z")
	// An open token has no session: its own expiry only.
	open := s.restJSON(t, "/security/rest/token/access/60")
	want("open token", get(open["access_token"].(string), ""), "2026-11-23T11:00:01Z", nil, nil)
}

// rawGet sends a request exactly as written (Precisely's SAAJ sample and Spectrum Spatial Analyst set their
// Cookie headers by hand) and returns the status.
func rawGet(t *testing.T, base, path string, headers ...string) int {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nConnection: close\r\n" + strings.Join(headers, "\r\n") + "\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestSessionCookieLenient: with SessionCookieLenient a session-bound token works without its SESSION cookie
// (or with SESSION=null) from the host that obtained it, as Precisely's own clients send it; not from another
// host, not with another session's cookie, not past the session's idle limit; and not at all by default.
func TestSessionCookieLenient(t *testing.T) {
	proxied := func(su *servertest.Setup) {
		su.Server.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	const host, other = "198.51.100.7", "203.0.113.1"
	// getAccessExpiringToken over SOAP, as the Spatial Analyst client does, from host; the client keeps the token only.
	issue := func(s *stack) (tok, sess string) {
		t.Helper()
		r := servertest.Do(t, "POST", s.URL+"/security/TokenManagerService", `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:tok="http://token.security.common.server.platform.spectrum.pb.com/"><soapenv:Header/><soapenv:Body><tok:getAccessExpiringToken><tokenLifeInMinutes>60</tokenLifeInMinutes></tok:getAccessExpiringToken></soapenv:Body></soapenv:Envelope>`,
			map[string]string{"Content-Type": "text/xml; charset=utf-8", "SOAPAction": `""`, "Authorization": servertest.Basic("simon0897", "s3cret"), "X-Forwarded-For": host})
		if r.Status != 200 {
			t.Fatalf("getAccessExpiringToken: %d %s", r.Status, r.Body)
		}
		tok, _, _ = strings.Cut(strings.SplitN(r.Body, "<token>", 2)[1], "</token>")
		sess, _, _ = strings.Cut(strings.SplitN(r.Body, "<session>", 2)[1], "</session>")
		return tok, sess
	}
	type try struct {
		name    string
		headers []string
	}
	tries := func(tok, sess, otherSess string) []try {
		return []try{
			{"SAAJ sample: token cookie only", []string{"Cookie: spectrum.authentication.token=" + tok, "X-Forwarded-For: " + host}},
			{"Spatial Analyst: Bearer and SESSION=null", []string{"Authorization: Bearer " + tok, "Cookie: SESSION=null", "X-Forwarded-For: " + host}},
			{"both cookies, SESSION=null", []string{"Cookie: spectrum.authentication.token=" + tok + "; SESSION=null", "X-Forwarded-For: " + host}},
			{"no SESSION, another host", []string{"Cookie: spectrum.authentication.token=" + tok, "X-Forwarded-For: " + other}},
			{"SESSION=null, another host", []string{"Authorization: Bearer " + tok, "Cookie: SESSION=null", "X-Forwarded-For: " + other}},
			{"another session's SESSION", []string{"Authorization: Bearer " + tok, "Cookie: SESSION=" + otherSess, "X-Forwarded-For: " + host}},
			{"a made-up SESSION", []string{"Authorization: Bearer " + tok, "Cookie: SESSION=3f2504e0-4f89-41d3-9a0c-0305e82c3301", "X-Forwarded-For: " + host}},
			{"its own SESSION", []string{"Authorization: Bearer " + tok, "Cookie: SESSION=" + sess, "X-Forwarded-For: " + host}},
		}
	}

	t.Run("required", func(t *testing.T) {
		s := newStack(t, proxied)
		tok, sess := issue(s)
		_, otherSess := issue(s)
		for _, tr := range tries(tok, sess, otherSess) {
			want := 401
			if tr.name == "its own SESSION" {
				want = 200
			}
			if got := rawGet(t, s.URL, server.PathVerify, tr.headers...); got != want {
				t.Errorf("%s: %d, want %d", tr.name, got, want)
			}
		}
	})
	t.Run("lenient", func(t *testing.T) {
		s := newStack(t, proxied, func(su *servertest.Setup) { su.Token.SessionCookieLenient = true })
		tok, sess := issue(s)
		_, otherSess := issue(s)
		ok := map[string]bool{"SAAJ sample: token cookie only": true, "Spatial Analyst: Bearer and SESSION=null": true,
			"both cookies, SESSION=null": true, "its own SESSION": true}
		for _, tr := range tries(tok, sess, otherSess) {
			want := 401
			if ok[tr.name] {
				want = 200
			}
			if got := rawGet(t, s.URL, server.PathVerify, tr.headers...); got != want {
				t.Errorf("%s: %d, want %d", tr.name, got, want)
			}
		}
		// The session's idle timer still runs: used without the cookie at 29 minutes, alive; 30 more, dead.
		cookieOnly := []string{"Cookie: spectrum.authentication.token=" + tok, "X-Forwarded-For: " + host}
		s.Clock.Add(29 * time.Minute)
		if got := rawGet(t, s.URL, server.PathVerify, cookieOnly...); got != 200 {
			t.Fatalf("after 29 idle minutes: %d", got)
		}
		s.Clock.Add(30*time.Minute + time.Second)
		if got := rawGet(t, s.URL, server.PathVerify, cookieOnly...); got != 401 {
			t.Fatalf("after 30:01 idle: %d", got)
		}
		// Logout without the cookie ends the session too.
		tok2, _ := issue(s)
		if got := rawGet(t, s.URL, "/security/rest/token/logout", "Cookie: spectrum.authentication.token="+tok2, "X-Forwarded-For: "+host); got != 200 {
			t.Fatalf("logout without SESSION: %d", got)
		}
		if got := rawGet(t, s.URL, server.PathVerify, "Cookie: spectrum.authentication.token="+tok2, "X-Forwarded-For: "+host); got != 401 {
			t.Fatalf("after logout: %d", got)
		}
	})
	t.Run("lenient without host checks still binds the cookie-less token to its host", func(t *testing.T) {
		s := newStack(t, proxied, func(su *servertest.Setup) { su.Token.SessionCookieLenient, su.Token.CheckHost = true, false })
		tok, sess := issue(s)
		if got := rawGet(t, s.URL, server.PathVerify, "Cookie: spectrum.authentication.token="+tok, "X-Forwarded-For: "+other); got != 401 {
			t.Errorf("no SESSION, another host: %d", got)
		}
		if got := rawGet(t, s.URL, server.PathVerify, "Cookie: spectrum.authentication.token="+tok+"; SESSION="+sess, "X-Forwarded-For: "+other); got != 200 {
			t.Errorf("its SESSION, another host, host checks off: %d", got)
		}
	})
}
