package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

func openCheckpointStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "ckpt.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	now := time.Now()
	if err := s.CreateUser(context.Background(), storage.User{Name: "alice", PasswordHash: "x", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	return s
}

func walFrames(t *testing.T, s *Store) int {
	t.Helper()
	var busy, frames, copied int
	if err := s.w.QueryRow("PRAGMA wal_checkpoint(NOOP)").Scan(&busy, &frames, &copied); err != nil {
		t.Fatal(err)
	}
	return frames
}

func testToken(now time.Time, i int) storage.Token {
	return storage.Token{ID: limitTokenIDSeq(now, i), User: "alice", Kind: storage.KindOpen, CreatedAt: now,
		LastUsedAt: now, ExpiresAt: now.Add(time.Hour), KeyID: storage.OriginalTokenKey}
}

func limitTokenIDSeq(now time.Time, i int) string {
	return limitTokenID(now.Add(time.Duration(i) * time.Millisecond))
}

// TestWriterDoesNotCheckpoint: the writer connection's automatic checkpoints are off and the WAL size limit is
// set, on the connection the store really writes with.
func TestWriterDoesNotCheckpoint(t *testing.T) {
	s := openCheckpointStore(t)
	var auto, limit int
	if err := s.w.QueryRow("PRAGMA wal_autocheckpoint").Scan(&auto); err != nil {
		t.Fatal(err)
	}
	if err := s.w.QueryRow("PRAGMA journal_size_limit").Scan(&limit); err != nil {
		t.Fatal(err)
	}
	if auto != 0 || limit != walSizeLimit {
		t.Fatalf("writer: wal_autocheckpoint %d, journal_size_limit %d; want 0 and %d", auto, limit, walSizeLimit)
	}
}

// TestCheckpointStartsWALOver: past the backstop, a checkpoint round leaves every frame in the database, so
// the next write starts the WAL over from its beginning, and every token is still there.
func TestCheckpointStartsWALOver(t *testing.T) {
	s := openCheckpointStore(t)
	s.ckpt.halt() // rounds run only when the test says
	s.ckpt.backstop = 50
	ctx := context.Background()
	now := time.Now()
	const n = 100
	for i := range n { // one commit each: several frames each
		if err := s.CreateToken(ctx, testToken(now, i)); err != nil {
			t.Fatal(err)
		}
	}
	before := walFrames(t, s)
	if before < s.ckpt.backstop {
		t.Fatalf("%d frames after %d commits; the test needs more than %d", before, n, s.ckpt.backstop)
	}
	s.checkpointOnce(ctx)
	if got := s.ckpt.inTurn.Load(); got != 1 {
		t.Fatalf("%d checkpoints in the writer's turn, want 1", got)
	}
	if err := s.CreateToken(ctx, testToken(now, n)); err != nil {
		t.Fatal(err)
	}
	if after := walFrames(t, s); after >= before {
		t.Fatalf("the WAL has %d frames after the checkpoint and one more write (%d before): it did not start over", after, before)
	}
	var count int
	if err := s.r.QueryRow("SELECT count(*) FROM tokens").Scan(&count); err != nil {
		t.Fatal(err)
	}
	if count != n+1 {
		t.Fatalf("%d tokens, want %d", count, n+1)
	}
}

// TestWriterTurnHoldsGroupedWrites: no grouped write commits while a turn runs; the write queued meanwhile
// commits after it.
func TestWriterTurnHoldsGroupedWrites(t *testing.T) {
	s := openCheckpointStore(t)
	ctx := context.Background()
	now := time.Now()
	written := make(chan error, 1)
	s.inWriterTurn(ctx, func(ctx context.Context) {
		go func() { written <- s.CreateToken(ctx, testToken(now, 0)) }()
		for queued := false; !queued; { // wait until the write is queued behind this turn
			s.group.mu.Lock()
			queued = len(s.group.queue) == 1
			s.group.mu.Unlock()
		}
		var count int
		if err := s.r.QueryRow("SELECT count(*) FROM tokens").Scan(&count); err != nil {
			t.Error(err)
		}
		if count != 0 {
			t.Errorf("a write committed during the writer's turn")
		}
	})
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	var count int
	if err := s.r.QueryRow("SELECT count(*) FROM tokens").Scan(&count); err != nil {
		t.Fatal(err)
	}
	if count != 1 {
		t.Fatalf("%d tokens after the turn, want 1", count)
	}
}
