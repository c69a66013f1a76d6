package main

import (
	"bytes"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	_ "github.com/mattn/go-sqlite3"
)

// hostile is what a client can put in a user name (HTTP Basic), a machine code, a device or app name: OSC
// (set the window title), BEL, a carriage return and an erase-line to overwrite what came before, NUL, a C1
// CSI, a newline and a tab that would forge a row or a column, a bidirectional override.
const hostile = "x\x1b]0;pwned\x07\r\x1b[2K\x00\u009b2J\nforged\trow\u202e"

// TestListingsEscapeControlCharacters: values stored from requests (or by an older version) are printed
// with their control characters escaped by every listing, so none can act on the operator's terminal.
func TestListingsEscapeControlCharacters(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TOKENMANAGER_KEY", "")
	cli := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(append(args, "--data-dir", dir), strings.NewReader("alice-password\n"), &out, &errOut); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errOut.String())
		}
		return out.String()
	}
	cli("user", "add", "alice", "--password-stdin")
	cli("vendor", "add", "alice")
	cli("product", "add", "Editor", "--vendor", "alice")
	cli("customer", "add", "--vendor", "alice", "--name", "Carol", "--user", "alice")
	key := strings.TrimSpace(cli("key", "create", "--product", "1", "--customer", "1"))
	cli("apitoken", "create", "--vendor", "alice", "--methods", "Activate,GetKey", "--name", "app")

	// What requests store, written straight into the database: the domain checks of today do not bind rows
	// stored before them.
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "tokenmanager.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().Unix()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO users (name, password_hash, created_at, updated_at) VALUES (?, 'h', ?, ?)`, []any{hostile, now, now}},
		{`INSERT INTO audit_events (at, action, outcome, actor, subject, client_host, detail) VALUES (?, 'login.fail', 'refused', ?, ?, ?, ?)`,
			[]any{now * 1e9, hostile, hostile, hostile, hostile}},
		{`INSERT INTO license_activations (key_global_id, machine_code, floating, friendly_name, ip, activated_at)
			VALUES ((SELECT global_id FROM license_keys), ?, 0, ?, '127.0.0.1', ?)`, []any{hostile, hostile, now}},
		{`UPDATE license_api_tokens SET name = ?`, []any{hostile}},
		{`UPDATE license_customers SET name = ?, email = ?, company = ?`, []any{hostile, hostile, hostile}},
		{`UPDATE license_products SET name = ?`, []any{hostile}},
		{`INSERT INTO app_authorizations (request_hash, parent_token_id, vendor, user_name, state, app_name, device_name,
			machine_code, public_key, lifetime_seconds, decided_at) VALUES (x'01', 1, 'alice', 'alice', 'approved', ?, ?, ?, x'00', 60, ?)`,
			[]any{hostile, hostile, hostile, now}},
		{`INSERT INTO app_devices (customer_id, machine_code, device_name, user_name, registered_at) VALUES (1, ?, ?, 'alice', ?)`,
			[]any{hostile, hostile, now}},
	} {
		if _, err := db.Exec(q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}

	for _, args := range [][]string{
		{"audit"}, {"user", "list"}, {"activation", "list", "--product", "1", key}, {"apitoken", "list"},
		{"customer", "list"}, {"product", "list"}, {"key", "show", "--product", "1", key},
		{"appauth", "list"}, {"appauth", "show", "1"}, {"appauth", "devices"},
	} {
		out := cli(args...)
		// (Some columns fold white space, CR and LF included, to one space.)
		if !strings.Contains(out, `x\x1b]0;pwned\a`) || !strings.Contains(out, `\x1b[2K\x00\u009b2J`) {
			t.Errorf("%v does not show the value escaped:\n%s", args, out)
		}
		for i, r := range out {
			if r == utf8.RuneError || (r < ' ' && r != '\n' && r != '\t') || (r >= 0x7f && r < 0xa0) || r == '\u202e' {
				t.Errorf("%v prints %U at byte %d:\n%q", args, r, i, out)
				break
			}
		}
		if strings.Contains(out, "\nforged") {
			t.Errorf("%v lets a value start a line:\n%s", args, out)
		}
	}
}
