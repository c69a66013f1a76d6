package usage_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
	"github.com/tokenmanager/tokenmanager/usage"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

var start = time.Date(2026, 11, 23, 8, 59, 0, 0, time.UTC)

func openStore(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func history(t *testing.T, s storage.UsageHistory) string {
	t.Helper()
	kinds := []string{usage.KindActivation}
	for _, k := range usage.TokenKinds {
		kinds = append(kinds, usage.TokenKindPrefix+k)
	}
	counts, err := s.ListUsageCounts(context.Background(), storage.UsageFilter{Kinds: kinds})
	if err != nil {
		t.Fatal(err)
	}
	out := ""
	for _, c := range counts {
		out += fmt.Sprintf("%s %s %s %d; ", c.Hour.Format("15h"), c.Kind, c.Scope, c.Count)
	}
	return out
}

// TestFlushAddsUp: two nodes over one database each count and flush; the history is their sum, each hour's
// counts in that hour, and a second flush adds only what was counted since.
func TestFlushAddsUp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tm.db")
	clk := &clock{now: start}
	a := usage.New(openStore(t, path), usage.Options{Now: clk.Now})
	b := usage.New(openStore(t, path), usage.Options{Now: clk.Now})
	ctx := context.Background()
	for _, c := range []*usage.Counter{a, b} {
		c.Issued("session")
		c.Issued("oauth")
		c.Issued("something new")
		c.Activated(7)
	}
	a.Issued("session")
	// 09:00: Run flushes as an hour ends, so that the counts above are 08:00's and those after 09:00's.
	clk.Add(time.Minute)
	for _, c := range []*usage.Counter{a, b} {
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	a.Issued("open")
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	a.Issued("open")
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Flush(ctx); err != nil { // nothing new: nothing added
		t.Fatal(err)
	}
	var nilCounter *usage.Counter
	nilCounter.Issued("open") // counts nothing, does not fail
	nilCounter.Activated(1)
	want := "08h license.activation 7 2; 08h token.oauth  2; 08h token.other  2; 08h token.session  3; 09h token.open  2; "
	if got := history(t, openStore(t, path)); got != want {
		t.Fatalf("history:\n got %s\nwant %s", got, want)
	}
}

// failOnce is the store failing its first write, as a database that is briefly down does.
type failOnce struct {
	usage.Store
	failed bool
}

func (f *failOnce) AddUsageCounts(ctx context.Context, c []storage.UsageCount) error {
	if !f.failed {
		f.failed = true
		return storage.ErrUnavailable
	}
	return f.Store.AddUsageCounts(ctx, c)
}

// TestFlushKeepsCountsOnFailure: counts the database refused are written by the next flush.
func TestFlushKeepsCountsOnFailure(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "tm.db"))
	clk := &clock{now: start}
	c := usage.New(&failOnce{Store: s}, usage.Options{Now: clk.Now})
	c.Issued("expiring")
	if err := c.Flush(context.Background()); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("first flush: %v", err)
	}
	c.Issued("expiring")
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := history(t, s); got != "08h token.expiring  2; " {
		t.Fatalf("history: %s", got)
	}
}

// TestPrune: hours older than the retention go; a negative retention keeps everything.
func TestPrune(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "tm.db"))
	clk := &clock{now: start}
	c := usage.New(s, usage.Options{Now: clk.Now, Retention: 2 * time.Hour})
	forever := usage.New(s, usage.Options{Now: clk.Now, Retention: -1})
	ctx := context.Background()
	for range 3 {
		if err := c.Flush(ctx); err != nil { // the flush as the hour begins
			t.Fatal(err)
		}
		c.Issued("open")
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Hour)
	}
	// Now 11:59; the counts are of 08h, 09h, 10h.
	if n, err := forever.Prune(ctx); err != nil || n != 0 {
		t.Fatalf("Prune with no retention = %d, %v", n, err)
	}
	if n, err := c.Prune(ctx); err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want the hours begun before 09:59", n, err)
	}
	if got := history(t, s); got != "10h token.open  1; " {
		t.Fatalf("history: %s", got)
	}
}

// TestRunFlushesAtShutdown: what was counted reaches the database when Run's context ends.
func TestRunFlushesAtShutdown(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "tm.db"))
	c := usage.New(s, usage.Options{Interval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	c.Issued("powerauth")
	cancel()
	<-done
	counts, err := s.ListUsageCounts(context.Background(), storage.UsageFilter{Kinds: []string{"token.powerauth"}})
	if err != nil || len(counts) != 1 || counts[0].Count != 1 {
		t.Fatalf("after shutdown: %v, %v", counts, err)
	}
}

// BenchmarkIssued is the cost counting adds to issuing a token: one atomic increment (no lock, no query), alone
// and with every CPU issuing at once.
func BenchmarkIssued(b *testing.B) {
	c := usage.New(openStore(b, filepath.Join(b.TempDir(), "tm.db")), usage.Options{})
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			c.Issued("expiring")
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Issued("expiring")
			}
		})
	})
}
