package main

import (
	"context"
	"errors"
	"flag"
)

var migrateCommand = &command{
	name: "migrate", setup: migrate,
	short: "bring the database's schema up to date (serve does it at start too)",
	long: `Brings the database's schema up to date and says which version it is at. 'tokenmanager serve' does the same
at start, so running this is optional; it lets an upgrade migrate once, before the new version's nodes start.
On PostgreSQL, nodes (and this command) take turns under an advisory lock, so starting several at once is safe.

examples:
  tokenmanager migrate --data-dir /var/lib/tokenmanager
  TOKENMANAGER_DB='postgres://tokenmanager:…@db.internal:5432/tokenmanager?sslmode=verify-full' tokenmanager migrate`,
}

// schemaVersioned is a store that says which migration it is at (both backends are).
type schemaVersioned interface {
	SchemaVersion(ctx context.Context) (int, error)
}

func migrate(fs *flag.FlagSet) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error { // opening migrates
		v, ok := db.Store.(schemaVersioned)
		if !ok {
			return errors.New("migrate: this database cannot tell its schema version")
		}
		n, err := v.SchemaVersion(ctx)
		if err != nil {
			return err
		}
		where := maskDSN(db.flags.db)
		if path, err := db.flags.sqlitePath(); err == nil {
			where = path
		}
		printf(inv.stdout, "%s: schema at version %d\n", where, n)
		return nil
	})
}
