package postgres_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/conformance"
	"github.com/tokenmanager/tokenmanager/storage/postgres"
	"github.com/tokenmanager/tokenmanager/storage/postgres/pgtest"
)

func open(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConformance runs the backend suite, each subtest on an empty schema of its own.
func TestConformance(t *testing.T) {
	pgtest.DSN(t)
	conformance.Run(t, func(t *testing.T) storage.Store { return open(t, pgtest.Schema(t)) })
}

// Nodes starting at once on a new database take turns migrating: every one opens, each migration is applied once.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	dsn := pgtest.Schema(t)
	ctx := context.Background()
	const nodes = 4
	stores := make([]*postgres.Store, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(ctx, dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range stores {
		if v, err := s.SchemaVersion(ctx); err != nil || v != len(files) {
			t.Fatalf("node %d: schema version %d, %v; want %d", i, v, err, len(files))
		}
	}
	// And they share the data.
	if err := stores[0].CreateUser(ctx, storage.User{Name: "alice", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[nodes-1].GetUser(ctx, "alice"); err != nil {
		t.Fatalf("a user created on one node, read on another: %v", err)
	}
}

// Every SQLite migration has its PostgreSQL twin of the same name, and no twin is without its original.
func TestMigrationsPairWithSQLite(t *testing.T) {
	names := func(dir string) []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	pg, lite := names("migrations"), names("../sqlite/migrations")
	if !slices.Equal(pg, lite) {
		t.Fatalf("storage/postgres/migrations %v\nstorage/sqlite/migrations   %v\nwrite the missing twin(s)", pg, lite)
	}
}

func TestOpenRefusesABadDSN(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://user:s3cret@127.0.0.1:notaport/db")
	if err == nil {
		t.Fatal("opened a DSN with a bad port")
	}
	if got := err.Error(); strings.Contains(got, "s3cret") {
		t.Fatalf("the error shows the password: %s", got)
	}
}
