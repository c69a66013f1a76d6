package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

// TestMigrateDBMistakes: migrate-db refuses what it cannot use before touching either database, and never
// repeats the target's connection string.
func TestMigrateDBMistakes(t *testing.T) {
	t.Setenv("TOKENMANAGER_KEY", "")
	dir := t.TempDir()
	db := filepath.Join(dir, "tokenmanager.db")
	const pg = "postgres://u:S3cretPW@127.0.0.1:1/db"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--to", pg}, "--from: want sqlite:PATH"},
		{[]string{"--from", db, "--to", pg}, "--from: want sqlite:PATH"},
		{[]string{"--from", "sqlite:" + db}, "--to: want postgres://"},
		{[]string{"--from", "sqlite:" + db, "--to", "host=db password=S3cretPW"}, "--to: want postgres://"},
		{[]string{"--from", "sqlite:" + db, "--to", pg, "--progress-every", "0"}, "--progress-every must be positive"},
		{[]string{"--from", "sqlite:" + db, "--to", pg}, "source: stat "},
	} {
		stdout, stderr, err := runCLI(t, append([]string{"migrate-db"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.args, err, c.want)
		}
		if all := stdout + stderr + err.Error(); strings.Contains(all, "S3cret") {
			t.Errorf("%q echoes the DSN: %s", c.args, all)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("a refused migrate-db created the source database")
	}
	if _, err := os.Stat(filepath.Join(dir, "server.key")); err == nil {
		t.Error("a refused migrate-db created a server key")
	}

	// A database set up with a key is not copied without it.
	s, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.InitSetting(context.Background(), settingServerKey, "0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, _, err = runCLI(t, "migrate-db", "--from", "sqlite:"+db, "--to", pg)
	if err == nil || !strings.Contains(err.Error(), "no server key: give the SQLite node's key with --key-file or TOKENMANAGER_KEY") {
		t.Errorf("migrate-db without the key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "server.key")); err == nil {
		t.Error("migrate-db created a server key")
	}
}
