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

// docBlock is the sh block that follows `<!-- marker -->` in doc (a path from the repository's root); the test
// fails if it is gone.
func docBlock(t *testing.T, doc, marker string) string {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("..", doc))
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(text), "<!-- "+marker+" -->\n```sh\n")
	if !ok {
		t.Fatalf("%s has no block marked %s", doc, marker)
	}
	script, _, _ := strings.Cut(block, "```")
	return script
}

// runDocBlock runs, as it stands, the sh block marked marker in doc against srv (runScript), and returns what
// it printed, so that a documented session cannot fall out of date silently.
func runDocBlock(t *testing.T, srv *tmServer, doc, marker, dir string, env ...string) string {
	t.Helper()
	return runScript(t, srv, docBlock(t, doc, marker), dir, env...)
}

// runScript runs script with sh -e against srv: `tokenmanager` on PATH finding srv's data directory, TM its
// URL, env added, in dir (a fresh temporary folder when ""); it returns what the script printed, and fails the
// test if the script fails.
func runScript(t *testing.T, srv *tmServer, script, dir string, env ...string) string {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl")
	}
	bin := t.TempDir()
	if err := os.Symlink(serverBin, filepath.Join(bin, "tokenmanager")); err != nil {
		t.Fatal(err)
	}
	if dir == "" {
		dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-e", "-c", script)
	cmd.Dir = dir
	cmd.Env = childEnv(append(append(srv.Env, "PATH="+bin+":"+os.Getenv("PATH"), "TM="+srv.URL,
		"TOKENMANAGER_DATA_DIR="+srv.DataDir), env...)...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\nscript:\n%s\nstdout:\n%s\nstderr:\n%s", err, script, out.String(), stderr.String())
	}
	return out.String()
}
