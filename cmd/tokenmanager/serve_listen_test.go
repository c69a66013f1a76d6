package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeBusyPortCreatesNothing: serve binds --listen before it opens the database, so a port already taken
// fails at once with a plain message and leaves no data directory, server key or admin password behind.
func TestServeBusyPortCreatesNothing(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dataDir := filepath.Join(t.TempDir(), "data")
	t.Setenv("TOKENMANAGER_ADMIN_PASSWORD", "")
	_, _, err = runCLI(t, "serve", "--listen", busy.Addr().String(), "--data-dir", dataDir)
	if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), "--listen") {
		t.Fatalf("serve on a busy port: %v", err)
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Fatalf("serve on a busy port left %s behind (%v)", dataDir, err)
	}
}
