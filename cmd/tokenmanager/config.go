package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/postgres"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

const envPrefix = "TOKENMANAGER_"

// storeFlags are shared by every command that opens the database.
type storeFlags struct {
	config  string
	dataDir string
	db      string
	keyFile string
	// previousKeyFile holds the key the database used before a rotation (or will use, before it): see
	// checkedServerKeys.
	previousKeyFile string
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.config, "config", "", "read flag values from this file (lines of name = value, # comments); "+
		"flags on the command line and TOKENMANAGER_* variables override it")
	fs.StringVar(&f.dataDir, "data-dir", "data", "directory for the SQLite database and the server key file")
	fs.StringVar(&f.db, "db", "sqlite:", "database: sqlite: (the data directory's tokenmanager.db), sqlite:PATH, or "+
		"postgres://USER:PASSWORD@HOST:5432/DATABASE?sslmode=verify-full (one database shared by every node of a cluster)")
	fs.StringVar(&f.keyFile, "key-file", "", "server key file (default DATA_DIR/server.key, created with mode 0600 on first use); "+
		"TOKENMANAGER_KEY (base64 of 32 bytes) takes precedence")
	fs.StringVar(&f.previousKeyFile, "previous-key-file", "", "during a server key rotation, the other key: the one the "+
		"database uses until 'tokenmanager serverkey rotate', and used before it after; TOKENMANAGER_PREVIOUS_KEY "+
		"(base64 of 32 bytes) takes precedence")
}

func (f *storeFlags) open(ctx context.Context) (storage.Store, error) {
	if postgres.IsDSN(f.db) {
		return postgres.Open(ctx, f.db)
	}
	path, err := f.sqlitePath()
	if err != nil {
		return nil, err
	}
	return sqlite.Open(ctx, path)
}

// openDB is an open database and the flags that named it.
type openDB struct {
	storage.Store
	flags *storeFlags
}

// withStore declares the database flags into fs and returns a run that opens the database for run and closes
// it after.
func withStore(fs *flag.FlagSet, run func(ctx context.Context, inv *invocation, db openDB) error) runFunc {
	sf := new(storeFlags)
	sf.register(fs)
	return func(ctx context.Context, inv *invocation) error {
		store, err := sf.open(ctx)
		if err != nil {
			return err
		}
		defer store.Close()
		return run(ctx, inv, openDB{store, sf})
	}
}

// serverKey is the server key, checked against the database (see checkedServerKey).
func (db openDB) serverKey(ctx context.Context, inv *invocation) ([]byte, error) {
	return db.flags.checkedServerKey(ctx, db.Store, inv.stderr)
}

// licenses is the licensing service over the database, as every command but serve uses it.
func (db openDB) licenses(ctx context.Context, inv *invocation) (*license.Service, error) {
	// Both keys during a rotation: a product key sealed by a node that has not yet seen the change still opens.
	set, err := db.flags.checkedServerKeys(ctx, db.Store, inv.stderr)
	if err != nil {
		return nil, err
	}
	return license.New(db.Store, set.SealerFor(keys.PurposeLicenseSigningKeys),
		license.Options{Audit: cliAuditor{store: db.Store, stderr: inv.stderr}}), nil
}

// sqlitePath is the database file --db names, creating the data directory for the default one.
func (f *storeFlags) sqlitePath() (string, error) {
	path, ok := strings.CutPrefix(f.db, "sqlite:")
	if !ok {
		// The value is not echoed: it may be a key/value connection string with a password in it.
		return "", errors.New("--db: want sqlite:, sqlite:PATH or postgres://USER:PASSWORD@HOST/DATABASE?… (a PostgreSQL URL)")
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
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && postgres.IsDSN(f.db) {
		// A node making up a key of its own could not read the other nodes' tokens, nor they its.
		return nil, fmt.Errorf("no server key: with a shared database every node needs the same one; give it as "+
			"TOKENMANAGER_KEY (base64 of 32 random bytes: head -c 32 /dev/urandom | base64) or in --key-file (%s does not exist)", path)
	}
	k, created, err := keys.LoadOrCreate(path)
	if created {
		printf(log, "tokenmanager: created server key %s (share it with every node; back it up)\n", path)
	}
	return k, err
}

// Where a flag's value came from, in order of precedence.
const (
	fromFlag    = "flag"
	fromEnv     = "env"
	fromFile    = "config file"
	fromDefault = "default"
)

// parseWithSources parses args into fs, letting flags and positional arguments mix ("user add NAME
// --password-stdin"), then fills every flag not given on the command line from TOKENMANAGER_<NAME> in the
// environment, and what is still unset from the --config file. It returns the positional arguments and where
// each flag's value came from; a mistake on the command line is a flagError.
func parseWithSources(fs *flag.FlagSet, args []string) ([]string, map[string]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, nil, flagError{err}
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	sources := map[string]string{}
	fs.Visit(func(f *flag.Flag) { sources[f.Name] = fromFlag })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := envName(f.Name)
		if v, ok := os.LookupEnv(env); ok && sources[f.Name] == "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env, err))
			}
			sources[f.Name] = fromEnv
		}
	})
	if c := fs.Lookup("config"); c != nil && c.Value.String() != "" {
		if err := applyConfigFile(fs, c.Value.String(), sources); err != nil {
			errs = append(errs, err)
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if sources[f.Name] == "" {
			sources[f.Name] = fromDefault
		}
	})
	return positional, sources, errors.Join(errs...)
}

func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// maxConfigBytes bounds the config file we read.
const maxConfigBytes = 1 << 20

// applyConfigFile sets the flags still unset from "name = value" lines. An unknown name is an error, so a typo
// does not silently leave a default in force; a name that is not a flag of this command is skipped only if it
// is one of serve's (see serveFlagNames).
func applyConfigFile(fs *flag.FlagSet, path string, sources map[string]string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	if len(data) > maxConfigBytes {
		return fmt.Errorf("--config %s: larger than %d bytes", path, maxConfigBytes)
	}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		name, value = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), "--")), strings.TrimSpace(value)
		if !ok || name == "" {
			return fmt.Errorf("--config %s:%d: want name = value", path, i+1)
		}
		if unq, err := strconv.Unquote(value); err == nil && strings.HasPrefix(value, `"`) {
			value = unq
		}
		if name == "config" {
			return fmt.Errorf("--config %s:%d: a config file cannot name another", path, i+1)
		}
		if fs.Lookup(name) == nil {
			if serveFlagNames[name] {
				continue // another command's setting: serve's file is shared by the CLI
			}
			return fmt.Errorf("--config %s:%d: unknown setting %q", path, i+1, name)
		}
		if sources[name] != "" {
			continue // the command line or the environment wins
		}
		if err := fs.Set(name, value); err != nil {
			return fmt.Errorf("--config %s:%d: %s: %w", path, i+1, name, err)
		}
		sources[name] = fromFile
	}
	return nil
}

// serveFlagNames are the names of serve's flags. The config file is serve's; the other commands, given the same
// file, take the settings they share with serve (--data-dir, --db, --key-file) and skip the rest.
var serveFlagNames = func() map[string]bool {
	m := map[string]bool{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	new(serveFlags).register(fs)
	fs.VisitAll(func(fl *flag.Flag) { m[fl.Name] = true })
	return m
}()
