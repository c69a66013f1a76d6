package conformance

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

func testAdminFlag(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	if err := s.UpdateUser(ctx, "alice", func(u *storage.User) error { u.Admin = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if u, err := s.GetUser(ctx, "alice"); err != nil || !u.Admin {
		t.Fatalf("admin flag after update: %+v, %v", u, err)
	}
	if err := s.CreateUser(ctx, storage.User{Name: "root", PasswordHash: "h", Admin: true}); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.GetUser(ctx, "root"); !u.Admin {
		t.Fatal("admin flag lost on create")
	}
}

// adminFixture: alice has an open, an expired, a revoked and a session token (in session s1, from 10.0.0.2);
// bob has one open token and session s2.
func adminFixture(t *testing.T, s storage.Store) {
	t.Helper()
	ctx := context.Background()
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	for _, ss := range []storage.Session{
		{ID: "s1", User: "alice", ClientHost: "10.0.0.2", CreatedAt: base, LastSeenAt: base},
		{ID: "s2", User: "bob", ClientHost: "10.0.0.3", CreatedAt: base.Add(time.Minute), LastSeenAt: base.Add(time.Minute)},
	} {
		if err := s.CreateSession(ctx, ss); err != nil {
			t.Fatal(err)
		}
	}
	for i, tok := range []storage.Token{
		{ID: "a-open", User: "alice", Kind: storage.KindOpen, ClientHost: "10.0.0.1"},
		{ID: "a-expired", User: "alice", Kind: storage.KindOpen, ClientHost: "10.0.0.1", ExpiresAt: base},
		{ID: "a-revoked", User: "alice", Kind: storage.KindOpen, ClientHost: "10.0.0.1", RevokedAt: base},
		{ID: "a-session", User: "alice", Kind: storage.KindSession, SessionID: "s1", ClientHost: "10.0.0.2"},
		{ID: "b-open", User: "bob", Kind: storage.KindOpen, ClientHost: "10.0.0.3"},
	} {
		tok.CreatedAt = base.Add(-time.Duration(5-i) * time.Hour) // a-open oldest, b-open newest
		tok.LastUsedAt = tok.CreatedAt
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
}

func ids[T any](items []T, id func(T) string) string {
	var out []string
	for _, it := range items {
		out = append(out, id(it))
	}
	return strings.Join(out, " ")
}

func testListTokens(t *testing.T, s storage.Store) {
	ctx := context.Background()
	adminFixture(t, s)
	tokID := func(t storage.Token) string { return t.ID }
	for _, c := range []struct {
		name string
		f    storage.TokenFilter
		want string
	}{
		{"all, newest first", storage.TokenFilter{}, "b-open a-session a-revoked a-expired a-open"},
		{"by user", storage.TokenFilter{User: "alice"}, "a-session a-revoked a-expired a-open"},
		{"by kind", storage.TokenFilter{Kind: storage.KindSession}, "a-session"},
		{"by client", storage.TokenFilter{ClientHost: "10.0.0.1"}, "a-revoked a-expired a-open"},
		{"older than", storage.TokenFilter{CreatedBefore: base.Add(-3 * time.Hour)}, "a-expired a-open"},
		{"live", storage.TokenFilter{User: "alice", LiveAt: base}, "a-session a-open"},
		{"limit", storage.TokenFilter{Limit: 2}, "b-open a-session"},
	} {
		got, err := s.ListTokens(ctx, c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if ids(got, tokID) != c.want {
			t.Errorf("%s: %q, want %q", c.name, ids(got, tokID), c.want)
		}
	}
	if got, _ := s.ListTokens(ctx, storage.TokenFilter{Kind: storage.KindSession}); len(got) == 1 && got[0].SessionID != "s1" {
		t.Errorf("session id %q", got[0].SessionID)
	}
}

func testListSessions(t *testing.T, s storage.Store) {
	ctx := context.Background()
	adminFixture(t, s)
	sessID := func(s storage.Session) string { return s.ID }
	if got, err := s.ListSessions(ctx, storage.SessionFilter{}); err != nil || ids(got, sessID) != "s2 s1" {
		t.Fatalf("all sessions: %q, %v", ids(got, sessID), err)
	}
	if got, _ := s.ListSessions(ctx, storage.SessionFilter{User: "alice"}); ids(got, sessID) != "s1" {
		t.Errorf("alice's sessions: %q", ids(got, sessID))
	}
	if got, _ := s.ListSessions(ctx, storage.SessionFilter{ClientHost: "10.0.0.3"}); ids(got, sessID) != "s2" {
		t.Errorf("sessions from 10.0.0.3: %q", ids(got, sessID))
	}
	if got, _ := s.ListSessions(ctx, storage.SessionFilter{SeenSince: base.Add(30 * time.Second)}); ids(got, sessID) != "s2" {
		t.Errorf("live sessions: %q", ids(got, sessID))
	}
}

func testRevokeUserTokens(t *testing.T, s storage.Store) {
	ctx := context.Background()
	adminFixture(t, s)
	at := base.Add(time.Hour)
	n, err := s.RevokeUserTokens(ctx, "alice", at)
	if err != nil || n != 3 { // a-open, a-expired and a-session: a-revoked already was
		t.Fatalf("RevokeUserTokens = %d, %v; want 3", n, err)
	}
	if live, _ := s.ListTokens(ctx, storage.TokenFilter{User: "alice", LiveAt: base}); len(live) != 0 {
		t.Fatalf("alice still has live tokens: %v", live)
	}
	if tok, _ := s.GetToken(ctx, "a-revoked"); !tok.RevokedAt.Equal(base) {
		t.Errorf("an earlier revocation time was overwritten: %v", tok.RevokedAt)
	}
	if ss, _ := s.GetSession(ctx, "s1"); !ss.Ended() {
		t.Error("alice's session was not ended")
	}
	if tok, _ := s.GetToken(ctx, "b-open"); tok.Revoked() {
		t.Error("bob's token was revoked")
	}
	if ss, _ := s.GetSession(ctx, "s2"); ss.Ended() {
		t.Error("bob's session was ended")
	}
}

// testDisableEndsTokens: disabling a user revokes every token and ends every session of theirs in the same
// update, and enabling them again brings none back (nor a token written while they were disabled).
func testDisableEndsTokens(t *testing.T, s storage.Store) {
	ctx := context.Background()
	adminFixture(t, s)
	mustActivation(t, s, "a1", "alice", base)
	mustActivation(t, s, "b1", "bob", base)
	mustPowerAuthToken(t, s, "pa-alice", "a1")
	mustPowerAuthToken(t, s, "pa-bob", "b1")
	_, pos, err := s.ReadChanges(ctx, -1, 0)
	if err != nil {
		t.Fatal(err)
	}
	setDisabled := func(disabled bool) {
		t.Helper()
		if err := s.UpdateUser(ctx, "alice", func(u *storage.User) error { u.Disabled = disabled; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	setDisabled(true)
	if live, _ := s.ListTokens(ctx, storage.TokenFilter{User: "alice", LiveAt: base}); len(live) != 0 {
		t.Fatalf("alice is disabled but has live tokens: %v", ids(live, func(t storage.Token) string { return t.ID }))
	}
	if ss, _ := s.GetSession(ctx, "s1"); !ss.Ended() {
		t.Fatal("alice is disabled but her session is live")
	}
	if left, _ := s.ListPowerAuthTokens(ctx, ""); len(left) != 1 || left[0].ID != "pa-bob" {
		t.Fatalf("PowerAuth tokens after alice's disable: %v", ids(left, func(t storage.PowerAuthToken) string { return t.ID }))
	}
	// The caches of every node hear of it through the change feed.
	changes, _, err := s.ReadChanges(ctx, pos, 100)
	if err != nil {
		t.Fatal(err)
	}
	heard := map[string]bool{}
	for _, c := range changes {
		heard[string(c.Kind)+":"+c.Key] = true
	}
	for _, want := range []string{"token:a-open", "token:a-session", "session:s1", "user:alice"} {
		if !heard[want] {
			t.Errorf("the change feed lacks %s after the disable: %v", want, changes)
		}
	}
	// A token whose write raced the disable, committed after it.
	late := storage.Token{ID: "a-late", User: "alice", Kind: storage.KindOpen, ClientHost: "10.0.0.1", CreatedAt: base, LastUsedAt: base}
	if err := s.CreateToken(ctx, late); err != nil {
		t.Fatal(err)
	}
	setDisabled(false)
	for _, id := range []string{"a-open", "a-session", "a-late"} {
		if tok, err := s.GetToken(ctx, id); err != nil || !tok.Revoked() {
			t.Errorf("token %s after disable and enable: %+v, %v; want revoked", id, tok, err)
		}
	}
	if ss, _ := s.GetSession(ctx, "s1"); !ss.Ended() {
		t.Error("enabling alice brought her session back")
	}
	if tok, _ := s.GetToken(ctx, "b-open"); tok.Revoked() {
		t.Error("bob's token was revoked")
	}
	if ss, _ := s.GetSession(ctx, "s2"); ss.Ended() {
		t.Error("bob's session was ended")
	}
	// Other updates of an enabled user leave their tokens alone.
	fresh := storage.Token{ID: "a-fresh", User: "alice", Kind: storage.KindOpen, ClientHost: "10.0.0.1", CreatedAt: base, LastUsedAt: base}
	if err := s.CreateToken(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateUser(ctx, "alice", func(u *storage.User) error { u.Admin = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if tok, _ := s.GetToken(ctx, "a-fresh"); tok.Revoked() {
		t.Error("promoting alice revoked her token")
	}
}
