package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestInitDemo: init --demo fills an empty database with one of everything and prints the secrets with a
// command for each; a second run, or a run on a database with a user of its own, is refused and adds nothing.
func TestInitDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("TOKENMANAGER_DATA_DIR", dir)
	if _, _, err := runCLI(t, "init"); err == nil || !strings.Contains(err.Error(), "init needs --demo") {
		t.Fatalf("init without --demo: %v", err)
	}
	out, stderr, err := runCLI(t, "init", "--demo", "--url", "http://127.0.0.1:9999/")
	if err != nil {
		t.Fatalf("init --demo: %v\n%s", err, stderr)
	}
	for _, want := range []string{"user demo (a vendor), password ", "product 1 (Demo App), license key ",
		"API client demo-client, key ", "PowerAuth application demo-app", "http://127.0.0.1:9999/api/key/Activate",
		"http://127.0.0.1:9999/oauth2/token", "/pa/v3/token/create", "'Sign=true'"} {
		if !strings.Contains(out, want) {
			t.Errorf("init --demo output lacks %q:\n%s", want, out)
		}
	}
	for _, c := range [][]string{{"vendor", "list"}, {"product", "list"}, {"key", "list", "--product", "1"},
		{"apitoken", "list"}, {"client", "list"}, {"powerauth", "app", "list"}, {"powerauth", "activation", "list"}} {
		list, _, err := runCLI(t, c...)
		if err != nil || len(strings.Split(strings.TrimSpace(list), "\n")) != 2 {
			t.Errorf("%s after init --demo: want one row, got %v\n%s", strings.Join(c, " "), err, list)
		}
	}
	if _, _, err := runCLI(t, "init", "--demo"); err == nil || !strings.Contains(err.Error(), "the database is not empty") {
		t.Fatalf("init --demo twice: %v", err)
	}

	// A database with a user of the operator's own: refused, nothing added.
	t.Setenv("TOKENMANAGER_DATA_DIR", filepath.Join(t.TempDir(), "data"))
	if _, _, err := runCLIStdin(t, "correct-horse-battery\n", "user", "add", "alice", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, "init", "--demo"); err == nil || !strings.Contains(err.Error(), `user "alice"`) {
		t.Fatalf("init --demo beside alice: %v", err)
	}
	if list, _, _ := runCLI(t, "user", "list"); strings.Contains(list, "demo") {
		t.Fatalf("a refused init --demo added a user:\n%s", list)
	}
}

func runCLIStdin(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut strings.Builder
	err := run(args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}
