package sqlite_test

import (
	"context"
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
