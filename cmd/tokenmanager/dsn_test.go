package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestMaskDSN: every secret, in either form of connection string, is masked; the rest stays readable.
func TestMaskDSN(t *testing.T) {
	for _, c := range []struct{ dsn, want string }{
		{"sqlite:/var/lib/tm.db", "sqlite:/var/lib/tm.db"},
		{"postgres://tm:S3cretPW@db:5432/tm?sslmode=verify-full", "postgres://…@db:5432/tm?sslmode=verify-full"},
		{"postgresql://tm@db/tm?password=S3cretPW&sslmode=require", "postgresql://…@db/tm?password=…&sslmode=require"},
		{"postgres://db/tm?sslkey=/k.pem&sslpassword=S3cretPW", "postgres://db/tm?sslkey=/k.pem&sslpassword=…"},
		{"postgres://db/tm?pass%77ord=S3cretPW&sslpass%77ord=S3cretPW", "postgres://db/tm?pass%77ord=…&sslpass%77ord=…"},
		{"host=db password=S3cretPW dbname=tm", "host=db password=… dbname=tm"},
		{"host=db  password = S3cretPW\tsslmode=require", "host=db password=… sslmode=require"},
		{`host=db password='S3cret PW \' S3cretPW' user=tm`, "host=db password=… user=tm"},
		{`password=S3cret\ PW host=db`, "password=… host=db"},
		{"host=db sslkey=/k.pem sslpassword=S3cretPW", "host=db sslkey=/k.pem sslpassword=…"},
		{"host=db password='S3cretPW", "(a connection string that does not parse; not shown)"},
		{"host=db password=S3cretPW\x00", "(a connection string that does not parse; not shown)"},
		{"postgres://tm:S3cretPW@[db/tm", "(a connection string that does not parse; not shown)"},
	} {
		got := maskDSN(c.dsn)
		if got != c.want {
			t.Errorf("maskDSN(%q)\n = %q\nwant %q", c.dsn, got, c.want)
		}
		if strings.Contains(got, "S3cret") {
			t.Errorf("maskDSN(%q) shows the secret: %q", c.dsn, got)
		}
	}
}

// TestMaskDSNAgreesWithPgx: the password pgx itself reads from each string is not in the masked one.
func TestMaskDSNAgreesWithPgx(t *testing.T) {
	t.Setenv("PGPASSWORD", "")
	t.Setenv("PGPASSFILE", "/nonexistent")
	for _, dsn := range []string{
		"postgres://tm:pw%20with%40at@db/tm",
		"postgres://tm:abc@db/tm?password=def",
		`host=db password='it\'s' user=tm`,
		`host=db password=a\'b\ c user=tm`,
		`host=db password = 'x y z' dbname=tm`,
		"host=db password=first password=second",
	} {
		cfg, err := pgconn.ParseConfig(dsn)
		if err != nil {
			t.Fatalf("pgx: %q: %v", dsn, err)
		}
		if cfg.Password == "" {
			t.Fatalf("pgx found no password in %q", dsn)
		}
		if got := maskDSN(dsn); strings.Contains(got, cfg.Password) {
			t.Errorf("maskDSN(%q) = %q shows pgx's password %q", dsn, got, cfg.Password)
		}
	}
}

// TestDSNNeverEchoed: config print masks a key/value --db, and a command given one refuses it without
// repeating it.
func TestDSNNeverEchoed(t *testing.T) {
	const dsn = "host=db password=S3cretPW sslpassword=S3cretKey"
	var out, errOut bytes.Buffer
	if err := run([]string{"config", "print", "--db", dsn}, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"host=db password=… sslpassword=…"`) || strings.Contains(out.String(), "S3cret") {
		t.Errorf("config print:\n%s", out.String())
	}
	for _, cmd := range [][]string{{"serve"}, {"user", "list"}, {"migrate"}} {
		args := append(cmd, "--db", dsn, "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0")
		if cmd[0] != "serve" {
			args = args[:len(args)-2]
		}
		out.Reset()
		errOut.Reset()
		err := run(args, strings.NewReader(""), &out, &errOut)
		if err == nil {
			t.Fatalf("%v accepted a key/value --db", cmd)
		}
		if all := err.Error() + out.String() + errOut.String(); strings.Contains(all, "S3cret") {
			t.Errorf("%v echoes the DSN: %s", cmd, all)
		}
	}
}
