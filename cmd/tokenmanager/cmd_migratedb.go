package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/storage/dbcopy"
	"github.com/tokenmanager/tokenmanager/storage/postgres"
)

// migrate-db is a word of its own rather than a subcommand of migrate: migrate runs by itself (it brings one
// database's schema up to date), and this moves the data from one database to another.
var migrateDBCommand = &command{
	name: "migrate-db", args: "--from sqlite:PATH --to postgres://… [--force]", setup: migrateDB,
	short: "copy everything from a SQLite database into a PostgreSQL one, to run a cluster on it",
	long: `Copies every table of the SQLite database into the PostgreSQL database, each table in one transaction,
then counts the rows and compares a SHA-256 checksum of each table on both sides. Users, license data, API
clients, PowerAuth, app authorizations, WooCommerce stores, the audit log, token keys, settings and the change
feed are copied whole; tokens, access tokens, nonces and WooCommerce tokens only while they are live, sessions
unless ended. Ids are kept and PostgreSQL's identities continue after them.

Stop the service first: what it writes during the copy is not copied. The nodes on PostgreSQL need the SQLite
node's server key (data/server.key, or TOKENMANAGER_KEY): the command checks that the key it is given is the
one the SQLite database was set up with. Give the PostgreSQL URL in TOKENMANAGER_TO to keep its password off
the command line.

A target that holds data is refused unless --force is given, which empties every table of it first. If a
copy fails part way, run the same command again: the target keeps a marker (the setting
migrate_db_in_progress) until every table is verified, and a run that finds it starts the copy over. Start
no node on the target before a run has finished. Progress goes to standard error.

examples:
  tokenmanager migrate-db --from sqlite:/var/lib/tokenmanager/tokenmanager.db \
      --to 'postgres://tokenmanager:…@db.internal:5432/tokenmanager?sslmode=verify-full'
  TOKENMANAGER_TO='postgres://…' tokenmanager migrate-db --from sqlite:data/tokenmanager.db --key-file data/server.key`,
}

func migrateDB(fs *flag.FlagSet) runFunc {
	from := fs.String("from", "", "the SQLite database to copy: sqlite:PATH")
	to := fs.String("to", "", "the PostgreSQL database to copy into: postgres://USER:PASSWORD@HOST:5432/DATABASE?sslmode=…")
	keyFile := fs.String("key-file", "", "the SQLite node's server key file (default: server.key next to the database file); "+
		"TOKENMANAGER_KEY (base64 of 32 bytes) takes precedence")
	force := fs.Bool("force", false, "empty a target that holds data, then copy")
	every := fs.Int("progress-every", 10000, "report progress every this many rows of a table")
	return func(ctx context.Context, inv *invocation) error {
		path, ok := strings.CutPrefix(*from, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if !ok || path == "" {
			return inv.usageError("--from: want sqlite:PATH, the SQLite database file")
		}
		if !postgres.IsDSN(*to) {
			// The value is not echoed: it may hold a password.
			return inv.usageError("--to: want postgres://USER:PASSWORD@HOST:5432/DATABASE?… (a PostgreSQL URL)")
		}
		if *every <= 0 {
			return inv.usageError("--progress-every must be positive")
		}
		fingerprint, err := migrationKey(ctx, path, *keyFile)
		if err != nil {
			return err
		}
		rep, err := dbcopy.Copy(ctx, path, *to, dbcopy.Options{
			Force: *force, Every: *every, Fingerprint: fingerprint,
			Progress: func(p dbcopy.Progress) {
				switch {
				case p.Finished:
					printf(inv.stderr, "migrate-db: %s: %d rows copied\n", p.Table, p.Done)
				case p.Done == 0 && p.Total >= int64(*every): // a long table: say so before it starts
					printf(inv.stderr, "migrate-db: %s: copying %d rows\n", p.Table, p.Total)
				case p.Done > 0:
					printf(inv.stderr, "migrate-db: %s: %d of %d rows\n", p.Table, p.Done, p.Total)
				}
			},
		})
		if errors.Is(err, dbcopy.ErrNotEmpty) {
			return errors.New("migrate-db: " + err.Error() + "; give --force to empty it first")
		}
		if err != nil {
			return errors.New("migrate-db: " + err.Error())
		}
		switch {
		case rep.Resumed:
			printf(inv.stdout, "an unfinished copy was found in the target and done over\n")
		case rep.Emptied:
			printf(inv.stdout, "the target's data was removed (--force)\n")
		}
		var rows int64
		for _, t := range rep.Tables {
			printf(inv.stdout, "%-22s %8d rows  sha256 %s\n", t.Name, t.Rows, t.SHA256)
			rows += t.Rows
		}
		printf(inv.stdout, "copied %d rows in %d tables from %s to %s; counts and checksums match\n",
			rows, len(rep.Tables), path, maskDSN(*to))
		return nil
	}
}

// migrationKey is the fingerprint of the server key the copy is checked against: TOKENMANAGER_KEY's, else the
// key file's (by default the one beside the database, where a node with --data-dir keeps both). No key is
// made up here: without one, only a database that was never used with a key is copied ("" is returned).
func migrationKey(ctx context.Context, dbPath, keyFile string) (string, error) {
	if v := os.Getenv(envPrefix + "KEY"); v != "" {
		k, err := keys.Parse(v)
		if err != nil {
			return "", err
		}
		return keys.Fingerprint(k), nil
	}
	if keyFile == "" {
		keyFile = filepath.Join(filepath.Dir(dbPath), "server.key")
	}
	if _, err := os.Stat(keyFile); err != nil {
		fp, ferr := dbcopy.SourceFingerprint(ctx, dbPath)
		if ferr != nil {
			return "", errors.New("migrate-db: " + ferr.Error())
		}
		if fp != "" {
			return "", errors.New("migrate-db: no server key: give the SQLite node's key with --key-file or TOKENMANAGER_KEY (" + err.Error() + ")")
		}
		return "", nil
	}
	k, _, err := keys.LoadOrCreate(keyFile)
	if err != nil {
		return "", err
	}
	return keys.Fingerprint(k), nil
}
