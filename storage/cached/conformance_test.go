package cached_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/cached"
	"github.com/tokenmanager/tokenmanager/storage/conformance"
	"github.com/tokenmanager/tokenmanager/storage/postgres"
	"github.com/tokenmanager/tokenmanager/storage/postgres/pgtest"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

// The cache is a storage.Store: in front of either backend it must show the backend's behaviour, reading back
// every write made through it at once.

func TestConformanceOverSQLite(t *testing.T) {
	conformance.Run(t, func(t *testing.T) storage.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tokens.db"))
		if err != nil {
			t.Fatal(err)
		}
		return newCache(t, s)
	})
}

func TestConformanceOverPostgres(t *testing.T) {
	pgtest.DSN(t)
	conformance.Run(t, func(t *testing.T) storage.Store {
		s, err := postgres.Open(context.Background(), pgtest.Schema(t))
		if err != nil {
			t.Fatal(err)
		}
		return newCache(t, s)
	})
}

// newCache puts a cache with a TTL far longer than any test in front of s, so that a stale read cannot hide
// behind an expiry, and syncs it once as serving does.
func newCache(t *testing.T, s storage.Store) storage.Store {
	c := cached.New(s, cached.Options{TTL: time.Hour})
	if err := c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}
