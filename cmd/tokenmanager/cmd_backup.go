package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/tokenmanager/tokenmanager/storage/postgres"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

const backupUsage = `usage:
  tokenmanager backup FILE    write a consistent copy of the database to FILE, while the service runs
  tokenmanager restore FILE   replace the database with the backup in FILE

The backup is SQLite's online backup: one snapshot, taken without stopping the service; every token
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

func backupCommand(name string, args []string, stdout, stderr io.Writer) error {
	var sf storeFlags
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, backupUsage); fs.PrintDefaults() }
	sf.register(fs)
	force := fs.Bool("force", false, "backup: overwrite FILE if it exists")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("%s: expected FILE", name)
	}
	file := pos[0]
	if postgres.IsDSN(sf.db) {
		if name == "backup" {
			return errors.New("backup: the database is PostgreSQL: back it up with pg_dump --format=custom (see 'tokenmanager backup -h')")
		}
		return errors.New("restore: the database is PostgreSQL: restore a pg_dump with pg_restore, then run 'tokenmanager migrate'")
	}
	ctx := context.Background()
	switch name {
	case "backup":
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
		printf(stdout, "backed up to %s\n", file)
	case "restore":
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
		printf(stdout, "restored %s from %s\n", path, file)
	}
	return nil
}
