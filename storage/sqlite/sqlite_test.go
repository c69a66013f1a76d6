package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

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
