package conformance

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// usageRows is a history as "hour kind scope count" lines, hours as offsets from base, for comparisons.
func usageRows(counts []storage.UsageCount) []string {
	out := make([]string, 0, len(counts))
	for _, c := range counts {
		out = append(out, fmt.Sprintf("%+dh %s %s %d", int(c.Hour.Sub(base)/time.Hour), c.Kind, c.Scope, c.Count))
	}
	return out
}

func wantUsage(t *testing.T, what string, s storage.Store, f storage.UsageFilter, want ...string) {
	t.Helper()
	got, err := s.ListUsageCounts(context.Background(), f)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if g := usageRows(got); fmt.Sprint(g) != fmt.Sprint(want) {
		t.Fatalf("%s:\n got %q\nwant %q", what, g, want)
	}
}

// testUsageCountsAdd: counts added by two writers at once (two nodes flushing) add up, never overwrite; hours are
// truncated; the history sums by hour or by day, narrows by kind, scope and time, and keeps the newest under its
// limit.
func testUsageCountsAdd(t *testing.T, s storage.Store) {
	ctx := context.Background()
	kinds := []string{"token.open", "license.activation"}
	const writers, rounds = 2, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds)
	for w := range writers {
		wg.Go(func() {
			for i := range rounds {
				errs <- s.AddUsageCounts(ctx, []storage.UsageCount{
					{Hour: base.Add(time.Duration(w*7+i) * time.Second), Kind: "token.open", Count: 1}, // truncated to base's hour
					{Hour: base.Add(time.Hour), Kind: "token.open", Count: 2},
					{Hour: base, Kind: "license.activation", Scope: "7", Count: 1},
					{Hour: base, Kind: "license.activation", Scope: "7", Count: 1}, // the same row twice in one batch
					{Hour: base.Add(-24 * time.Hour), Kind: "license.activation", Scope: "8", Count: 3},
					{Hour: base, Kind: "token.session", Count: 0}, // nothing to write
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	n := writers * rounds
	all := []string{
		fmt.Sprintf("-24h license.activation 8 %d", 3*n),
		fmt.Sprintf("+0h license.activation 7 %d", 2*n),
		fmt.Sprintf("+0h token.open  %d", n),
		fmt.Sprintf("+1h token.open  %d", 2*n),
	}
	wantUsage(t, "by hour", s, storage.UsageFilter{Kinds: kinds}, all...)
	wantUsage(t, "only token.session", s, storage.UsageFilter{Kinds: []string{"token.session"}})
	wantUsage(t, "scope 7", s, storage.UsageFilter{Kinds: kinds, Scopes: []string{"7"}}, all[1])
	wantUsage(t, "no scope at all", s, storage.UsageFilter{Kinds: kinds, Scopes: []string{}})
	wantUsage(t, "since, until", s, storage.UsageFilter{Kinds: kinds, Since: base, Until: base.Add(time.Hour)}, all[1], all[2])
	wantUsage(t, "the newest under the limit", s, storage.UsageFilter{Kinds: kinds, Limit: 2}, all[1], all[3])
	// base is 10:00 UTC: by day, its hours fall in the day that began ten hours before.
	wantUsage(t, "by day", s, storage.UsageFilter{Kinds: kinds, Bucket: 24 * time.Hour},
		fmt.Sprintf("-34h license.activation 8 %d", 3*n),
		fmt.Sprintf("-10h license.activation 7 %d", 2*n),
		fmt.Sprintf("-10h token.open  %d", 3*n))
	if _, err := s.ListUsageCounts(ctx, storage.UsageFilter{Kinds: kinds, Bucket: time.Minute}); err == nil {
		t.Fatal("a bucket of a minute was accepted")
	}
	if err := s.AddUsageCounts(ctx, []storage.UsageCount{{Hour: base, Kind: "token.open", Count: -1}}); err == nil {
		t.Fatal("a negative count was accepted")
	}
	if err := s.AddUsageCounts(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

// testUsageCountsPrune: pruning deletes the hours before the cutoff, in batches of at most limit.
func testUsageCountsPrune(t *testing.T, s storage.Store) {
	ctx := context.Background()
	var counts []storage.UsageCount
	for h := range 5 {
		counts = append(counts, storage.UsageCount{Hour: base.Add(time.Duration(-h) * time.Hour), Kind: "token.open", Count: int64(h + 1)})
	}
	if err := s.AddUsageCounts(ctx, counts); err != nil {
		t.Fatal(err)
	}
	cutoff := base.Add(-time.Hour) // keeps -1h and +0h
	if n, err := s.PruneUsageCounts(ctx, cutoff, 2); err != nil || n != 2 {
		t.Fatalf("PruneUsageCounts(limit 2) = %d, %v; want 2", n, err)
	}
	if n, err := s.PruneUsageCounts(ctx, cutoff, 2); err != nil || n != 1 {
		t.Fatalf("PruneUsageCounts again = %d, %v; want the last 1", n, err)
	}
	if n, err := s.PruneUsageCounts(ctx, cutoff, 2); err != nil || n != 0 {
		t.Fatalf("PruneUsageCounts when done = %d, %v", n, err)
	}
	wantUsage(t, "after pruning", s, storage.UsageFilter{Kinds: []string{"token.open"}}, "-1h token.open  2", "+0h token.open  1")
}

// testSignInHistory: the failed and throttled sign-ins per hour come from the audit log, a throttled row
// standing for the refusals it counts.
func testSignInHistory(t *testing.T, s storage.Store) {
	ctx := context.Background()
	ev := func(at time.Duration, outcome, detail string) storage.AuditEvent {
		return storage.AuditEvent{At: base.Add(at), Action: "login.fail", Outcome: outcome, Subject: "alice", ClientHost: "192.0.2.1", Detail: detail}
	}
	events := []storage.AuditEvent{
		ev(-3*time.Hour, "bad_credentials", ""), // before since
		ev(5*time.Minute, "bad_credentials", ""),
		ev(6*time.Minute, "bad_credentials", ""),
		ev(7*time.Minute, "throttled", "refusals=1"),
		ev(8*time.Minute, "throttled", "refusals=41"),
		ev(time.Hour+time.Minute, "throttled", "refusals=x"), // counts one
		ev(time.Hour+2*time.Minute, "bad_secret", ""),
		{At: base, Action: "token.issue", Outcome: "ok", Detail: "kind=open"}, // not a sign-in
	}
	if err := s.AppendAudit(ctx, events); err != nil {
		t.Fatal(err)
	}
	got, err := s.SignInHistory(ctx, base.Add(-time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []storage.SignInCount{{Hour: base, Failed: 2, Throttled: 42}, {Hour: base.Add(time.Hour), Failed: 1, Throttled: 1}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("SignInHistory:\n got %v\nwant %v", got, want)
	}
	if got, err := s.SignInHistory(ctx, base.Add(-24*time.Hour), 1); err != nil || len(got) != 1 || !got[0].Hour.Equal(base.Add(time.Hour)) {
		t.Fatalf("SignInHistory(limit 1) = %v, %v; want the newest hour", got, err)
	}
}

// testCountLiveGrants: stored OAuth access tokens neither revoked nor expired, and PowerAuth tokens.
func testCountLiveGrants(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if o, p, err := s.CountLiveGrants(ctx, base); err != nil || o != 0 || p != 0 {
		t.Fatalf("CountLiveGrants of an empty store = %d, %d, %v", o, p, err)
	}
	mustAPIClient(t, s, "c1")
	for id, exp := range map[string]time.Time{"live": base.Add(time.Hour), "expired": base, "revoked": base.Add(time.Hour)} {
		if err := s.CreateAccessToken(ctx, storage.AccessToken{ID: id, ClientID: "c1", KeyHash: hash32(byte(len(id))), CreatedAt: base.Add(-time.Hour), ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeAccessToken(ctx, "revoked", base); err != nil {
		t.Fatal(err)
	}
	mustUser(t, s, "alice")
	mustActivation(t, s, "a1", "alice", base)
	mustPowerAuthToken(t, s, "p1", "a1")
	mustPowerAuthToken(t, s, "p2", "a1")
	if o, p, err := s.CountLiveGrants(ctx, base); err != nil || o != 1 || p != 2 {
		t.Fatalf("CountLiveGrants = %d OAuth, %d PowerAuth, %v; want 1, 2", o, p, err)
	}
}
