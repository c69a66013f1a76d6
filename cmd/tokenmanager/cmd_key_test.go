package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

// TestKeyEditDelete: `key edit` changes every field in one call of the core, or nothing when one is refused;
// `key delete` refuses an activated key unless forced. A real SQLite database in a data directory of the test.
func TestKeyEditDelete(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TOKENMANAGER_DATA_DIR", dir)
	t.Setenv("TOKENMANAGER_KEY", "")
	cli := func(stdin string, args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(args, strings.NewReader(stdin), &out, &errOut)
		return out.String(), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := cli("", args...)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		return out
	}
	if _, err := cli("correct horse battery\n", "user", "add", "alice", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	must("vendor", "add", "alice")
	must("product", "add", "Photo Editor", "--vendor", "alice")
	must("customer", "add", "--vendor", "alice", "--name", "Ann")
	key := strings.TrimSpace(must("key", "create", "--product", "1", "--period", "30", "--features", "1"))

	out := must("key", "edit", "--product", "1", key, "--features", "2,3", "--notes", "for Ann", "--max-machines", "4",
		"--customer", "1", "--expires", "2031-02-03T04:05:06Z", "--block")
	if want := "key " + key + ": features 2,3, max machines 4, customer 1, expires 2031-02-03T04:05:06Z, blocked true, notes \"for Ann\"\n"; out != want {
		t.Fatalf("edit:\n%q\nwant\n%q", out, want)
	}
	if out := must("key", "edit", "--product", "1", key, "--features", "", "--unblock"); !strings.Contains(out, "features -,") ||
		!strings.Contains(out, "blocked false") {
		t.Fatalf("features cleared, unblocked: %q", out)
	}

	before := must("key", "show", "--product", "1", key)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{key}, "give at least one of"},
		{[]string{key, "--block", "--unblock"}, "not both"},
		{[]string{key, "--expires", "soon"}, "--expires: want an RFC 3339 time"},
		{[]string{key, "--notes", "x", "--expires", "10000-01-01T00:00:00Z"}, "--expires: want an RFC 3339 time"},
		{[]string{key, "--notes", "x", "--expires", "9999-12-31T23:59:59+00:00", "--max-machines", "-1"}, "NumberOfMachines -1"},
		{[]string{key, "--notes", "x", "--customer", "99"}, "customer"},
		{[]string{key, "--features", "9"}, "--features"},
		{[]string{"AAAAA-AAAAA-AAAAA-AAAAA", "--notes", "x"}, "no such key"},
	} {
		_, err := cli("", append([]string{"key", "edit", "--product", "1"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("edit %q: %v, want %q", c.args, err, c.want)
		}
	}
	if _, err := cli("", "key", "edit", key, "--notes", "x"); err == nil || !strings.Contains(err.Error(), "--product is required") {
		t.Errorf("edit without --product: %v", err)
	}
	if after := must("key", "show", "--product", "1", key); after != before {
		t.Fatalf("a refused edit changed the key:\n%s\n%s", before, after)
	}

	// An activated key: delete refuses, --force removes the activation with it.
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "tokenmanager.db"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = st.UpdateActivations(ctx, 1, key, func(storage.LicenseKey, []storage.Activation) (storage.ActivationChanges, error) {
		return storage.ActivationChanges{Put: []storage.Activation{{MachineCode: "m1", ActivatedAt: time.Now()}}}, nil
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli("", "key", "delete", "--product", "1", key); err == nil || !strings.Contains(err.Error(), "1 activation") {
		t.Fatalf("delete of an activated key: %v", err)
	}
	if out := must("key", "delete", "--product", "1", key, "--force"); out != "key "+key+" deleted with 1 activation(s)\n" {
		t.Fatalf("forced delete: %q", out)
	}
	if _, err := cli("", "key", "delete", "--product", "1", key); err == nil || !strings.Contains(err.Error(), "no such key") {
		t.Fatalf("delete again: %v", err)
	}
	// Both went through the core, which audited them.
	log := must("audit", "--limit", "50")
	for _, a := range []string{"license.key.setexpiry", "license.key.changecustomer", "license.key.blockkey", "license.key.unblockkey", "license.key.delete"} {
		if !strings.Contains(log, a) {
			t.Errorf("no %s in the audit log:\n%s", a, log)
		}
	}
}
