package e2e

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage/postgres/pgtest"
)

// recoveryBound is how long the service may take to answer again once its database is back: the pool opens
// new connections on demand, so it is back at the first request after the database accepts connections.
const recoveryBound = 15 * time.Second

// TestPostgresRestartUnderLoad restarts the PostgreSQL server under issuance and verification load. While it
// is down every surface answers 503 with Retry-After in its own dialect and /readyz answers 503; once it is back
// the service answers again by itself; and every token that was answered 200 verifies afterwards.
//
// The test runs a PostgreSQL server of its own (initdb and pg_ctl, on a free loopback port), so that the
// shared server named by TOKENMANAGER_TEST_PG_DSN, which it requires like every PostgreSQL test, is never
// restarted.
func TestPostgresRestartUnderLoad(t *testing.T) {
	t.Parallel()
	needServer(t)
	pgtest.DSN(t) // the PostgreSQL tests' switch: skips without it, fails under CI=true
	pg := startOwnPostgres(t)

	key := make([]byte, 32)
	rand.Read(key)
	env := []string{"TOKENMANAGER_DB=" + pg.DSN, "TOKENMANAGER_KEY=" + base64.StdEncoding.EncodeToString(key)}
	srv := launchServer(t, &tmServer{DataDir: t.TempDir(), AdminPassword: "admin-" + randomHex(), Env: env})

	// What the surfaces other than Spectrum REST need: an OAuth client, and a license key with an API token.
	client := srv.addClient(t, "", "--scope", "Partner")
	srv.mustCLI(t, "", "vendor", "add", adminUser)
	product := createdID(t, srv.mustCLI(t, "", "product", "add", "Outage App", "--vendor", adminUser), "product")
	licKey := strings.TrimSpace(srv.mustCLI(t, "", "key", "create", "--product", product, "--max-machines", "1000", "--period", "30"))
	licToken := strings.TrimSpace(srv.mustCLI(t, "", "apitoken", "create", "--vendor", adminUser, "--methods", "Activate",
		"--product-lock", product, "--name", "outage test"))

	load := newIssueLoad(srv)
	load.run(4)
	defer load.stop()
	load.waitAcked(t, 20)

	pg.stop(t)
	downAt := load.snapshot()
	if r := do(t, "GET", srv.URL+"/readyz", "", nil); r.Status != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database down: %s; want 503", r)
	}
	if r := do(t, "GET", srv.URL+"/healthz", "", nil); r.Status != http.StatusOK {
		t.Errorf("/healthz with the database down: %s; want 200 (the process is alive)", r)
	}
	// Every surface, in its own dialect (the user cache may answer a sign-in for a moment: retried briefly).
	surfaces := []struct {
		name  string
		call  func() response
		check func(response) error
	}{
		{"Spectrum REST", func() response {
			return get(t, srv.URL+"/security/rest/token/access/60", adminUser, srv.AdminPassword, "", nil)
		}, func(r response) error { return jsonField(r, "error", "service temporarily unavailable; retry later") }},
		{"Spectrum SOAP", func() response {
			h := http.Header{"Content-Type": {"text/xml; charset=utf-8"}, "Soapaction": {`""`},
				"Authorization": {"Basic " + basicValue(adminUser, srv.AdminPassword)}}
			return do(t, "POST", srv.URL+"/security/TokenManagerService",
				`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:tok="http://token.security.common.server.platform.spectrum.pb.com/">`+
					`<soapenv:Body><tok:getAccessToken/></soapenv:Body></soapenv:Envelope>`, h)
		}, func(r response) error {
			if !strings.Contains(string(r.Body), "<faultcode>soap:Server</faultcode><faultstring>service temporarily unavailable; retry later</faultstring>") {
				return fmt.Errorf("not a SOAP Server fault: %q", r.Body)
			}
			return nil
		}},
		{"OAuth", func() response { return srv.oauthToken(t, client.ID, client.Primary, "Partner", nil) },
			func(r response) error { return jsonField(r, "error", "temporarily_unavailable") }},
		{"Cryptolens", func() response {
			return do(t, "POST", srv.URL+"/api/key/Activate", url.Values{"token": {licToken}, "ProductId": {product},
				"Key": {licKey}, "MachineCode": {"outage-machine"}}.Encode(),
				http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
		}, func(r response) error {
			var b struct {
				Result  int    `json:"result"`
				Message string `json:"message"`
			}
			if json.Unmarshal(r.Body, &b) != nil || b.Result != 1 || !strings.Contains(b.Message, "temporarily unavailable") {
				return fmt.Errorf("not a Cryptolens error: %q", r.Body)
			}
			return nil
		}},
	}
	for _, sf := range surfaces {
		eventually(t, sf.name+" with the database down", func() error {
			r := sf.call()
			if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
				return fmt.Errorf("%s; want 503 with Retry-After", r)
			}
			return sf.check(r)
		})
	}
	load.waitStatus(t, downAt, http.StatusServiceUnavailable)

	pg.start(t)
	upAt := time.Now()
	for {
		r := get(t, srv.URL+"/security/rest/token/access/60", adminUser, srv.AdminPassword, "", nil)
		if r.Status == http.StatusOK && do(t, "GET", srv.URL+"/readyz", "", nil).Status == http.StatusOK {
			break
		}
		if time.Since(upAt) > recoveryBound {
			t.Fatalf("not recovered %v after the database came back: %s", recoveryBound, r)
		}
		time.Sleep(50 * time.Millisecond)
	}
	recovered := time.Since(upAt)
	after := load.snapshot()
	load.waitAcked(t, after.acked+20)
	load.stop()

	// Every token answered 200, before, during and after the outage, is in the database.
	final := load.snapshot()
	for _, tok := range load.tokens() {
		if r, _ := srv.verify(t, tok, ""); r.Status != http.StatusOK {
			t.Errorf("an acknowledged token does not verify after the restart: %s", r)
		}
	}
	for _, e := range load.errors() {
		t.Error(e)
	}
	t.Logf("%d tokens acknowledged and verified; answers under load: %v; 503s while down: %d; answering again %v after the database accepted connections",
		final.acked, final.status, final.status[http.StatusServiceUnavailable]-downAt.status[http.StatusServiceUnavailable], recovered.Round(time.Millisecond))
}

// jsonField checks that r's JSON body has the string member name with the value want.
func jsonField(r response, name, want string) error {
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		return fmt.Errorf("body is not JSON: %q", r.Body)
	}
	if m[name] != want {
		return fmt.Errorf("%s = %v, want %q: %q", name, m[name], want, r.Body)
	}
	return nil
}

// issueLoad issues open tokens over Spectrum REST and verifies those it got, from several goroutines, and
// checks every answer: 200, or 503 with Retry-After.
type issueLoad struct {
	srv     *tmServer
	client  *http.Client
	done    chan struct{}
	wg      sync.WaitGroup
	stopped atomic.Bool

	mu     sync.Mutex
	acked  []string
	status map[int]int
	errs   []string
}

type loadSnapshot struct {
	acked  int
	status map[int]int
}

func newIssueLoad(srv *tmServer) *issueLoad {
	return &issueLoad{srv: srv, done: make(chan struct{}), status: map[int]int{},
		client: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}}
}

func (l *issueLoad) run(workers int) {
	for w := range workers {
		l.wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-l.done:
					return
				default:
				}
				if (i+w)%2 == 0 {
					l.issue()
				} else if tok, ok := l.pick(i); ok {
					l.verify(tok)
				}
			}
		})
	}
}

func (l *issueLoad) stop() {
	if l.stopped.CompareAndSwap(false, true) {
		close(l.done)
		l.wg.Wait()
	}
}

func (l *issueLoad) issue() {
	req, _ := http.NewRequest("GET", l.srv.URL+"/security/rest/token/access/60", nil)
	req.SetBasicAuth(adminUser, l.srv.AdminPassword)
	status, h, body, err := l.send(req)
	var rt restToken
	if err == nil && status == http.StatusOK {
		if json.Unmarshal(body, &rt) != nil || !strings.HasPrefix(rt.AccessToken, jwePrefix) {
			l.fail("issue: 200 without a token: %q", body)
			return
		}
	}
	l.record("issue", status, h, err, rt.AccessToken)
}

func (l *issueLoad) verify(tok string) {
	req, _ := http.NewRequest("GET", l.srv.URL+"/security/rest/token/verify", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	status, h, _, err := l.send(req)
	l.record("verify", status, h, err, "")
}

func (l *issueLoad) send(req *http.Request) (int, http.Header, []byte, error) {
	res, err := l.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return res.StatusCode, res.Header, body, err
}

func (l *issueLoad) record(what string, status int, h http.Header, err error, tok string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err != nil:
		l.errs = append(l.errs, fmt.Sprintf("%s: %v", what, err))
		return
	case status == http.StatusServiceUnavailable && h.Get("Retry-After") == "":
		l.errs = append(l.errs, what+": 503 without Retry-After")
	case status != http.StatusOK && status != http.StatusServiceUnavailable:
		l.errs = append(l.errs, fmt.Sprintf("%s: HTTP %d; want 200 or 503", what, status))
	}
	l.status[status]++
	if tok != "" {
		l.acked = append(l.acked, tok)
	}
}

func (l *issueLoad) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, fmt.Sprintf(format, args...))
}

func (l *issueLoad) pick(i int) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.acked) == 0 {
		return "", false
	}
	return l.acked[i%len(l.acked)], true
}

func (l *issueLoad) snapshot() loadSnapshot {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := map[int]int{}
	for k, v := range l.status {
		st[k] = v
	}
	return loadSnapshot{acked: len(l.acked), status: st}
}

func (l *issueLoad) tokens() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.acked)
}

func (l *issueLoad) errors() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.errs[:min(len(l.errs), 20)])
}

// waitAcked waits until n tokens were acknowledged in all (bounded: a minute).
func (l *issueLoad) waitAcked(t *testing.T, n int) {
	t.Helper()
	l.waitFor(t, fmt.Sprintf("%d acknowledged tokens", n), func(s loadSnapshot) bool { return s.acked >= n })
}

// waitStatus waits until the load has seen an answer with status since the snapshot from.
func (l *issueLoad) waitStatus(t *testing.T, from loadSnapshot, status int) {
	t.Helper()
	l.waitFor(t, fmt.Sprintf("an answer %d under load", status), func(s loadSnapshot) bool { return s.status[status] > from.status[status] })
}

func (l *issueLoad) waitFor(t *testing.T, what string, ok func(loadSnapshot) bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !ok(l.snapshot()) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within a minute; answers: %v; errors: %v", what, l.snapshot().status, l.errors())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ownPostgres is a PostgreSQL server the test runs, and may stop and start, in a directory of its own.
type ownPostgres struct {
	DSN     string
	bin     string // the directory of initdb and pg_ctl
	dir     string // data in dir/data, the socket in dir
	port    int
	asUser  []string // runuser -u postgres -- when running as root (PostgreSQL refuses to run as root)
	running bool
}

// startOwnPostgres initializes and starts a PostgreSQL server on a free loopback port, with a password, stopped
// and removed when the test ends. It skips (fails under CI=true) when PostgreSQL's programs are not installed.
func startOwnPostgres(t *testing.T) *ownPostgres {
	t.Helper()
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(versions) == 0 {
		skipOrFatal(t, "PostgreSQL's server programs (/usr/lib/postgresql/VERSION/bin/pg_ctl) are not installed")
	}
	slices.SortFunc(versions, func(a, b string) int { return pgVersion(a) - pgVersion(b) })
	pg := &ownPostgres{bin: filepath.Dir(versions[len(versions)-1])}
	dir, err := os.MkdirTemp("", "tokenmanager-pg-")
	if err != nil {
		t.Fatal(err)
	}
	pg.dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			skipOrFatal(t, "running as root, and there is no postgres user to run a PostgreSQL server as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		pg.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	password := randomHex()
	pwfile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if pg.asUser != nil {
		exec.Command("chown", "postgres", pwfile).Run()
	}
	pg.run(t, "initdb", "-D", filepath.Join(dir, "data"), "-U", "tm", "--pwfile", pwfile, "-A", "scram-sha-256", "--no-sync")
	os.Remove(pwfile)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pg.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	pg.DSN = fmt.Sprintf("postgres://tm:%s@127.0.0.1:%d/postgres?sslmode=disable", password, pg.port)
	pg.start(t)
	t.Cleanup(func() {
		if pg.running {
			pg.stop(t)
		}
	})
	return pg
}

func pgVersion(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

func (pg *ownPostgres) start(t *testing.T) {
	t.Helper()
	pg.run(t, "pg_ctl", "-D", filepath.Join(pg.dir, "data"), "-l", filepath.Join(pg.dir, "log"), "-w", "-t", "60",
		"-o", fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s", pg.port, pg.dir), "start")
	pg.running = true
}

// stop shuts the server down the way an operator's restart does: fast, so that open connections are ended.
func (pg *ownPostgres) stop(t *testing.T) {
	t.Helper()
	pg.run(t, "pg_ctl", "-D", filepath.Join(pg.dir, "data"), "-m", "fast", "-w", "-t", "60", "stop")
	pg.running = false
}

func (pg *ownPostgres) run(t *testing.T, prog string, args ...string) {
	t.Helper()
	argv := append(slices.Clone(pg.asUser), append([]string{filepath.Join(pg.bin, prog)}, args...)...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = pg.dir
	cmd.Env = childEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(pg.dir, "log"))
		t.Fatalf("%s %s: %v\n%s\nserver log:\n%s", prog, strings.Join(args, " "), err, out, log)
	}
}

// TestSQLiteDiskFull fills the disk under a SQLite node (a small tmpfs the test mounts, so it needs root or
// skips; CI runs as root). Writes are answered 503 with Retry-After while no space is left, tokens already
// issued keep verifying, issuing works again once space returns, every acknowledged token verifies, and
// SQLite finds the file whole.
func TestSQLiteDiskFull(t *testing.T) {
	t.Parallel()
	needServer(t)
	mnt, err := os.MkdirTemp("", "tokenmanager-full-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(mnt) })
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", mnt).CombinedOutput(); err != nil {
		skipOrFatal(t, "cannot mount a small tmpfs to fill (needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", mnt, err, out)
		}
	})
	srv := launchServer(t, &tmServer{DataDir: filepath.Join(mnt, "data"), AdminPassword: "admin-" + randomHex()})

	var acked []string
	issue := func() response {
		r, rt := srv.restToken(t, adminUser, srv.AdminPassword, false, 60)
		if r.Status == http.StatusOK {
			acked = append(acked, rt.AccessToken)
		}
		return r
	}
	for range 20 {
		if r := issue(); r.Status != http.StatusOK {
			t.Fatalf("issue with space left: %s", r)
		}
	}

	filler := filepath.Join(mnt, "filler")
	fill(t, filler)
	// SQLite may still append to the room its WAL already has: issue until a write needs more (bounded).
	var full response
	for i := 0; ; i++ {
		if full = issue(); full.Status != http.StatusOK {
			break
		}
		if i == 20000 {
			t.Fatalf("%d tokens issued on a full disk", i)
		}
	}
	if full.Status != http.StatusServiceUnavailable || full.Header.Get("Retry-After") == "" {
		t.Fatalf("issue on a full disk: %s; want 503 with Retry-After", full)
	}
	if err := jsonField(full, "error", "service temporarily unavailable; retry later"); err != nil {
		t.Error(err)
	}
	for range 5 { // it stays refused, not failed differently
		if r := issue(); r.Status != http.StatusServiceUnavailable {
			t.Errorf("issue again on a full disk: %s; want 503", r)
		}
	}
	srv.mustVerify(t, "a token issued before the disk filled", acked[0], "", adminUser, "open")
	logged, _, _ := strings.Cut(srv.out.String()[max(0, strings.Index(srv.out.String(), "database unavailable")):], "\n")
	if !strings.Contains(logged, "database or disk is full") {
		t.Errorf("the log does not say the disk is full: %q", logged)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	eventually(t, "issue once space returns", func() error {
		if r := issue(); r.Status != http.StatusOK {
			return fmt.Errorf("%s", r)
		}
		return nil
	})
	for range 20 { // and keeps working: no transaction was left open on the writer
		if r := issue(); r.Status != http.StatusOK {
			t.Fatalf("issue after space returned: %s", r)
		}
	}
	for _, tok := range acked {
		srv.mustVerify(t, "an acknowledged token", tok, "", adminUser, "open")
	}
	srv.Stop()
	checkSQLite(t, filepath.Join(srv.DataDir, "tokenmanager.db"))
	t.Logf("%d tokens acknowledged around a full disk, all verify; integrity_check ok", len(acked))
}

// fill writes to path until the file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !strings.Contains(err.Error(), "no space left") {
				t.Fatalf("filling the disk: %v", err)
			}
			return
		}
	}
}

// checkSQLite runs SQLite's own checks on the database file at path: integrity and foreign keys.
func checkSQLite(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var integrity string
	if err := db.QueryRowContext(context.Background(), `PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %q, %v", integrity, err)
	}
	rows, err := db.QueryContext(context.Background(), `PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Fatal("foreign_key_check found rows pointing nowhere")
	}
}
