package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunEndToEnd runs the whole benchmark, small, against the real binary: every scenario with 1 s windows
// (profiles take whole seconds anyway, and a cold sign-in under a busy `make test` can take half of one), a fill
// of a few thousand rows, profiles. It checks the harness (every figure measured, without errors, the targets
// table complete, the profiles written), never the figures.
func TestRunEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server for about 20 s: skipped with -short")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "tokenmanager")
	// go test puts its own GOROOT/bin first on the PATH of the tests it runs, so this finds the go that runs us.
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command on PATH: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, goBin, "build", "-o", bin, "../tokenmanager")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	profDir := filepath.Join(tmp, "prof")
	o, err := parseFlags([]string{"--bin", bin, "--duration", "1s", "--warmup", "100ms", "--concurrency", "4",
		"--fill-tokens", "3000", "--fill-sessions", "300", "--fill-users", "30",
		"--fill-activations", "500", "--fill-data-objects", "500", "--cold-users", "300", "--cold-concurrency", "2",
		"--profile", profDir, "--json"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(ctx, o, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("JSON: %v\n%s", err, stdout.String())
	}
	if len(rep.Scenarios) != len(allScenarios)-2 { // all but the peer's
		t.Fatalf("%d scenarios ran, want %d", len(rep.Scenarios), len(allScenarios)-2)
	}
	for _, s := range rep.Scenarios {
		// Open loop on a machine busy with the rest of `make test`, the schedule may fall behind: those requests
		// are counted as unsent, and are the only errors allowed.
		allowed := uint64(0)
		if strings.HasSuffix(s.Name, halfPeakSuffix) {
			allowed = s.Unsent
		}
		if s.Skipped != "" || s.Requests == 0 || s.Errors != allowed {
			t.Errorf("%s: %d ok, %d errors, skipped %q, first error %q\n%s", s.Name, s.Requests, s.Errors, s.Skipped, s.FirstError, stderr.String())
		}
		if s.Name == scBaseline {
			continue
		}
		if s.Profile == "" {
			t.Errorf("%s: no profile", s.Name)
			continue
		}
		f, err := os.Open(s.Profile)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f) // a pprof profile is a gzipped protobuf
		if err != nil {
			t.Errorf("%s: %v", s.Profile, err)
		} else if n, _ := io.Copy(io.Discard, zr); n == 0 {
			t.Errorf("%s: empty profile", s.Profile)
		}
		f.Close()
	}
	if len(rep.Targets) != 28 {
		t.Errorf("%d target rows, want 28: %+v", len(rep.Targets), rep.Targets)
	}
	for _, r := range rep.Targets {
		if r.Met == "-" && !strings.HasPrefix(r.What, "client_credentials") { // measured, so evaluated
			t.Errorf("target %s %s not evaluated: %s", r.Figure, r.What, r.Measured)
		}
	}
	if f := rep.Fill; f == nil || f.LiveTokens < 3000 || f.LiveSessions < 300 || f.AfterFill.RSS == 0 || f.End.HWM == 0 {
		t.Errorf("fill report %+v", rep.Fill)
	}
	if f := rep.Fill; f == nil || f.Activations != 500 || f.DataObjects != 500 || f.LicenseKeys != 50 {
		t.Errorf("licensing fill %+v", rep.Fill)
	}
	if rep.Argon2VerifyMs <= 0 || rep.RSASignMs <= 0 || rep.ServerExit != "exit 0" || rep.ServerFlags == "" {
		t.Errorf("argon2 %v ms, server exit %q, flags %q", rep.Argon2VerifyMs, rep.ServerExit, rep.ServerFlags)
	}
}
