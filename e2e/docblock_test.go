package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runDocBlock runs, as it stands, the sh block that follows `<!-- marker -->` in doc (a path from the
// repository's root) against srv: `tokenmanager` on PATH finding srv's data directory, TM its URL, env added,
// in dir (a fresh temporary folder when ""), and returns what it printed. The test fails if the block is gone
// or fails, so a documented session cannot fall out of date silently.
func runDocBlock(t *testing.T, srv *tmServer, doc, marker, dir string, env ...string) string {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl")
	}
	text, err := os.ReadFile(filepath.Join("..", doc))
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(text), "<!-- "+marker+" -->\n```sh\n")
	if !ok {
		t.Fatalf("%s has no block marked %s", doc, marker)
	}
	script, _, _ := strings.Cut(block, "```")
	bin := t.TempDir()
	if err := os.Symlink(serverBin, filepath.Join(bin, "tokenmanager")); err != nil {
		t.Fatal(err)
	}
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-e", "-c", script)
	cmd.Dir = dir
	cmd.Env = childEnv(append(append(srv.Env, "PATH="+bin+":"+os.Getenv("PATH"), "TM="+srv.URL,
		"TOKENMANAGER_DATA_DIR="+srv.DataDir), env...)...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s, block %s: %v\nstdout:\n%s\nstderr:\n%s", doc, marker, err, out.String(), stderr.String())
	}
	return out.String()
}
