package audit_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/audit"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRecordFlushAndClose(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	r := audit.New(store, audit.Options{Batch: 7, Interval: time.Hour, Now: func() time.Time { return now }})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				r.Record(storage.AuditEvent{Action: "token.issue", Outcome: "ok", Subject: string(rune('a' + g)), Detail: string(rune('0' + i%10))})
			}
		}()
	}
	wg.Wait()
	// Interval is an hour: only full batches of 7 are written until the flush.
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := store.ListAudit(ctx, storage.AuditFilter{Limit: 1000})
	if err != nil || len(got) != 100 {
		t.Fatalf("after Flush: %d events, %v; want 100", len(got), err)
	}
	if !got[0].At.Equal(now) {
		t.Fatalf("event time %v, want the recorder's clock %v", got[0].At, now)
	}
	r.Record(storage.AuditEvent{Action: "user.disable", Outcome: "ok"})
	r.Close()
	if got, _ := store.ListAudit(ctx, storage.AuditFilter{Action: "user.disable"}); len(got) != 1 {
		t.Fatalf("Close did not write the buffered event: %d", len(got))
	}
	if r.Dropped() != 0 {
		t.Fatalf("dropped %d", r.Dropped())
	}
}

func TestFullBufferDropsInsteadOfBlocking(t *testing.T) {
	store := openStore(t)
	store.Close() // every write fails, so nothing drains
	r := audit.New(store, audit.Options{Buffer: 10, Batch: 5, Interval: time.Hour})
	defer r.Close()
	done := make(chan struct{})
	go func() {
		for range 50 {
			r.Record(storage.AuditEvent{Action: "token.refuse"})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Record blocked on a full buffer")
	}
	// Every event is accounted for: dropped from the full buffer, or lost with a failed write.
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := r.Dropped(); d != 50 {
		t.Fatalf("dropped %d of 50 that could not be written", d)
	}
}

func TestIntervalWritesAPartialBatch(t *testing.T) {
	store := openStore(t)
	r := audit.New(store, audit.Options{Batch: 1000, Interval: 10 * time.Millisecond})
	defer r.Close()
	r.Record(storage.AuditEvent{Action: "login.fail"})
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if got, _ := store.ListAudit(context.Background(), storage.AuditFilter{}); len(got) == 1 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("a lone event was not written after the interval")
}
