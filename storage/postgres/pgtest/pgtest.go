// Package pgtest gives tests a PostgreSQL database of their own: an empty schema in the server named by
// TOKENMANAGER_TEST_PG_DSN, dropped when the test ends.
//
// Without that variable a test skips, saying how to run it, except under CI=true, where it fails: CI always
// provides a server (.ci/run starts Debian's PostgreSQL).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvDSN is the variable naming the test server.
const EnvDSN = "TOKENMANAGER_TEST_PG_DSN"

// How names the variable and its form, for skip messages.
const How = EnvDSN + "=postgres://USER:PASSWORD@127.0.0.1:5432/DATABASE (a role that may create schemas in DATABASE; " +
	"locally: pg_ctlcluster 15 main start, then create the role and database as .ci/run does)"

// DSN returns the server's DSN, or skips (fails under CI=true) when there is none.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true: PostgreSQL tests need " + How)
		}
		t.Skip("PostgreSQL tests skipped; to run them set " + How)
	}
	return dsn
}

// Schema creates an empty schema and returns a DSN that selects it (search_path), for a store of the test's
// own. The schema and everything in it is dropped when the test ends.
func Schema(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dsn, drop, err := NewSchema(ctx, DSN(t), "tmtest_")
	if err != nil {
		t.Fatalf("%s: %v", EnvDSN, err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	return dsn
}

// NewSchema creates an empty schema named prefix and a random suffix in the database dsn names, and returns a
// DSN selecting it and a function that drops it with everything in it. For tests and benchmarks.
func NewSchema(ctx context.Context, dsn, prefix string) (string, func() error, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, errors.New("want a postgres:// URL")
	}
	b := make([]byte, 8)
	rand.Read(b)
	name := pgx.Identifier{prefix + hex.EncodeToString(b)}
	if err := exec(ctx, dsn, `CREATE SCHEMA `+name.Sanitize()); err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", name[0])
	u.RawQuery = q.Encode()
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return exec(ctx, dsn, `DROP SCHEMA `+name.Sanitize()+` CASCADE`)
	}
	return u.String(), drop, nil
}

func exec(ctx context.Context, dsn, sql string) error {
	cfg, err := pgxpool.ParseConfig(dsn) // the pool's parameters (pool_max_conns, …) are not the server's
	if err != nil {
		return errors.New("not a valid connection URL")
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}
