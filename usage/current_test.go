package usage_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/usage"
)

func read(t *testing.T, r usage.Reader, f storage.UsageFilter) string {
	t.Helper()
	counts, err := r.ListUsageCounts(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	out := ""
	for _, c := range counts {
		out += fmt.Sprintf("%s %s %s %d; ", c.Hour.Format("02 15h"), c.Kind, c.Scope, c.Count)
	}
	return out
}

// TestCurrentAddsUnflushed: the overview's reads include this node's counts before they are flushed, summed
// with what the database holds (another node's flushed counts too) by the filter's buckets, kinds and scopes;
// after the flush each count is there once.
func TestCurrentAddsUnflushed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tm.db")
	clk := &clock{now: start} // 08:59
	s := openStore(t, path)
	a := usage.New(s, usage.Options{Now: clk.Now})
	other := usage.New(openStore(t, path), usage.Options{Now: clk.Now})
	cur := a.Current(s)
	ctx := context.Background()

	other.Activated(7)
	other.Issued("open")
	if err := other.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Add(2 * time.Minute) // 09:01: a's flush as the hour begins (Run's) starts its 09:00 bucket
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	a.Activated(7)
	a.Activated(7)
	a.Activated(8)
	a.Issued("open")

	daily := storage.UsageFilter{Kinds: []string{usage.KindActivation}, Bucket: 24 * time.Hour}
	if got, want := read(t, cur, daily), "23 00h license.activation 7 3; 23 00h license.activation 8 1; "; got != want {
		t.Fatalf("daily before the flush:\n got %s\nwant %s", got, want)
	}
	if got := read(t, s, daily); got != "23 00h license.activation 7 1; " {
		t.Fatalf("the store alone holds only the other node's: %s", got)
	}
	hourly := storage.UsageFilter{Kinds: []string{usage.KindActivation, "token.open"}, Scopes: []string{"7", ""}}
	want := "23 08h license.activation 7 1; 23 08h token.open  1; 23 09h license.activation 7 2; 23 09h token.open  1; "
	if got := read(t, cur, hourly); got != want {
		t.Fatalf("hourly, scopes 7 and none:\n got %s\nwant %s", got, want)
	}
	since := storage.UsageFilter{Kinds: []string{usage.KindActivation}, Since: start.Add(time.Minute)}
	if got := read(t, cur, since); got != "23 09h license.activation 7 2; 23 09h license.activation 8 1; " {
		t.Fatalf("since 09:00: %s", got)
	}
	if got := read(t, cur, storage.UsageFilter{Kinds: []string{usage.KindActivation}, Limit: 1}); got != "23 09h license.activation 7 2; " {
		t.Fatalf("the newest under a limit of 1: %s", got)
	}

	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := read(t, cur, hourly); got != want {
		t.Fatalf("after the flush, each count once:\n got %s\nwant %s", got, want)
	}
	if got := read(t, s, hourly); got != want {
		t.Fatalf("the store after the flush:\n got %s\nwant %s", got, want)
	}
}

// TestCurrentRacingFlush: reads while tokens are counted and flushed never see a count twice, and never one
// counted before the read began less: every read is between the counts before it and after it.
func TestCurrentRacingFlush(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "tm.db"))
	c := usage.New(s, usage.Options{})
	cur := c.Current(s)
	ctx := context.Background()
	const n = 300
	var issued sync.WaitGroup
	var mu sync.Mutex
	count := 0
	issued.Add(1)
	go func() {
		defer issued.Done()
		for i := range n {
			c.Issued("session")
			mu.Lock()
			count++
			mu.Unlock()
			if i%20 == 0 {
				if err := c.Flush(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	f := storage.UsageFilter{Kinds: []string{"token.session"}, Bucket: 24 * time.Hour}
	total := func() int {
		counts, err := cur.ListUsageCounts(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		sum := 0
		for _, x := range counts {
			sum += int(x.Count)
		}
		return sum
	}
	for range 50 {
		mu.Lock()
		before := count
		mu.Unlock()
		got := total()
		mu.Lock()
		after := count
		mu.Unlock()
		if got < before || got > after {
			t.Fatalf("read %d, counted between %d and %d", got, before, after)
		}
	}
	issued.Wait()
	if got := total(); got != n {
		t.Fatalf("in the end: %d, want %d", got, n)
	}
}
