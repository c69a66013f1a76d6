package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStatsExample runs the stats session of docs/management-api.md against a real server: a token issued, the
// overview with it live, a chart, a bad parameter. Then the server stops (SIGTERM) and starts again on the same
// data: the token is in the history, written by the counter's last flush at shutdown if not before.
func TestStatsExample(t *testing.T) {
	srv := startServer(t)
	dir := t.TempDir() // the chart is written here
	got := runDocBlock(t, srv, "docs/management-api.md", "stats-example", dir)
	for _, want := range []string{`"live":{"tokens":1,`, `"tokens_per_hour":[`, `"activations_per_day":{`, "200 image/svg+xml\n", `"field":"hours"`} {
		if !strings.Contains(got, want) {
			t.Errorf("the example's output lacks %s:\n%s", want, got)
		}
	}
	svg, err := os.ReadFile(filepath.Join(dir, "tokens.svg"))
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
