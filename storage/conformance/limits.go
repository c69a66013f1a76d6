package conformance

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

func limitKey(b byte) (k [storage.LimitKeyLen]byte) {
	k[0] = b
	return k
}

func countsByKey(t *testing.T, s storage.Store, since time.Time) map[[storage.LimitKeyLen]byte]storage.LimitCount {
	t.Helper()
	cs, err := s.LimitCountsSince(context.Background(), since)
	if err != nil {
		t.Fatal(err)
	}
	m := map[[storage.LimitKeyLen]byte]storage.LimitCount{}
	for _, c := range cs {
		m[c.Key] = c
	}
	return m
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// testLimitCounters: a counter decays by its rate between adds, never below zero; a reset sets it; reads return
// what changed since a time; idle counters are collected, busy ones kept.
func testLimitCounters(t *testing.T, s storage.Store) {
	ctx := context.Background()
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := limitKey(1), limitKey(2)
	if err := s.AddLimitCounts(ctx, t0, []storage.LimitAdd{{Key: a, N: 3, Rate: 1}, {Key: b, N: 1, Rate: 0.5}}); err != nil {
		t.Fatal(err)
	}
	// Two seconds later a has decayed to 1 and takes 4 more: 5. b decays to 0, then is reset to 2.
	if err := s.AddLimitCounts(ctx, t0.Add(2*time.Second), []storage.LimitAdd{{Key: a, N: 4, Rate: 1}, {Key: b, N: 2, Rate: 0.5, Reset: true}}); err != nil {
		t.Fatal(err)
	}
	m := countsByKey(t, s, t0)
	if c := m[a]; !near(c.Level, 5) || !c.At.Equal(t0.Add(2*time.Second)) || !near(c.Rate, 1) {
		t.Fatalf("a = %+v; want level 5 at t0+2s", c)
	}
	if c := m[b]; !near(c.Level, 2) || !near(c.LevelAt(t0.Add(3*time.Second)), 1.5) {
		t.Fatalf("b = %+v; want level 2 after the reset", c)
	}
	// Far later, a decays to zero rather than below: an add of 1 leaves 1.
	if err := s.AddLimitCounts(ctx, t0.Add(time.Hour), []storage.LimitAdd{{Key: a, N: 1, Rate: 1}}); err != nil {
		t.Fatal(err)
	}
	m = countsByKey(t, s, t0.Add(time.Minute))
	if len(m) != 1 || !near(m[a].Level, 1) {
		t.Fatalf("changed since t0+1m: %+v; want only a, at level 1", m)
	}
	// A reset to zero from a node whose clock is behind keeps the later time.
	if err := s.AddLimitCounts(ctx, t0.Add(time.Hour-time.Second), []storage.LimitAdd{{Key: a, N: 0, Rate: 1, Reset: true}}); err != nil {
		t.Fatal(err)
	}
	if m := countsByKey(t, s, t0.Add(time.Minute)); !near(m[a].Level, 0) || !m[a].At.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after a reset: %+v", m[a])
	}
	// b went idle at t0+2s+4s; a at t0+1h at the latest.
	n, err := s.DeleteLimitCounts(ctx, t0.Add(time.Minute), 100)
	if err != nil || n != 1 {
		t.Fatalf("DeleteLimitCounts = %d, %v; want b only", n, err)
	}
	if m := countsByKey(t, s, time.Time{}); len(m) != 1 || m[b].Rate != 0 {
		t.Fatalf("left after collection: %+v", m)
	}

	// Nodes adding to the same counters at once, in any order: every add counts, nobody deadlocks.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			adds := []storage.LimitAdd{{Key: limitKey(10), N: 1, Rate: 1e-9}, {Key: limitKey(11), N: 1, Rate: 1e-9}}
			if i%2 == 1 {
				adds[0], adds[1] = adds[1], adds[0]
			}
			for range 5 {
				if err := s.AddLimitCounts(ctx, t0.Add(2*time.Hour), adds); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	m = countsByKey(t, s, t0.Add(2*time.Hour))
	if !near(m[limitKey(10)].Level, 40) || !near(m[limitKey(11)].Level, 40) {
		t.Fatalf("racing adds: %+v %+v; want 40 each", m[limitKey(10)], m[limitKey(11)])
	}
}

// testWSSENonces: a nonce is accepted once until it expires, also when raced; expired ones are collected.
func testWSSENonces(t *testing.T, s storage.Store) {
	ctx := context.Background()
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	n1 := []byte("nonce-digest-1")
	if err := s.UseWSSENonce(ctx, n1, t0.Add(time.Minute), t0); err != nil {
		t.Fatal(err)
	}
	if err := s.UseWSSENonce(ctx, n1, t0.Add(2*time.Minute), t0.Add(time.Second)); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("replay = %v; want ErrConflict", err)
	}
	// Once expired it may be used again (a new Created time makes it another request).
	if err := s.UseWSSENonce(ctx, n1, t0.Add(3*time.Minute), t0.Add(2*time.Minute)); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, conflicts := 0, 0
	for range 8 {
		wg.Go(func() {
			err := s.UseWSSENonce(ctx, []byte("raced"), t0.Add(time.Minute), t0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, storage.ErrConflict):
				conflicts++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok != 1 || conflicts != 7 {
		t.Fatalf("raced nonce: %d accepted, %d refused; want 1 and 7", ok, conflicts)
	}
	if n, err := s.DeleteWSSENonces(ctx, t0.Add(2*time.Minute), 100); err != nil || n != 1 {
		t.Fatalf("DeleteWSSENonces = %d, %v; want the raced one", n, err)
	}
	if err := s.UseWSSENonce(ctx, n1, t0.Add(4*time.Minute), t0.Add(150*time.Second)); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("a live nonce was collected: %v", err)
	}
}
