package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

const migrateUsage = `usage: tokenmanager migrate [--db DSN | --data-dir DIR]

Brings the database's schema up to date and says which version it is at. 'tokenmanager serve' does the same
at start, so running this is optional; it lets an upgrade migrate once, before the new version's nodes start.
On PostgreSQL, nodes (and this command) take turns under an advisory lock, so starting several at once is safe.

examples:
  tokenmanager migrate --data-dir /var/lib/tokenmanager
  TOKENMANAGER_DB='postgres://tokenmanager:…@db.internal:5432/tokenmanager?sslmode=verify-full' tokenmanager migrate`

// schemaVersioned is a store that says which migration it is at (both backends are).
type schemaVersioned interface {
	SchemaVersion(ctx context.Context) (int, error)
}

func migrateCommand(args []string, stdout, stderr io.Writer) error {
	var sf storeFlags
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, migrateUsage); fs.PrintDefaults() }
	sf.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		fs.Usage()
		return fmt.Errorf("migrate: unexpected argument %q", pos[0])
	}
	ctx := context.Background()
	store, err := sf.open(ctx) // opening migrates
	if err != nil {
		return err
	}
	defer store.Close()
	v, ok := store.(schemaVersioned)
	if !ok {
		return errors.New("migrate: this database cannot tell its schema version")
	}
	n, err := v.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	where := maskDSN(sf.db)
	if path, err := sf.sqlitePath(); err == nil {
		where = path
	}
	printf(stdout, "%s: schema at version %d\n", where, n)
	return nil
}
