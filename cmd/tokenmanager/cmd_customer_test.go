package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestCustomerEditDelete: customer edit and delete at the command line, through the licensing core the
// management API calls: an edit changes only the settings given, a delete is refused while the customer has
// license keys, and forced unlinks them (the keys stay).
func TestCustomerEditDelete(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TOKENMANAGER_KEY", "")
	cli := func(wantErr string, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(append(args, "--data-dir", dir), strings.NewReader("alice-password\n"), &out, &errOut)
		switch {
		case wantErr == "" && err != nil:
			t.Fatalf("%v: %v\n%s", args, err, errOut.String())
		case wantErr != "" && (err == nil || !strings.Contains(err.Error()+errOut.String(), wantErr)):
			t.Fatalf("%v: %v %s, want an error with %q", args, err, errOut.String(), wantErr)
		}
		return out.String()
	}
	cli("", "user", "add", "alice", "--password-stdin")
	cli("", "vendor", "add", "alice")
	cli("", "product", "add", "Editor", "--vendor", "alice")
	cli("", "customer", "add", "--vendor", "alice", "--name", "Carol", "--email", "carol@example.com", "--company", "Example Ltd")
	cli("", "customer", "add", "--vendor", "alice", "--name", "Dave")

	out := cli("", "customer", "edit", "1", "--company", "Example plc", "--max-devices", "3", "--association=true", "--notes", "met at the fair")
	if out != "customer 1 (Carol) of alice: e-mail \"carol@example.com\", company \"Example plc\", max devices 3\n" {
		t.Fatalf("edit: %q", out)
	}
	if list := cli("", "customer", "list"); !strings.Contains(list, "Example plc") || !strings.Contains(list, "carol@example.com") {
		t.Fatalf("after the edit: %s", list)
	}
	cli("give at least one", "customer", "edit", "1")
	cli("a customer needs a name", "customer", "edit", "1", "--name", " ")
	cli("longer than", "customer", "edit", "1", "--company", strings.Repeat("c", 300))
	cli("MaxNoOfDevices", "customer", "edit", "1", "--max-devices", "-1")
	cli("customer not found", "customer", "edit", "99", "--name", "X")
	cli("not a positive number", "customer", "edit", "x", "--name", "X")

	key := strings.TrimSpace(cli("", "key", "create", "--product", "1", "--customer", "1"))
	cli("1 license key", "customer", "delete", "1")
	if list := cli("", "customer", "list"); !strings.Contains(list, "Carol") {
		t.Fatalf("a refused delete removed the customer: %s", list)
	}
	if out := cli("", "customer", "delete", "1", "--force"); out != "customer 1 deleted: 1 license key(s) unlinked, 0 end user(s) dissociated, 0 device(s) removed\n" {
		t.Fatalf("forced delete: %q", out)
	}
	if show := cli("", "key", "show", "--product", "1", key); !strings.Contains(show, key) {
		t.Fatalf("the key after its customer went: %s", show)
	}
	if out := cli("", "customer", "delete", "2"); !strings.HasPrefix(out, "customer 2 deleted: 0 license key(s)") {
		t.Fatalf("delete without keys: %q", out)
	}
	if list := cli("", "customer", "list"); strings.Contains(list, "Carol") || strings.Contains(list, "Dave") {
		t.Fatalf("after the deletes: %s", list)
	}
	cli("customer not found", "customer", "delete", "1")

	// The core audited each change once.
	log := cli("", "audit", "--action", "license.customer.")
	for action, n := range map[string]int{"license.customer.create": 2, "license.customer.edit": 1, "license.customer.delete": 2} {
		if got := strings.Count(log, action+" "); got != n {
			t.Errorf("%s: %d in the audit log, want %d:\n%s", action, got, n, log)
		}
	}
}
