package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// serverProc is the tokenmanager server under test, run as a subprocess.
type serverProc struct {
	cmd      *exec.Cmd
	dir      string // temp dir holding data dir, addr file and log
	logPath  string
	Addr     string // host:port from the addr file
	Password string // admin password
	exited   chan struct{}
	waitErr  error
}

// startServer runs `<bin> serve` on 127.0.0.1:0 with a fresh data dir and
// waits (at most startTimeout) until it writes its address to the addr file.
// logPath, when not empty, receives the server's stdout and stderr and is
// kept; otherwise they go to a file inside the temp dir. env is added to the
// server's environment (TOKENMANAGER_DB and _KEY for a cluster node), args to its serve flags.
func startServer(ctx context.Context, bin, logPath string, startTimeout time.Duration, env []string, args ...string) (*serverProc, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("server binary: %w (build it with `make build`)", err)
	}
	dir, err := os.MkdirTemp("", "tmbench-*")
	if err != nil {
		return nil, err
	}
	s := &serverProc{dir: dir, exited: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			s.stop(5 * time.Second)
		}
	}()

	dataDir := s.DataDir()
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		return nil, err
	}
	addrFile := filepath.Join(dir, "addr")
	if logPath == "" {
		logPath = filepath.Join(dir, "server.log")
	}
	s.logPath = logPath
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own copy

	s.Password, err = randomPassword()
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, append([]string{"serve",
		"--listen", "127.0.0.1:0",
		"--data-dir", dataDir,
		"--addr-file", addrFile}, args...)...)
	s.cmd.Env = append(withoutEnv(withoutEnv(withoutEnv(os.Environ(), "TOKENMANAGER_ADMIN_PASSWORD"), "TOKENMANAGER_DB"), "TOKENMANAGER_KEY"),
		"TOKENMANAGER_ADMIN_PASSWORD="+s.Password)
	s.cmd.Env = append(s.cmd.Env, env...)
	s.cmd.Stdout = logf
	s.cmd.Stderr = logf
	s.cmd.SysProcAttr = childSysProcAttr()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()

	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if addr, err := readAddrFile(addrFile); err == nil {
			s.Addr = addr
			ok = true
			return s, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.exited:
			return nil, fmt.Errorf("server exited before writing %s: %v\n%s", addrFile, s.waitErr, s.logTail(20))
		case <-deadline.C:
			return nil, fmt.Errorf("server did not write %s within %v\n%s", addrFile, startTimeout, s.logTail(20))
		case <-tick.C:
		}
	}
}

// readAddrFile returns the loopback host:port in path, or an error while the
// file is missing, empty, partially written or names another host.
func readAddrFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	addr := strings.TrimSpace(string(b))
	if addr == "" {
		return "", errors.New("empty addr file")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return "", fmt.Errorf("bad port in %q", addr)
	}
	if host != "127.0.0.1" {
		return "", fmt.Errorf("addr file names %q, want 127.0.0.1", addr)
	}
	return addr, nil
}

func randomPassword() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func withoutEnv(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// Pid returns the server's process id.
func (s *serverProc) Pid() int { return s.cmd.Process.Pid }

// DataDir is the server's data directory (SQLite: tokenmanager.db in it).
func (s *serverProc) DataDir() string { return filepath.Join(s.dir, "data") }

// PeakRSS returns VmHWM of the running server in bytes.
func (s *serverProc) PeakRSS() (uint64, error) {
	m, err := readMemory(s.Pid())
	if err != nil {
		return 0, err
	}
	return m.HWM, nil
}

// memory is a process's resident memory from /proc/<pid>/status.
type memory struct {
	RSS uint64 `json:"vm_rss_bytes"` // VmRSS: resident now
	HWM uint64 `json:"vm_hwm_bytes"` // VmHWM: the peak of VmRSS (since start, or since resetPeakRSS)
}

func readMemory(pid int) (memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	var m memory
	if m.RSS, err = parseStatusKB(b, "VmRSS"); err != nil {
		return memory{}, err
	}
	if m.HWM, err = parseStatusKB(b, "VmHWM"); err != nil {
		return memory{}, err
	}
	return m, nil
}

// resetPeakRSS sets the process's VmHWM back to its VmRSS (Linux: "5" to /proc/<pid>/clear_refs), so that a
// later VmHWM is the peak since now.
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// parseStatusKB extracts "<field>: <n> kB" from /proc/<pid>/status, in bytes.
func parseStatusKB(status []byte, field string) (uint64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("unexpected %s line %q", field, line)
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unexpected %s line %q: %w", field, line, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("no %s line in status", field)
}

// stop sends SIGTERM, waits up to timeout, then SIGKILLs, and removes the
// temp dir (the log too, unless it lives outside it).
func (s *serverProc) stop(timeout time.Duration) error {
	var err error
	if s.cmd != nil && s.cmd.Process != nil {
		select {
		case <-s.exited:
		default:
			_ = s.cmd.Process.Signal(syscall.SIGTERM)
			t := time.NewTimer(timeout)
			select {
			case <-s.exited:
			case <-t.C:
				_ = s.cmd.Process.Kill()
				<-s.exited
				err = fmt.Errorf("server ignored SIGTERM for %v; killed", timeout)
			}
			t.Stop()
		}
	}
	if s.dir != "" {
		if rmErr := os.RemoveAll(s.dir); rmErr != nil && err == nil {
			err = rmErr
		}
	}
	return err
}

// exitStatus describes how the server ended (after stop).
func (s *serverProc) exitStatus() string {
	select {
	case <-s.exited:
	default:
		return "running"
	}
	if s.waitErr == nil {
		return "exit 0"
	}
	return s.waitErr.Error()
}

// logTail returns the last n lines of the server log.
func (s *serverProc) logTail(n int) string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return "(no server log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "--- server log (last lines) ---\n" + strings.Join(lines, "\n")
}
