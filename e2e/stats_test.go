package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestStatsExample runs the stats session of docs/management-api.md against a real server: a token issued, the
// overview with it live, a chart, a bad parameter. Then the server stops (SIGTERM) and starts again on the same
// data: the token is in the history, written by the counter's last flush at shutdown if not before.
func TestStatsExample(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl")
	}
	doc, err := os.ReadFile("../docs/management-api.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(doc), "<!-- stats-example -->\n```sh\n")
	if !ok {
		t.Fatal("docs/management-api.md has no stats example")
	}
	script, _, _ := strings.Cut(block, "```")
	srv := startServer(t)
	bin := t.TempDir()
	if err := os.Symlink(serverBin, filepath.Join(bin, "tokenmanager")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-e", "-c", script)
	cmd.Dir = t.TempDir() // the chart is written here
	cmd.Env = childEnv(append(srv.Env, "PATH="+bin+":"+os.Getenv("PATH"), "TM="+srv.URL, "TOKENMANAGER_DATA_DIR="+srv.DataDir)...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the stats example: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), stderr.String())
	}
	got := out.String()
	for _, want := range []string{`"live":{"tokens":1,`, `"tokens_per_hour":[`, `"activations_per_day":{`, "200 image/svg+xml\n", `"field":"hours"`} {
		if !strings.Contains(got, want) {
			t.Errorf("the example's output lacks %s:\n%s", want, got)
		}
	}
	svg, err := os.ReadFile(filepath.Join(cmd.Dir, "tokens.svg"))
	if err != nil || !bytes.HasPrefix(svg, []byte("<svg ")) || !bytes.Contains(svg, []byte("<title")) {
		t.Fatalf("tokens.svg: %v %.200s", err, svg)
	}

	srv.Stop()
	again := launchServer(t, &tmServer{DataDir: srv.DataDir, AdminPassword: srv.AdminPassword})
	r := get(t, again.URL+"/admin/v1/stats?hours=3", "admin", srv.AdminPassword, "", nil)
	var s struct {
		TokensPerHour []struct{ Open int } `json:"tokens_per_hour"`
	}
	if r.Status != 200 || json.Unmarshal(r.Body, &s) != nil {
		t.Fatalf("stats after a restart: %v", r)
	}
	open := 0
	for _, h := range s.TokensPerHour {
		open += h.Open
	}
	if open != 1 {
		t.Fatalf("after a restart the history holds %d open tokens, want 1: %s", open, r.Body)
	}
}
