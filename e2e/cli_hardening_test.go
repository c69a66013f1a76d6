package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestAuditEscapesRequestControlCharacters: a user name sent with HTTP Basic that holds terminal escape
// sequences reaches the audit log as it was sent, and `tokenmanager audit` prints it escaped.
func TestAuditEscapesRequestControlCharacters(t *testing.T) {
	srv := startServer(t)
	const name = "mallory\x1b]0;pwned\x07\r\x1b[2Kadmin\x00ok"
	if r, _ := srv.restToken(t, name, "wrong-password", false, 10); r.Status != http.StatusUnauthorized {
		t.Fatalf("sign-in as a hostile name: %s", r)
	}
	eventually(t, "the failed sign-in in the audit log", func() error {
		out := srv.mustCLI(t, "", "audit", "--action", "login.fail")
		if !strings.Contains(out, `mallory\x1b]0;pwned\a\r\x1b[2Kadmin\x00ok`) {
			return fmt.Errorf("audit does not show the escaped name:\n%s", out)
		}
		if strings.ContainsAny(out, "\x1b\x07\r\x00") {
			return fmt.Errorf("audit prints control characters: %q", out)
		}
		return nil
	})
}

// TestDatabaseFilesArePrivate: with the usual umask 022, a database named with --db sqlite:PATH outside the
// data directory, its -wal and -shm files and a backup are all 0600.
func TestDatabaseFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	elsewhere := t.TempDir()
	db := filepath.Join(elsewhere, "tm.db")
	srv := launchServer(t, &tmServer{DataDir: t.TempDir(), AdminPassword: "admin-" + randomHex(),
		Env: []string{"TOKENMANAGER_DB=sqlite:" + db}})
	srv.mustRESTToken(t, adminUser, srv.AdminPassword, false, 10)
	backup := filepath.Join(elsewhere, "backup.db")
	srv.mustCLI(t, "", "backup", backup)
	for _, p := range []string{db, db + "-wal", db + "-shm", backup} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %#o, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
}

// TestGeneratedAdminPasswordNotLogged: the password serve makes up for admin is in DATA_DIR/admin.password
// (0600), not in the log, which says where it is; it signs in, and `user passwd admin` deletes the file.
func TestGeneratedAdminPasswordNotLogged(t *testing.T) {
	srv := launchServer(t, &tmServer{DataDir: t.TempDir()}) // no TOKENMANAGER_ADMIN_PASSWORD
	file := filepath.Join(srv.DataDir, "admin.password")
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("admin.password: mode %#o, want 0600", fi.Mode().Perm())
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	password := strings.TrimSpace(string(b))
	if len(password) < 16 {
		t.Fatalf("admin.password holds %q", password)
	}
	srv.mustRESTToken(t, adminUser, password, false, 10)
	log := srv.out.String()
	if strings.Contains(log, password) {
		t.Errorf("the log shows the generated password:\n%s", log)
	}
	if !strings.Contains(log, `"password_file":"`+file+`"`) {
		t.Errorf("the log does not say where the password is:\n%s", log)
	}
	srv.mustCLI(t, "a-new-admin-password\n", "user", "passwd", adminUser, "--password-stdin")
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("admin.password is still there after user passwd admin: %v", err)
	}
}

// TestDSNSecretsNeverShown: config print masks the secrets of a key/value or URL connection string, and
// serve refuses a --db it cannot use without repeating it.
func TestDSNSecretsNeverShown(t *testing.T) {
	needServer(t)
	run := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, serverBin, append(args, "--data-dir", t.TempDir())...)
		cmd.Env = childEnv()
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		_ = cmd.Run()
		return out.String()
	}
	for _, dsn := range []string{
		"host=db.internal user=tm password=S3cretPW sslpassword=S3cretKey dbname=tm",
		"postgres://tm:S3cretPW@db.internal/tm?sslmode=verify-full&sslpassword=S3cretKey",
	} {
		if out := run("config", "print", "--db", dsn); strings.Contains(out, "S3cret") || !strings.Contains(out, "db.internal") {
			t.Errorf("config print --db %q:\n%s", dsn, out)
		}
	}
	out := run("serve", "--listen", "127.0.0.1:0", "--db", "host=db.internal password=S3cretPW")
	if strings.Contains(out, "S3cret") || !strings.Contains(out, "--db") {
		t.Errorf("serve with a key/value --db:\n%s", out)
	}
}

// TestUserNamesAndPasswordsChecked: user add refuses a name HTTP Basic cannot carry, control characters, a
// name differing only by case from an existing one, and passwords shorter than 8 characters.
func TestUserNamesAndPasswordsChecked(t *testing.T) {
	srv := startServer(t)
	srv.mustCLI(t, "alice-password\n", "user", "add", "alice", "--password-stdin")
	for _, c := range []struct{ name, password, want string }{
		{"a:b", "a-long-password", "':'"},
		{"eve\x1b[2K", "a-long-password", "control or invisible character"},
		{"ALICE", "a-long-password", `differs from the existing "alice" only by case`},
		{"bob", "12345", "at least 8"},
	} {
		_, err := srv.cli(t, c.password+"\n", "user", "add", c.name, "--password-stdin")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("user add %q: %v, want an error saying %s", c.name, err, c.want)
		}
	}
	if _, err := srv.cli(t, "short\n", "user", "passwd", "alice", "--password-stdin"); err == nil || !strings.Contains(err.Error(), "at least 8") {
		t.Errorf("user passwd with 5 characters: %v", err)
	}
	if out := srv.mustCLI(t, "", "user", "list"); strings.Count(out, "\n") != 3 { // header, admin, alice
		t.Errorf("user list:\n%s", out)
	}
	srv.mustRESTToken(t, "alice", "alice-password", false, 10)
}
