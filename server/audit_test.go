package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

func TestAuditTrail(t *testing.T) {
	s := newStack(t, servertest.WithThrottle(auth.ThrottleConfig{AccountBurst: 1, AccountEvery: time.Minute, AddressBurst: 100, AddressEvery: time.Second}))
	tok, sess, _ := s.SignIn(t, "simon0897", "s3cret", "")
	open := s.restJSON(t, "/security/rest/token/access/60")["access_token"].(string)
	restSignIn(t, s, "paul1234", "wrong-pa55", "192.0.2.9") // bad password
	restSignIn(t, s, "paul1234", "pa55", "192.0.2.9")       // now throttled
	s.Verify(t, tok, "")                                    // no SESSION: refused
	servertest.Do(t, "GET", s.URL+"/security/rest/token/logout", "", map[string]string{"Authorization": "Bearer " + tok, "Cookie": "SESSION=" + sess})

	events := s.AuditLog(t)
	var got []string
	for i := len(events) - 1; i >= 0; i-- { // oldest first
		e := events[i]
		got = append(got, fmt.Sprintf("%s %s actor=%s subject=%s", e.Action, e.Outcome, e.Actor, e.Subject))
	}
	want := []string{
		"token.issue ok actor=simon0897 subject=simon0897",
		"token.issue ok actor=simon0897 subject=simon0897",
		"login.fail bad_credentials actor= subject=paul1234",
		"login.fail throttled actor= subject=paul1234",
		"token.refuse session_mismatch actor= subject=",
		"token.logout ok actor=simon0897 subject=simon0897",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if e := events[len(events)-3]; e.ClientHost != "192.0.2.9" || !e.At.Equal(s.Clock.Now()) {
		t.Errorf("failed sign-in recorded from %q at %v", e.ClientHost, e.At)
	}
	if !strings.HasPrefix(events[len(events)-1].Detail, "kind=session id=") {
		t.Errorf("issue detail %q", events[len(events)-1].Detail)
	}
	// No row holds a token, a session cookie or a password.
	for _, e := range events {
		row := fmt.Sprintf("%+v", e)
		for _, secret := range []string{tok, open, sess, "s3cret", "pa55", "wrong-pa55"} {
			if strings.Contains(row, secret) {
				t.Errorf("audit row holds a secret: %s", row)
			}
		}
	}
}
