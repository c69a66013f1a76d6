package session_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/session"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

type fixture struct {
	m     *session.Manager
	store *sqlite.Store
	now   time.Time
}

func newFixture(t *testing.T, cfg session.Config) *fixture {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	for _, u := range []string{"alice", "bob"} {
		if err := store.CreateUser(context.Background(), storage.User{Name: u, PasswordHash: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{store: store, now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	f.m = session.NewManager(store, cfg, func() time.Time { return f.now })
	return f
}

func (f *fixture) create(t *testing.T, user string) string {
	t.Helper()
	cookie, _, err := f.m.Create(context.Background(), user, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return cookie
}

func TestIdleTimeoutSlides(t *testing.T) {
	ctx := context.Background()
	// Touch on every use so the edges are exact; throttling has its own test.
	f := newFixture(t, session.Config{IdleTimeout: 30 * time.Minute, TouchInterval: 0})
	cookie := f.create(t, "alice")
	f.now = f.now.Add(29*time.Minute + 59*time.Second)
	if _, err := f.m.Check(ctx, cookie); err != nil {
		t.Fatalf("at 29:59 idle: %v", err)
	}
	f.now = f.now.Add(29*time.Minute + 59*time.Second)
	if _, err := f.m.Check(ctx, cookie); err != nil {
		t.Fatalf("29:59 after the last use (59:58 after creation): %v", err)
	}
	f.now = f.now.Add(30*time.Minute + time.Second)
	if _, err := f.m.Check(ctx, cookie); !errors.Is(err, session.ErrIdle) {
		t.Fatalf("at 30:01 idle: %v, want ErrIdle", err)
	}
}

func TestAbsoluteLifetime(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, session.Config{IdleTimeout: 30 * time.Minute, MaxLifetime: 2 * time.Hour, TouchInterval: time.Minute})
	cookie := f.create(t, "alice")
	// Busy all along: every 20 minutes a use, so only the absolute cap can end it.
	for elapsed := 20 * time.Minute; elapsed <= 2*time.Hour; elapsed += 20 * time.Minute {
		f.now = f.now.Add(20 * time.Minute)
		if _, err := f.m.Check(ctx, cookie); err != nil {
			t.Fatalf("at %v: %v", elapsed, err)
		}
	}
	f.now = f.now.Add(time.Second)
	if _, err := f.m.Check(ctx, cookie); !errors.Is(err, session.ErrTooOld) {
		t.Fatalf("past the absolute lifetime: %v, want ErrTooOld", err)
	}
}

func TestTouchesAreThrottled(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, session.Config{IdleTimeout: 30 * time.Minute, TouchInterval: time.Minute})
	cookie := f.create(t, "alice")
	created := f.now
	lastSeen := func() time.Time {
		s, err := f.store.GetSession(ctx, session.ID(cookie))
		if err != nil {
			t.Fatal(err)
		}
		return s.LastSeenAt
	}
	for range 5 {
		f.now = f.now.Add(10 * time.Second)
		if _, err := f.m.Check(ctx, cookie); err != nil {
			t.Fatal(err)
		}
	}
	if got := lastSeen(); !got.Equal(created) {
		t.Fatalf("uses within the touch interval wrote last-seen %v", got)
	}
	f.now = f.now.Add(20 * time.Second) // 70 s after the last write
	if _, err := f.m.Check(ctx, cookie); err != nil {
		t.Fatal(err)
	}
	if got := lastSeen(); !got.Equal(f.now) {
		t.Fatalf("a use past the touch interval left last-seen at %v, want %v", got, f.now)
	}
}

func TestCheckRejects(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, session.DefaultConfig)
	cookie := f.create(t, "alice")
	for name, value := range map[string]string{
		"empty":          "",
		"unknown":        "3f1b8f0e-0000-4000-8000-000000000000",
		"storage id":     session.ID(cookie), // the database's key is not a cookie
		"over-long":      string(make([]byte, session.MaxCookieLen+1)),
		"different case": toUpper(cookie),
	} {
		if _, err := f.m.Check(ctx, value); !errors.Is(err, session.ErrUnknown) {
			t.Errorf("%s: %v, want ErrUnknown", name, err)
		}
	}
	if err := f.m.End(ctx, session.ID(cookie)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Check(ctx, cookie); !errors.Is(err, session.ErrEnded) {
		t.Fatalf("after End: %v, want ErrEnded", err)
	}
}

func TestEndUserEndsOnlyThatUsersSessions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, session.DefaultConfig)
	a1, a2, b := f.create(t, "alice"), f.create(t, "alice"), f.create(t, "bob")
	if n, err := f.m.EndUser(ctx, "alice"); err != nil || n != 2 {
		t.Fatalf("EndUser = %d, %v; want 2", n, err)
	}
	for _, c := range []string{a1, a2} {
		if _, err := f.m.Check(ctx, c); !errors.Is(err, session.ErrEnded) {
			t.Errorf("alice's session after EndUser: %v", err)
		}
	}
	if _, err := f.m.Check(ctx, b); err != nil {
		t.Errorf("bob's session after alice's EndUser: %v", err)
	}
}

func TestCookieValuesAreRandomUUIDs(t *testing.T) {
	f := newFixture(t, session.DefaultConfig)
	seen := map[string]bool{}
	for range 50 {
		c := f.create(t, "alice")
		if len(c) != 36 || c[8] != '-' || c[14] != '4' || seen[c] {
			t.Fatalf("cookie %q: want a fresh version-4 UUID", c)
		}
		seen[c] = true
	}
}

func toUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 32
		}
	}
	return string(b)
}

// A cookie value of one kind names no session of another kind, nor a SESSION; the page kind keeps the storage
// ids it had before kinds existed, so that page sessions live through an upgrade.
func TestKindsDoNotCross(t *testing.T) {
	f := newFixture(t, session.DefaultConfig)
	ctx := context.Background()
	console, _, err := f.m.CreateKind(ctx, session.KindConsole, "alice", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	page, _, err := f.m.CreatePage(ctx, "bob", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	api := f.create(t, "alice")
	if s, err := f.m.CheckKind(ctx, session.KindConsole, console); err != nil || s.User != "alice" {
		t.Fatalf("the console session: %v %v", s, err)
	}
	for what, check := range map[string]func() error{
		"console value as page":    func() error { _, err := f.m.CheckPage(ctx, console); return err },
		"console value as SESSION": func() error { _, err := f.m.Check(ctx, console); return err },
		"page value as console":    func() error { _, err := f.m.CheckKind(ctx, session.KindConsole, page); return err },
		"SESSION value as console": func() error { _, err := f.m.CheckKind(ctx, session.KindConsole, api); return err },
		"SESSION value as page":    func() error { _, err := f.m.CheckPage(ctx, api); return err },
		"an overlong console value": func() error {
			_, err := f.m.CheckKind(ctx, session.KindConsole, console+string(make([]byte, 200)))
			return err
		},
	} {
		if err := check(); !errors.Is(err, session.ErrUnknown) {
			t.Errorf("%s: %v, want ErrUnknown", what, err)
		}
	}
	// The page kind's id, as it was computed before kinds existed.
	sum := sha256.Sum256([]byte("tokenmanager page session v1\x00" + page))
	if got := session.PageID(page); got != hex.EncodeToString(sum[:]) {
		t.Fatalf("PageID changed: %s", got)
	}
}
