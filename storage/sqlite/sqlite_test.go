package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/conformance"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) storage.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tokens.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestReopenKeepsDataAndSkipsAppliedMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tokens.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, storage.User{Name: "alice", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if _, err := s.GetUser(ctx, "alice"); err != nil {
		t.Fatalf("user lost across reopen: %v", err)
	}
}

func TestBackupAndRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	live := filepath.Join(dir, "live.db")
	s, err := sqlite.Open(ctx, live)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateUser(ctx, storage.User{Name: "alice", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	if err := s.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(backup + ".partial"); !os.IsNotExist(err) {
		t.Fatalf("partial file left behind: %v", err)
	}
	// A change after the backup is not in it, and a restore takes it away.
	if err := s.CreateUser(ctx, storage.User{Name: "bob", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	if err := sqlite.Restore(ctx, backup, live); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUser(ctx, "alice"); err != nil {
		t.Fatalf("alice after restore: %v", err)
	}
	if _, err := s.GetUser(ctx, "bob"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("bob, created after the backup, after restore: %v", err)
	}
	// Garbage is refused and leaves the database alone.
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte("not a database"), 0o600)
	if err := sqlite.Restore(ctx, junk, live); err == nil {
		t.Fatal("restored from junk")
	}
	if _, err := s.GetUser(ctx, "alice"); err != nil {
		t.Fatalf("alice after a refused restore: %v", err)
	}
}

// Writes committed together (group commit) still succeed or fail one by one: a duplicate id fails alone, and
// every write that returned nil is in the database.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tokens.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	if err := s.CreateUser(ctx, storage.User{Name: "alice", PasswordHash: "h", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	const writers = 200
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint("t", i)
			if i%10 == 0 {
				id = "dup" // 20 writers race for one id: one wins
			}
			errs[i] = s.CreateToken(ctx, storage.Token{ID: id, User: "alice", Kind: storage.KindOpen, CreatedAt: now, LastUsedAt: now})
		}()
	}
	wg.Wait()
	conflicts := 0
	for i, err := range errs {
		switch {
		case errors.Is(err, storage.ErrConflict) && i%10 == 0:
			conflicts++
		case err != nil:
			t.Fatalf("writer %d: %v", i, err)
		case i%10 != 0:
			if _, err := s.GetToken(ctx, fmt.Sprint("t", i)); err != nil {
				t.Fatalf("writer %d was told its token is stored, but: %v", i, err)
			}
		}
	}
	if conflicts != writers/10-1 {
		t.Fatalf("%d duplicate writes failed, want %d", conflicts, writers/10-1)
	}
}
