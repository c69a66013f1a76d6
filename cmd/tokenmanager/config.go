package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

const envPrefix = "TOKENMANAGER_"

// storeFlags are shared by every command that opens the database.
type storeFlags struct {
	dataDir string
	db      string
	keyFile string
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", "data", "directory for the SQLite database and the server key file")
	fs.StringVar(&f.db, "db", "sqlite:", "database DSN: sqlite: (the data directory's tokenmanager.db) or sqlite:PATH")
	fs.StringVar(&f.keyFile, "key-file", "", "server key file (default DATA_DIR/server.key, created with mode 0600 on first use); "+
		"TOKENMANAGER_KEY (base64 of 32 bytes) takes precedence")
}

func (f *storeFlags) open(ctx context.Context) (storage.Store, error) {
	path, err := f.sqlitePath()
	if err != nil {
		return nil, err
	}
	return sqlite.Open(ctx, path)
}

// sqlitePath is the database file --db names, creating the data directory for the default one.
func (f *storeFlags) sqlitePath() (string, error) {
	path, ok := strings.CutPrefix(f.db, "sqlite:")
	if !ok {
		return "", fmt.Errorf("--db %q: only sqlite: is supported in this version", redactDSN(f.db))
	}
	path = strings.TrimPrefix(path, "//")
	if path == "" {
		if err := os.MkdirAll(f.dataDir, 0o700); err != nil {
			return "", err
		}
		path = filepath.Join(f.dataDir, "tokenmanager.db")
	}
	return path, nil
}

// serverKey returns the key from TOKENMANAGER_KEY or the key file (created on first use).
func (f *storeFlags) serverKey(log io.Writer) ([]byte, error) {
	if v := os.Getenv(envPrefix + "KEY"); v != "" {
		return keys.Parse(v)
	}
	path := f.keyFile
	if path == "" {
		path = filepath.Join(f.dataDir, "server.key")
	}
	k, created, err := keys.LoadOrCreate(path)
	if created {
		fmt.Fprintf(log, "tokenmanager: created server key %s (share it with every node; back it up)\n", path)
	}
	return k, err
}

// redactDSN hides a password in a URL-style DSN.
func redactDSN(dsn string) string {
	if at := strings.LastIndex(dsn, "@"); at >= 0 {
		if scheme := strings.Index(dsn, "://"); scheme >= 0 && scheme < at {
			return dsn[:scheme+3] + "…@" + dsn[at+1:]
		}
	}
	return dsn
}

// parse parses args into fs, letting flags and positional arguments mix ("user add NAME --password-stdin"),
// then fills every flag not given on the command line from TOKENMANAGER_<NAME> in the environment.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := envPrefix + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok && !set[f.Name] {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env, err))
			}
		}
	})
	return positional, errors.Join(errs...)
}
