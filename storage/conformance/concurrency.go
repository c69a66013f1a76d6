package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Concurrency cases: what several nodes sharing one database do to the same rows at once. Each starts its
// goroutines together and checks the end state, which must not depend on the order the backend let them in.

// warm has n goroutines ping the store at once, so that a backend with a connection pool has its connections
// open before a race: otherwise their slow opening staggers the racers and the race is not run.
func warm(s storage.Store, n int) {
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { s.Ping(context.Background()) })
	}
	wg.Wait()
}

// race warms s up, then runs fn(i) for i in [0, n) at once and returns their errors.
func race(s storage.Store, n int, fn func(i int) error) []error {
	warm(s, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func noErrors(t *testing.T, what string, errs []error) {
	t.Helper()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s #%d: %v", what, i, err)
		}
	}
}

// Touches racing with one another never move last-seen backwards, and the latest one wins: a touch writes only
// over a value at least the interval older than its own, and the touches here are one interval apart.
func testTouchRace(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	if err := s.CreateSession(ctx, storage.Session{ID: "s1", User: "alice", CreatedAt: base, LastSeenAt: base}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, storage.Token{ID: "t1", User: "alice", Kind: storage.KindSession, SessionID: "s1",
		CreatedAt: base, LastUsedAt: base}); err != nil {
		t.Fatal(err)
	}
	const n = 16
	latest := base.Add(n * time.Minute)
	for round := range 3 {
		from := base.Add(time.Duration(round) * n * time.Minute)
		latest = from.Add(n * time.Minute)
		noErrors(t, "touch", race(s, 2*n, func(i int) error {
			when := from.Add(time.Duration(i/2+1) * time.Minute)
			if i%2 == 0 {
				return s.TouchSession(ctx, "s1", when, time.Minute)
			}
			return s.TouchToken(ctx, "t1", when, time.Minute)
		}))
		if ss, _ := s.GetSession(ctx, "s1"); !ss.LastSeenAt.Equal(latest) {
			t.Fatalf("round %d: session last seen %v after racing touches; want the latest, %v", round, ss.LastSeenAt, latest)
		}
		if tok, _ := s.GetToken(ctx, "t1"); !tok.LastUsedAt.Equal(latest) {
			t.Fatalf("round %d: token last used %v after racing touches; want the latest, %v", round, tok.LastUsedAt, latest)
		}
	}
	// Touches racing with the session's end: it ends, its token is revoked, and once ended nothing touches it.
	end := latest.Add(time.Hour)
	errs := race(s, n+1, func(i int) error {
		if i == n {
			return s.EndSession(ctx, "s1", end)
		}
		return s.TouchSession(ctx, "s1", end.Add(time.Duration(i)*time.Minute), time.Minute)
	})
	noErrors(t, "touch or end", errs)
	ss, _ := s.GetSession(ctx, "s1")
	if !ss.EndedAt.Equal(end) {
		t.Fatalf("ended at %v, want %v", ss.EndedAt, end)
	}
	if tok, _ := s.GetToken(ctx, "t1"); !tok.RevokedAt.Equal(end) {
		t.Fatalf("token revoked at %v, want %v", tok.RevokedAt, end)
	}
	if err := s.TouchSession(ctx, "s1", end.Add(24*time.Hour), time.Minute); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.GetSession(ctx, "s1"); !again.LastSeenAt.Equal(ss.LastSeenAt) {
		t.Fatalf("an ended session was touched: %v, then %v", ss.LastSeenAt, again.LastSeenAt)
	}
}

// Ending sessions one by one, ending all of a user's and revoking all of a user's tokens, all at once (an
// operator on one node, logouts on others): none fails, and everything ends up ended and revoked.
func testSessionEndRace(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	const sessions = 8
	for i := range sessions {
		id := fmt.Sprint("s", i)
		if err := s.CreateSession(ctx, storage.Session{ID: id, User: "alice", CreatedAt: base, LastSeenAt: base}); err != nil {
			t.Fatal(err)
		}
		for j := range 3 {
			tok := storage.Token{ID: fmt.Sprintf("t%d-%d", i, j), User: "alice", Kind: storage.KindSession, SessionID: id,
				CreatedAt: base, LastUsedAt: base}
			if err := s.CreateToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
	}
	end := base.Add(time.Minute)
	noErrors(t, "end", race(s, sessions+4, func(i int) error {
		switch {
		case i < sessions:
			return s.EndSession(ctx, fmt.Sprint("s", sessions-1-i), end)
		case i%2 == 0:
			_, err := s.EndUserSessions(ctx, "alice", end)
			return err
		default:
			_, err := s.RevokeUserTokens(ctx, "alice", end)
			return err
		}
	}))
	if live, _ := s.ListSessions(ctx, storage.SessionFilter{User: "alice", SeenSince: base}); len(live) != 0 {
		t.Fatalf("sessions still live: %v", live)
	}
	if live, _ := s.ListTokens(ctx, storage.TokenFilter{User: "alice", LiveAt: end}); len(live) != 0 {
		t.Fatalf("tokens still live: %v", live)
	}
}

// Read-modify-write updates racing on one row lose none of one another's changes.
func testUpdateRace(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	mustAPIClient(t, s, "c1")
	const n = 12
	noErrors(t, "update", race(s, 2*n, func(i int) error {
		if i%2 == 0 {
			return s.UpdateUser(ctx, "alice", func(u *storage.User) error {
				u.PasswordHash += "x"
				return nil
			})
		}
		return s.UpdateAPIClient(ctx, "c1", func(c *storage.APIClient) error {
			c.Description += "x"
			return nil
		})
	}))
	want := strings.Repeat("x", n)
	if u, _ := s.GetUser(ctx, "alice"); !strings.HasSuffix(u.PasswordHash, want) || strings.HasSuffix(u.PasswordHash, want+"x") {
		t.Fatalf("password hash %q after %d racing appends", u.PasswordHash, n)
	}
	if c, _ := s.GetAPIClient(ctx, "c1"); !strings.HasSuffix(c.Description, want) || strings.HasSuffix(c.Description, want+"x") {
		t.Fatalf("description %q after %d racing appends", c.Description, n)
	}
}

// Keys created at once for one product get the numbers 1 … n, each once, and none is refused.
func testLicenseKeyNumberingRace(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	p := mustProduct(t, s, "acme", "One")
	const n = 12
	ids := make([]int64, n)
	noErrors(t, "create key", race(s, n, func(i int) error {
		k, err := s.CreateLicenseKey(ctx, storage.LicenseKey{ProductID: p.ID, Key: fmt.Sprint("KEY-", i), CreatedAt: base})
		ids[i] = k.ID
		return err
	}))
	seen := map[int64]bool{}
	for _, id := range ids {
		if id < 1 || id > n || seen[id] {
			t.Fatalf("key ids %v: want each of 1 … %d once", ids, n)
		}
		seen[id] = true
	}
}

// Nodes rotating the token key at once: every rotation succeeds, and the ring ends with exactly one primary.
func testTokenKeyRotationRace(t *testing.T, s storage.Store) {
	ctx := context.Background()
	const n = 6
	noErrors(t, "rotate", race(s, n, func(i int) error {
		return s.AddTokenKey(ctx, storage.TokenKey{ID: fmt.Sprint("k", i), Sealed: []byte{byte(i)}, CreatedAt: base.Add(time.Duration(i) * time.Second)})
	}))
	keys, err := s.ListTokenKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	primaries := 0
	for _, k := range keys {
		if k.State == storage.KeyPrimary {
			primaries++
		}
	}
	if len(keys) != n+1 || primaries != 1 || keys[0].ID != storage.OriginalTokenKey || keys[0].State != storage.KeyVerify {
		t.Fatalf("ring after %d racing rotations: %s", n, ids(keys, func(k storage.TokenKey) string { return k.ID + "=" + string(k.State) }))
	}
}

// Times come back as the same instant to the microsecond (finer digits are dropped, not rounded), in UTC,
// whatever zone they were written in.
func testTimePrecision(t *testing.T, s storage.Store) {
	ctx := context.Background()
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	written := base.Add(123456789 * time.Nanosecond).In(zone) // .123456789 s
	mustUser(t, s, "alice")
	if err := s.CreateToken(ctx, storage.Token{ID: "t1", User: "alice", Kind: storage.KindOpen, CreatedAt: written,
		LastUsedAt: written, ExpiresAt: written.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetToken(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	want := base.Add(123456 * time.Microsecond)
	if got.CreatedAt != want || got.ExpiresAt != want.Add(time.Hour) || !got.RevokedAt.IsZero() {
		t.Fatalf("created %v, expires %v, revoked %v; want %v, %v and the zero time",
			got.CreatedAt, got.ExpiresAt, got.RevokedAt, want, want.Add(time.Hour))
	}
	// Comparisons use the stored precision too: a cutoff a nanosecond past the expiry collects nothing.
	if n, err := s.DeleteTokens(ctx, want.Add(time.Hour+time.Nanosecond), 10); err != nil || n != 0 {
		t.Fatalf("DeleteTokens(a nanosecond after expiry) = %d, %v; want 0", n, err)
	}
	if n, err := s.DeleteTokens(ctx, want.Add(time.Hour+time.Microsecond), 10); err != nil || n != 1 {
		t.Fatalf("DeleteTokens(a microsecond after expiry) = %d, %v; want 1", n, err)
	}
}

// Lookups by a key that holds a NUL byte or is not UTF-8 (a name from the wire, say) find nothing and fail
// no other way, whatever the database can store.
func testOddKeysNotFound(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	for _, k := range []string{"alice\x00", "\xff\xfe", "al\x00ice"} {
		for what, err := range map[string]error{
			"GetUser":    second(s.GetUser(ctx, k)),
			"GetToken":   second(s.GetToken(ctx, k)),
			"GetSession": second(s.GetSession(ctx, k)),
			"GetClient":  second(s.GetAPIClient(ctx, k)),
			"GetAccess":  second(s.GetAccessToken(ctx, k)),
			"GetPAAct":   second(s.GetPowerAuthActivation(ctx, k)),
			"GetPAToken": second(s.GetPowerAuthToken(ctx, k)),
			"GetVendor":  second(s.GetVendor(ctx, k)),
			"Revoke":     s.RevokeToken(ctx, k, base),
			"EndSession": s.EndSession(ctx, k, base),
		} {
			if !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("%s(%q) = %v, want ErrNotFound", what, k, err)
			}
		}
		if l, err := s.ListTokens(ctx, storage.TokenFilter{User: k}); err != nil || len(l) != 0 {
			t.Errorf("ListTokens(user %q) = %v, %v", k, l, err)
		}
		if l, err := s.ListAudit(ctx, storage.AuditFilter{Subject: k}); err != nil || len(l) != 0 {
			t.Errorf("ListAudit(subject %q) = %v, %v", k, l, err)
		}
	}
	// The audit log records what a request said, even when it is not text.
	if err := s.AppendAudit(ctx, []storage.AuditEvent{{At: base, Action: "login.fail", Outcome: "bad_credentials", Subject: "\xffbob\x00"}}); err != nil {
		t.Fatalf("AppendAudit(subject not UTF-8) = %v", err)
	}
	if l, err := s.ListAudit(ctx, storage.AuditFilter{Action: "login.fail"}); err != nil || len(l) != 1 || !strings.Contains(l[0].Subject, "bob") {
		t.Fatalf("ListAudit = %+v, %v", l, err)
	}
}

func second[T any](_ T, err error) error { return err }
