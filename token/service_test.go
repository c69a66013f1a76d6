package token

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/session"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

type fixture struct {
	svc      *Service
	sessions *session.Manager
	store    *sqlite.Store
	now      time.Time
}

func (f *fixture) clock() time.Time { return f.now }

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f := &fixture{store: store, now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	if err := store.CreateUser(context.Background(), storage.User{Name: "alice", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	codec, _ := NewCodec(testKey())
	f.sessions = session.NewManager(store, session.DefaultConfig, f.clock)
	f.svc = NewService(codec, store, f.sessions, cfg, f.clock)
	return f
}

// signIn starts a session for alice from host and mints a session-bound token in it; Issued.Token with the
// returned cookie value is what a client presents.
func (f *fixture) signIn(t *testing.T, host string, ttl time.Duration) (Issued, string, error) {
	t.Helper()
	cookie, sess, err := f.sessions.Create(context.Background(), "alice", host)
	if err != nil {
		t.Fatal(err)
	}
	iss, err := f.svc.IssueSessionToken(context.Background(), "alice", sess.ID, host, ttl)
	return iss, cookie, err
}

var defaultCfg = Config{MaxLifetime: 24 * time.Hour, CheckHost: true, TouchInterval: time.Minute}

func TestSessionTokenIdleTimeout(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, defaultCfg)
	iss, cookie, err := f.signIn(t, "10.0.0.1", 0)
	if err != nil || iss.Kind != storage.KindSession || !iss.ExpiresAt.IsZero() {
		t.Fatalf("issue: %+v, %v", iss, err)
	}
	p := Presented{Token: iss.Token, Session: cookie, ClientHost: "10.0.0.1"}
	f.now = f.now.Add(29*time.Minute + 59*time.Second)
	if _, err := f.svc.Verify(ctx, p); err != nil {
		t.Fatalf("at 29:59 idle: %v", err)
	}
	// That use was activity: another 29:59 is still fine.
	f.now = f.now.Add(29*time.Minute + 59*time.Second)
	if _, err := f.svc.Verify(ctx, p); err != nil {
		t.Fatalf("29:59 after the last use: %v", err)
	}
	f.now = f.now.Add(30*time.Minute + time.Second)
	if _, err := f.svc.Verify(ctx, p); !errors.Is(err, ErrSessionGone) {
		t.Fatalf("at 30:01 idle: %v, want ErrSessionGone", err)
	}
}

func TestExpiringToken(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, defaultCfg)
	iss, cookie, err := f.signIn(t, "h", 60*time.Minute)
	if err != nil || iss.Kind != storage.KindExpiring || !iss.ExpiresAt.Equal(f.now.Add(time.Hour)) {
		t.Fatalf("issue: %+v, %v", iss, err)
	}
	p := Presented{Token: iss.Token, Session: cookie, ClientHost: "h"}
	for range 3 { // keep the session busy so only the expiry can end it
		f.now = f.now.Add(20 * time.Minute)
		if _, err := f.svc.Verify(ctx, p); err != nil && f.now.Before(iss.ExpiresAt) {
			t.Fatalf("before expiry: %v", err)
		}
	}
	if _, err := f.svc.Verify(ctx, p); !errors.Is(err, ErrExpired) {
		t.Fatalf("at expiry: %v, want ErrExpired", err)
	}
	// And it also dies of inactivity before its expiry.
	iss, cookie, _ = f.signIn(t, "h", 2*time.Hour)
	f.now = f.now.Add(31 * time.Minute)
	if _, err := f.svc.Verify(ctx, Presented{Token: iss.Token, Session: cookie, ClientHost: "h"}); !errors.Is(err, ErrSessionGone) {
		t.Fatalf("idle expiring token: %v", err)
	}
}

func TestSessionBinding(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, defaultCfg)
	iss, cookie, _ := f.signIn(t, "10.0.0.1", 0)
	_, otherCookie, _ := f.signIn(t, "10.0.0.1", 0)
	cases := map[string]Presented{
		"no SESSION":    {Token: iss.Token, ClientHost: "10.0.0.1"},
		"wrong SESSION": {Token: iss.Token, Session: otherCookie, ClientHost: "10.0.0.1"},
	}
	for name, p := range cases {
		if _, err := f.svc.Verify(ctx, p); !errors.Is(err, ErrSessionMismatch) {
			t.Errorf("%s: %v, want ErrSessionMismatch", name, err)
		}
	}
	if _, err := f.svc.Verify(ctx, Presented{Token: iss.Token, Session: cookie, ClientHost: "10.0.0.2"}); !errors.Is(err, ErrHostMismatch) {
		t.Errorf("other host: %v, want ErrHostMismatch", err)
	}
	// With host checks off (Spectrum's cluster setting) the session still binds, the host does not.
	f.svc.cfg.CheckHost = false
	if _, err := f.svc.Verify(ctx, Presented{Token: iss.Token, Session: cookie, ClientHost: "10.0.0.2"}); err != nil {
		t.Errorf("host checks off: %v", err)
	}
}

func TestOpenToken(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, defaultCfg)
	iss, err := f.svc.IssueOpenToken(ctx, "alice", "10.0.0.1", 0)
	if err != nil || iss.Kind != storage.KindOpen || !iss.ExpiresAt.Equal(f.now.Add(24*time.Hour)) {
		t.Fatalf("open token: %+v, %v (want the configured maximum lifetime)", iss, err)
	}
	// No session, any host, and idle time does not matter.
	f.now = f.now.Add(23 * time.Hour)
	if v, err := f.svc.Verify(ctx, Presented{Token: iss.Token, ClientHost: "192.0.2.9"}); err != nil || v.User != "alice" || v.Kind != storage.KindOpen {
		t.Fatalf("verify: %+v, %v", v, err)
	}
	f.now = f.now.Add(time.Hour)
	if _, err := f.svc.Verify(ctx, Presented{Token: iss.Token}); !errors.Is(err, ErrExpired) {
		t.Fatalf("after max lifetime: %v", err)
	}
	if _, err := f.svc.IssueOpenToken(ctx, "alice", "", 25*time.Hour); !errors.Is(err, ErrLifetime) {
		t.Fatalf("over the maximum: %v", err)
	}
	if _, _, err := f.signIn(t, "", -time.Minute); !errors.Is(err, ErrLifetime) {
		t.Fatalf("negative: %v", err)
	}
}

func TestLogout(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, defaultCfg)
	open, _ := f.svc.IssueOpenToken(ctx, "alice", "h", time.Hour)
	if _, err := f.svc.Logout(ctx, Presented{Token: open.Token}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Verify(ctx, Presented{Token: open.Token}); !errors.Is(err, ErrRevoked) {
		t.Fatalf("open token after logout: %v", err)
	}
	if _, err := f.svc.Logout(ctx, Presented{Token: open.Token}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("second logout: %v", err)
	}
	sess, cookie, _ := f.signIn(t, "h", 0)
	p := Presented{Token: sess.Token, Session: cookie, ClientHost: "h"}
	if _, err := f.svc.Logout(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Verify(ctx, p); !errors.Is(err, ErrRevoked) {
		t.Fatalf("session token after logout: %v", err)
	}
}

func TestDisabledUser(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, defaultCfg)
	iss, _ := f.svc.IssueOpenToken(ctx, "alice", "h", time.Hour)
	f.store.UpdateUser(ctx, "alice", func(u *storage.User) error { u.Disabled = true; return nil })
	if _, err := f.svc.Verify(ctx, Presented{Token: iss.Token}); !errors.Is(err, ErrRevoked) {
		t.Fatalf("disabled: %v", err)
	}
	// A disable ends the user's tokens for good: enabling the account does not bring them back.
	f.store.UpdateUser(ctx, "alice", func(u *storage.User) error { u.Disabled = false; return nil })
	if _, err := f.svc.Verify(ctx, Presented{Token: iss.Token}); !errors.Is(err, ErrRevoked) {
		t.Fatalf("re-enabled: %v", err)
	}
	if _, err := f.svc.IssueOpenToken(ctx, "alice", "h", time.Hour); err != nil {
		t.Fatalf("a new token after the enable: %v", err)
	}
}

func TestTouchIsThrottled(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, defaultCfg)
	iss, _ := f.svc.IssueOpenToken(ctx, "alice", "h", time.Hour)
	id := mustClaims(t, f, iss.Token).ID
	f.now = f.now.Add(30 * time.Second)
	f.svc.Verify(ctx, Presented{Token: iss.Token})
	rec, _ := f.store.GetToken(ctx, id)
	if !rec.LastUsedAt.Equal(rec.CreatedAt) {
		t.Fatal("a use inside the touch interval was written")
	}
	f.now = f.now.Add(31 * time.Second)
	f.svc.Verify(ctx, Presented{Token: iss.Token})
	rec, _ = f.store.GetToken(ctx, id)
	if !rec.LastUsedAt.Equal(f.now) {
		t.Fatalf("last used %v, want %v", rec.LastUsedAt, f.now)
	}
}

func TestCollectGarbage(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, defaultCfg)
	expiring, _ := f.svc.IssueOpenToken(ctx, "alice", "h", time.Minute)
	idle, _, _ := f.signIn(t, "h", 0)
	keep, _ := f.svc.IssueOpenToken(ctx, "alice", "h", 0)
	f.now = f.now.Add(31 * time.Minute)
	tokens, sessions, err := f.svc.CollectGarbage(ctx, f.store, 1)
	if err != nil || tokens != 1 || sessions != 1 {
		t.Fatalf("GC: %d tokens, %d sessions, %v; want 1, 1", tokens, sessions, err)
	}
	for tok, wantGone := range map[string]bool{expiring.Token: true, idle.Token: true, keep.Token: false} {
		_, err := f.store.GetToken(ctx, mustClaims(t, f, tok).ID)
		if errors.Is(err, storage.ErrNotFound) != wantGone {
			t.Errorf("gone=%v, want %v", err != nil, wantGone)
		}
	}
}

func mustClaims(t *testing.T, f *fixture, tok string) Claims {
	t.Helper()
	c, err := f.svc.codec().Open(tok)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestConcurrentIssueRevokeExpire runs issuance, checks, logouts and idle expiry at once (under -race): a token
// is never accepted after its logout returned, nor once its session has idled out.
func TestConcurrentIssueRevokeExpire(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.CreateUser(ctx, storage.User{Name: "alice", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	sessions := session.NewManager(store, session.Config{IdleTimeout: 30 * time.Minute, TouchInterval: time.Minute}, clock)
	codec, _ := NewCodec(testKey())
	svc := NewService(codec, store, sessions, defaultCfg, clock)

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				cookie, sess, err := sessions.Create(ctx, "alice", "h")
				if err != nil {
					errs <- err
					return
				}
				iss, err := svc.IssueSessionToken(ctx, "alice", sess.ID, "h", 0)
				if err != nil {
					errs <- err
					return
				}
				p := Presented{Token: iss.Token, Session: cookie, ClientHost: "h"}
				if (w+i)%2 == 0 {
					if _, err := svc.Logout(ctx, p); err != nil && !errors.Is(err, ErrSessionGone) {
						errs <- fmt.Errorf("logout: %w", err)
						return
					}
					if _, err := svc.Verify(ctx, p); err == nil {
						errs <- errors.New("a token was accepted after its logout returned")
						return
					}
				} else if _, err := svc.Verify(ctx, p); err != nil && !errors.Is(err, ErrSessionGone) {
					errs <- fmt.Errorf("verify: %w", err)
					return
				}
			}
		}()
	}
	// Meanwhile time runs on: sessions idle out under the workers' feet.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 50 {
			mu.Lock()
			now = now.Add(time.Minute)
			mu.Unlock()
			time.Sleep(time.Millisecond)
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Everything issued so far is past the idle timeout now plus 31 minutes: nothing is accepted.
	mu.Lock()
	now = now.Add(31 * time.Minute)
	mu.Unlock()
	live, err := store.ListSessions(ctx, storage.SessionFilter{SeenSince: clock().Add(-30 * time.Minute)})
	if err != nil || len(live) != 0 {
		t.Fatalf("sessions still live after the idle timeout: %d, %v", len(live), err)
	}
}

func TestTokenIDsAreTimeOrderedAndRandom(t *testing.T) {
	at := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	a, b := newTokenID(at), newTokenID(at)
	later := newTokenID(at.Add(time.Millisecond))
	if len(a) != 32 || a == b {
		t.Fatalf("ids %q and %q: want 32 hex characters, different", a, b)
	}
	if a[:12] != b[:12] || a[:12] != "01a2076b4400" { // 2026-11-23T08:00:00Z in milliseconds, big-endian hex
		t.Fatalf("time prefix of %q: want 01a2076b4400", a)
	}
	if !(later > a && later > b) {
		t.Fatalf("an id minted later (%q) sorts before earlier ones (%q, %q)", later, a, b)
	}
}
