package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/tokenmanager/tokenmanager/storage/postgres"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

// backupHelp is the help of backup and restore.
const backupHelp = `The backup is SQLite's online backup: one snapshot, taken without stopping the service; every token
acknowledged before it began is in it. It does not contain the server key (data/server.key or
TOKENMANAGER_KEY), without which no token in it can be read: back the key up separately, and keep the two
apart. Restore checks the backup's integrity and brings an older backup's schema up to date; stop the
service first, so that no token is issued into the database being replaced.

Both are for SQLite. A PostgreSQL database (--db postgres://…) is backed up with PostgreSQL's own tools:
pg_dump --format=custom while the service runs (one consistent snapshot), pg_restore into an empty database,
then 'tokenmanager migrate' to bring an older dump's schema up to date.

examples:
  tokenmanager backup /var/backups/tokenmanager-nightly.db --data-dir /var/lib/tokenmanager
  tokenmanager restore /var/backups/tokenmanager-2026-11-23.db --data-dir /var/lib/tokenmanager`

var backupCommand = &command{
	name: "backup", args: "FILE [--force]", nargs: 1, setup: backup, long: backupHelp,
	short: "write a consistent copy of the database to FILE, while the service runs",
}

var restoreCommand = &command{
	name: "restore", args: "FILE", nargs: 1, setup: restore, long: backupHelp,
	short: "replace the database with the backup in FILE",
}

func backup(fs *flag.FlagSet) runFunc {
	var sf storeFlags
	sf.register(fs)
	force := fs.Bool("force", false, "overwrite FILE if it exists")
	return func(ctx context.Context, inv *invocation) error {
		file := inv.args[0]
		if postgres.IsDSN(sf.db) {
			return errors.New("backup: the database is PostgreSQL: back it up with pg_dump --format=custom (see 'tokenmanager backup -h')")
		}
		if _, err := os.Stat(file); err == nil && !*force {
			return fmt.Errorf("%s exists; give --force to overwrite it", file)
		}
		store, err := sf.open(ctx)
		if err != nil {
			return err
		}
		defer store.Close()
		s, ok := store.(*sqlite.Store)
		if !ok {
			return errors.New("backup: only SQLite databases")
		}
		if err := s.Backup(ctx, file); err != nil {
			return err
		}
		if err := auditCLI(ctx, s, "db.backup", "", "file="+file); err != nil {
			return err
		}
		printf(inv.stdout, "backed up to %s\n", file)
		return nil
	}
}

func restore(fs *flag.FlagSet) runFunc {
	var sf storeFlags
	sf.register(fs)
	return func(ctx context.Context, inv *invocation) error {
		file := inv.args[0]
		if postgres.IsDSN(sf.db) {
			return errors.New("restore: the database is PostgreSQL: restore a pg_dump with pg_restore, then run 'tokenmanager migrate'")
		}
		if _, err := os.Stat(file); err != nil {
			return err
		}
		path, err := sf.sqlitePath()
		if err != nil {
			return err
		}
		if err := sqlite.Restore(ctx, file, path); err != nil {
			return err
		}
		store, err := sf.open(ctx)
		if err != nil {
			return err
		}
		defer store.Close()
		if err := auditCLI(ctx, store, "db.restore", "", "file="+file); err != nil {
			return err
		}
		printf(inv.stdout, "restored %s from %s\n", path, file)
		return nil
	}
}
