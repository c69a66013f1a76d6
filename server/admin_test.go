package server_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
	"github.com/tokenmanager/tokenmanager/storage"
)

func TestAdminAPIRequiresAnAdministrator(t *testing.T) {
	s := newStack(t, servertest.WithAdmin(t))
	for name, c := range map[string]struct {
		auth map[string]string
		want int
	}{
		"no credentials":    {nil, 401},
		"wrong password":    {map[string]string{"Authorization": servertest.Basic("root", "nope")}, 401},
		"not an admin":      {map[string]string{"Authorization": servertest.Basic("paul1234", "pa55")}, 403},
		"admin, Basic":      {servertest.RootBasic, 200},
		"a non-admin token": {map[string]string{"Authorization": "Bearer " + s.restJSON(t, "/security/rest/token/access/60")["access_token"].(string)}, 403},
		"a malformed token": {map[string]string{"Authorization": "Bearer x"}, 401},
	} {
		if r := s.AdminCall(t, "GET", "/tokens", c.auth); r.Status != c.want {
			t.Errorf("%s: %d, want %d (%s)", name, r.Status, c.want, r.Body)
		}
	}
	// An administrator's own session token works, with its SESSION cookie.
	rootSess := servertest.Do(t, "GET", s.URL+"/security/rest/token/access/session/0", "", servertest.RootBasic).JSON(t)
	r := s.AdminCall(t, "GET", "/sessions", map[string]string{"Authorization": "Bearer " + rootSess["access_token"].(string),
		"Cookie": "SESSION=" + rootSess["session"].(string)})
	if r.Status != 200 {
		t.Fatalf("admin by session token: %d %s", r.Status, r.Body)
	}
}

func TestAdminListAndRevoke(t *testing.T) {
	s := newStack(t, servertest.WithAdmin(t))
	tok1, sess1, _ := s.SignIn(t, "simon0897", "s3cret", "")
	s.restJSON(t, "/security/rest/token/access/60") // an open token, expiring at +1 h
	paulTok, paulSess, _ := s.SignIn(t, "paul1234", "pa55", "")
	s.Clock.Add(2 * time.Hour) // all of the above are now two hours old; the open token expired at 1 h

	var list struct {
		Tokens []struct {
			ID, User, Kind string
			ExpiresAt      *time.Time `json:"expires_at"`
		} `json:"items"`
	}
	get := func(query string) {
		t.Helper()
		r := s.AdminCall(t, "GET", "/tokens"+query, servertest.RootBasic)
		if r.Status != 200 {
			t.Fatalf("list %s: %d %s", query, r.Status, r.Body)
		}
		list.Tokens = nil
		json.Unmarshal([]byte(r.Body), &list)
	}
	get("?user=simon0897")
	if len(list.Tokens) != 2 {
		t.Fatalf("simon0897's tokens: %+v", list.Tokens)
	}
	get("?user=simon0897&live=true")
	if len(list.Tokens) != 1 || list.Tokens[0].Kind != "session" {
		t.Fatalf("simon0897's live tokens: %+v", list.Tokens)
	}
	get("?kind=session&older_than=1h")
	if len(list.Tokens) != 2 {
		t.Fatalf("session tokens older than an hour: %+v", list.Tokens)
	}
	get("?older_than=3h")
	if len(list.Tokens) != 0 {
		t.Fatalf("tokens older than 3h: %+v", list.Tokens)
	}
	for _, bad := range []string{"?older_than=soon", "?live=maybe", "?limit=0"} {
		if r := s.AdminCall(t, "GET", "/tokens"+bad, servertest.RootBasic); r.Status != 400 {
			t.Errorf("%s: %d", bad, r.Status)
		}
	}

	// Revoke one token by id: it stops working at once.
	get("?user=paul1234")
	paulID := list.Tokens[0].ID
	if r := s.AdminCall(t, "DELETE", "/tokens/"+paulID, servertest.RootBasic); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if v := s.Verify(t, paulTok, paulSess); v.Status != 401 {
		t.Fatalf("revoked token: %d", v.Status)
	}
	if r := s.AdminCall(t, "GET", "/tokens/"+paulID, servertest.RootBasic); r.Status != 200 || r.JSON(t)["revoked_at"] == nil {
		t.Fatalf("show revoked token: %d %s", r.Status, r.Body)
	}
	if r := s.AdminCall(t, "DELETE", "/tokens/no-such-id", servertest.RootBasic); r.Status != 404 {
		t.Fatalf("revoke unknown: %d", r.Status)
	}

	// Revoke everything of a user.
	r := s.AdminCall(t, "POST", "/users/simon0897/revoke-tokens", servertest.RootBasic)
	if r.Status != 200 || r.JSON(t)["revoked"] != float64(2) {
		t.Fatalf("revoke user: %d %s", r.Status, r.Body)
	}
	if v := s.Verify(t, tok1, sess1); v.Status != 401 {
		t.Fatalf("simon0897's session token after revoke-tokens: %d", v.Status)
	}
	if live, _ := s.Store.ListTokens(context.Background(), storage.TokenFilter{User: "simon0897"}); len(live) != 2 || !live[0].Revoked() || !live[1].Revoked() {
		t.Fatalf("simon0897's token records after revoke-tokens: %+v", live)
	}
	if r := s.AdminCall(t, "POST", "/users/nobody/revoke-tokens", servertest.RootBasic); r.Status != 404 {
		t.Fatalf("revoke unknown user: %d", r.Status)
	}

	events := s.AuditLog(t)
	var actions []string
	for _, e := range events {
		if e.Actor == "root" {
			actions = append(actions, e.Action+" "+e.Subject)
		}
	}
	if len(actions) != 2 || actions[0] != "admin.user.revoke simon0897" || actions[1] != "admin.token.revoke paul1234" {
		t.Fatalf("admin audit events: %v", actions)
	}
}

func TestAdminSessions(t *testing.T) {
	s := newStack(t, servertest.WithAdmin(t))
	tok, sess, _ := s.SignIn(t, "simon0897", "s3cret", "")
	s.SignIn(t, "paul1234", "pa55", "")
	var list struct {
		Sessions []struct{ ID, User string } `json:"items"`
	}
	r := s.AdminCall(t, "GET", "/sessions?user=simon0897&live=true", servertest.RootBasic)
	json.Unmarshal([]byte(r.Body), &list)
	if r.Status != 200 || len(list.Sessions) != 1 {
		t.Fatalf("simon0897's live sessions: %d %s", r.Status, r.Body)
	}
	if r := s.AdminCall(t, "DELETE", "/sessions/"+list.Sessions[0].ID, servertest.RootBasic); r.Status != 204 {
		t.Fatalf("end session: %d %s", r.Status, r.Body)
	}
	if v := s.Verify(t, tok, sess); v.Status != 401 {
		t.Fatalf("token of an ended session: %d", v.Status)
	}
	json.Unmarshal([]byte(s.AdminCall(t, "GET", "/sessions?live=true", servertest.RootBasic).Body), &list)
	if len(list.Sessions) != 1 || list.Sessions[0].User != "paul1234" {
		t.Fatalf("live sessions after the end: %+v", list.Sessions)
	}
}
