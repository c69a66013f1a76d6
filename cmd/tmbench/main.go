// Command tmbench is the load generator behind `make bench`: it measures every figure of the performance
// targets in one run.
//
// It measures an in-process raw net/http handler first (the "physical limit" of the box, as in
// the peer measurements of Ory Hydra), then starts the tokenmanager server as a subprocess on 127.0.0.1 with a fresh data
// dir and drives it at a fixed concurrency for a fixed time per scenario: SOAP getAccessToken (P1), token
// checks (P2), OAuth client credentials and introspection (beside a peer measured in the same run, or Hydra's
// published figures), licensing (Cryptolens Activate signed and not, GetKey, WooCommerce validate, PowerAuth at
// forward-auth, a licensing mix), issuance with a password never verified before (P3); then fills the store with
// a million tokens and 100,000 license activations and data objects, and P1, P2 and the licensing scenarios run
// again (P4); then P1 and P2 run open-loop at half their peak for the p99 (P5). It prints throughput, latency percentiles, CPU use,
// the ratio of each scenario to the baseline, and a table of the targets met and missed.
//
// The load goes through a lean HTTP/1.1 client (rawclient.go), one keep-alive connection per worker, so that
// the load generator takes as little of the machine as it can.
//
// With --db postgres://… the server runs on PostgreSQL (in an empty schema made for the run and dropped after
// it), and with --nodes N as N processes sharing that database and one server key; the workers spread over
// them.
//
//	go run ./cmd/tmbench --bin bin/tokenmanager [--duration 4s] [--warmup 1s]
//	    [--concurrency 32] [--scenarios baseline,verify-bearer] [--json] [--profile DIR]
//	    [--fill-tokens 1000000] [--fill-sessions 100000] [--fill-activations 100000] [--fill-data-objects 100000]
//	    [--cold-users 4000] [--peer-token-url http://127.0.0.1:4444/oauth2/token --peer-client-id ID
//	    --peer-client-secret SECRET [--peer-introspect-url http://127.0.0.1:4445/admin/oauth2/introspect]]
//	    [--db postgres://USER:PASSWORD@127.0.0.1:5432/DB [--nodes 2]]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

type options struct {
	bin             string
	duration        time.Duration
	warmup          time.Duration
	concurrency     int
	scenarios       []string
	notes           []string // what the selection added, and why
	json            bool
	serverLog       string
	soak            time.Duration // > 0: soak mode instead of the benchmarks
	db              string        // PostgreSQL URL, or "" for SQLite
	nodes           int
	profileDir      string
	fillTokens      int
	fillSessions    int
	fillUsers       int
	coldUsers       int
	coldConcurrency int

	// Licensing scenarios and peer measurement (scenarios_licensing.go, fill_licensing.go, peer.go).
	fillActivations int
	fillDataObjects int
	peer            peerOptions
}

func main() {
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "tmbench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills tmbench at once
	}()
	runner := run
	if opts.soak > 0 {
		runner = runSoak
	}
	if err := runner(ctx, opts, os.Stdout, os.Stderr); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "tmbench: interrupted (server stopped, temp dir removed)")
			os.Exit(130)
		}
		fmt.Fprintln(os.Stderr, "tmbench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, errOut io.Writer) (*options, error) {
	fs := flag.NewFlagSet("tmbench", flag.ContinueOnError)
	fs.SetOutput(errOut)
	o := &options{}
	var scen string
	fs.StringVar(&o.bin, "bin", "bin/tokenmanager", "tokenmanager `binary` to start with `serve`")
	// 4 s, not 5: with the licensing scenarios and their fill, 4 s windows keep `make bench` near 8 minutes.
	fs.DurationVar(&o.duration, "duration", 4*time.Second, "measured time per scenario")
	fs.DurationVar(&o.warmup, "warmup", 1*time.Second, "unmeasured warm-up before each scenario")
	fs.IntVar(&o.concurrency, "concurrency", 32, "concurrent workers (each keeps one connection busy; open-loop P5: connections)")
	fs.StringVar(&scen, "scenarios", "all", "comma-separated scenarios to run (with the ones their figures need): "+strings.Join(scenarioNames(), ", "))
	fs.BoolVar(&o.json, "json", false, "print the results as JSON on stdout")
	fs.DurationVar(&o.soak, "soak", 0, "run the soak test for this long instead of the benchmarks (mixed load over every dialect)")
	fs.StringVar(&o.serverLog, "server-log", "", "keep the server's stdout/stderr in this `file` (default: a temp file, removed; node N>1: file.nodeN)")
	fs.StringVar(&o.db, "db", "", "run the server on this PostgreSQL `url` (postgres://…), in an empty schema made for the run and dropped after it (default: SQLite)")
	fs.IntVar(&o.nodes, "nodes", 1, "server processes sharing the --db database (and one server key); workers spread over them")
	fs.StringVar(&o.profileDir, "profile", "", "save a CPU profile of the server over each server scenario's window to `dir`/<scenario>.pprof (first node)")
	fs.IntVar(&o.fillTokens, "fill-tokens", defaultFillTokens, "P4: live tokens written into the store before the *-full scenarios (0 with --fill-sessions 0: no P4)")
	fs.IntVar(&o.fillSessions, "fill-sessions", defaultFillSessions, "P4: live sessions written into the store")
	fs.IntVar(&o.fillUsers, "fill-users", defaultFillUsers, "P4: users the filled tokens and sessions belong to")
	fs.IntVar(&o.coldUsers, "cold-users", defaultColdUsers, "P3: users with never-verified passwords made for cold-issuance (one per request)")
	fs.IntVar(&o.coldConcurrency, "cold-concurrency", 2*runtime.NumCPU(), "P3: workers for cold-issuance (each request holds 19 MiB of argon2id memory in the server)")
	fs.IntVar(&o.fillActivations, "fill-activations", defaultFillActivations, "P4: license activations written into the store (on keys of the licensing scenarios' product)")
	fs.IntVar(&o.fillDataObjects, "fill-data-objects", defaultFillDataObjects, "P4: data objects written into the store (on those keys and their machines)")
	o.peer.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.duration <= 0 || o.duration > time.Hour {
		return nil, fmt.Errorf("--duration must be in (0, 1h], got %v", o.duration)
	}
	if o.warmup < 0 || o.warmup > time.Hour {
		return nil, fmt.Errorf("--warmup must be in [0, 1h], got %v", o.warmup)
	}
	if o.concurrency < 1 || o.concurrency > 10000 {
		return nil, fmt.Errorf("--concurrency must be in [1, 10000], got %d", o.concurrency)
	}
	if o.coldConcurrency < 1 || o.coldConcurrency > 1000 {
		return nil, fmt.Errorf("--cold-concurrency must be in [1, 1000], got %d", o.coldConcurrency)
	}
	for _, f := range []struct {
		name string
		v    int
		max  int
	}{{"fill-tokens", o.fillTokens, 20_000_000}, {"fill-sessions", o.fillSessions, 5_000_000},
		{"cold-users", o.coldUsers, 1_000_000}, {"fill-activations", o.fillActivations, 5_000_000},
		{"fill-data-objects", o.fillDataObjects, 5_000_000}} {
		if f.v < 0 || f.v > f.max {
			return nil, fmt.Errorf("--%s must be in [0, %d], got %d", f.name, f.max, f.v)
		}
	}
	if o.fillUsers < 1 || o.fillUsers > 1_000_000 {
		return nil, fmt.Errorf("--fill-users must be in [1, 1000000], got %d", o.fillUsers)
	}
	if o.db != "" && !strings.HasPrefix(o.db, "postgres://") && !strings.HasPrefix(o.db, "postgresql://") {
		return nil, errors.New("--db must be a postgres:// URL")
	}
	if o.nodes < 1 || o.nodes > 8 {
		return nil, fmt.Errorf("--nodes must be in [1, 8], got %d", o.nodes)
	}
	if o.nodes > 1 && o.db == "" {
		return nil, errors.New("--nodes > 1 needs a database they share: --db postgres://…")
	}
	if err := o.peer.check(); err != nil {
		return nil, err
	}
	var err error
	if o.scenarios, o.notes, err = selectScenarios(scen, o.fillTokens > 0 || o.fillSessions > 0 || o.fillActivations > 0 || o.fillDataObjects > 0); err != nil {
		return nil, err
	}
	if o.scenarios, err = o.peer.selection(scen, o.scenarios); err != nil {
		return nil, err
	}
	return o, nil
}

// benchEnv is what scenarios can reach.
type benchEnv struct {
	o           *options
	logf        func(string, ...any)
	baselineURL string
	srv         *serverProc   // the first node: scenarios set up through it
	nodes       []*serverProc // every node, srv first
	client      *http.Client  // for setup calls
	dsn         string        // the run's PostgreSQL schema, or "" for SQLite
	store       storage.Store // the server's store, opened by tmbench on first use (see openStore)
	results     map[string]scenarioReport
	oauth       *oauthCreds
	prof        *profiler // nil without --profile
	rep         *report
	serverEnv   []string         // the nodes' added environment (PostgreSQL: database and server key), for the CLI
	lic         *licensingSetup  // the licensing scenarios' data, made on first use
	peerCreds   *peerCredentials // the peer's client, checked on first use
}

// templates is tmpl for each node: the same request sent to each node's address.
func (e *benchEnv) templates(tmpl *reqTemplate) []*reqTemplate {
	out := []*reqTemplate{tmpl}
	for _, n := range e.nodes[1:] {
		c := *tmpl
		c.URL = strings.Replace(tmpl.URL, "//"+e.srv.Addr+"/", "//"+n.Addr+"/", 1)
		out = append(out, &c)
	}
	return out
}

// pids are the server processes' ids.
func (e *benchEnv) pids() []int {
	var out []int
	for _, n := range e.nodes {
		out = append(out, n.Pid())
	}
	return out
}

func (e *benchEnv) serverURL(path string) string { return "http://" + e.srv.Addr + path }

func (e *benchEnv) basicAuth() string { return basic("admin", e.srv.Password) }

// baselineBody is a constant token-shaped JSON reply, like the peer measurements'
// baseline /token.
var baselineBody = []byte(`{"access_token":"eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..q8bS3kHcdzXfSHGSaV2Bfw.bm90LWEtcmVhbC10b2tlbg","expires_in":3600,"scope":"read write","token_type":"bearer","issued_at":1764000000}`)

func baselineHandler(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Cache-Control"] = []string{"no-store"}
	h["Content-Length"] = []string{strconv.Itoa(len(baselineBody))}
	w.Write(baselineBody)
}

// startBaseline serves baselineHandler on 127.0.0.1:0.
func startBaseline() (url string, shutdown func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(baselineHandler),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String() + "/token", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// serverArgs are the flags every node gets besides listen, data dir and addr file: the per-client OAuth
// issuance limit is lifted (its default, 10 tokens then one a minute, would make oauth-client-credentials
// measure 429s), and so are the limits on signed licenses per API token and per client address (their
// defaults, 600 at once then 50/s and 60 at once then 1/s, would make license-activate-signed measure 429s).
var serverArgs = []string{"--client-rate-interval", "0", "--sign-limit-token", "0", "--sign-limit-address", "0"}

func run(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	rep := &report{
		GoVersion:   runtime.Version(),
		OSArch:      runtime.GOOS + "/" + runtime.GOARCH,
		GOMAXPROCS:  runtime.GOMAXPROCS(0),
		NumCPU:      runtime.NumCPU(),
		Concurrency: o.concurrency,
		WarmupSec:   o.warmup.Seconds(),
		DurationSec: o.duration.Seconds(),
		DB:          "sqlite",
		Nodes:       o.nodes,
		Notes:       append([]string(nil), o.notes...),
		PeerName:    o.peer.name,
	}
	if o.db != "" {
		rep.DB = "postgresql"
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "tmbench: "+format+"\n", args...) }
	for _, n := range o.notes {
		logf("%s", n)
	}

	env := &benchEnv{o: o, logf: logf, client: &http.Client{Transport: newTransport(2)}, results: map[string]scenarioReport{}, rep: rep}
	defer env.client.CloseIdleConnections()
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return fmt.Errorf("--profile: %w", err)
		}
	}

	baseURL, stopBaseline, err := startBaseline()
	if err != nil {
		return fmt.Errorf("baseline listener: %w", err)
	}
	defer stopBaseline()
	env.baselineURL = baseURL

	// Tear down in order: tmbench's handle on the store, the nodes, the run's schema.
	var dropDB func()
	defer func() {
		env.closeStore()
		for _, n := range env.nodes {
			if err := n.stop(10 * time.Second); err != nil {
				logf("stopping server: %v", err)
			}
		}
		if dropDB != nil {
			dropDB()
		}
	}()

	anyErrors := false
	fillEndRead := false // rep.Fill.End taken (before cold-issuance)
	for i, name := range o.scenarios {
		sc, _ := findScenario(name)
		if sc.server && env.srv == nil {
			if dropDB, err = env.startNodes(ctx); err != nil {
				return err
			}
		}
		if sc.full && rep.Fill == nil {
			if err := env.fill(ctx); err != nil {
				return err
			}
		}
		if name == scCold && rep.Fill != nil && !fillEndRead {
			// P4's memory is the store's, read before the sign-in burst that runs last.
			fillEndRead = true
			if m, err := readMemory(env.srv.Pid()); err != nil {
				rep.Fill.EndError = err.Error()
			} else {
				rep.Fill.End = m
			}
		}
		sr, err := runScenario(ctx, sc, env, fmt.Sprintf("[%d/%d] %s", i+1, len(o.scenarios), name))
		if err != nil {
			return err
		}
		anyErrors = anyErrors || sr.Errors > 0 || sr.Skipped != ""
		env.results[name] = sr
		rep.Scenarios = append(rep.Scenarios, sr)
	}

	if env.srv != nil {
		if rss, err := env.srv.PeakRSS(); err != nil {
			rep.ServerPeakRSSError = err.Error()
		} else {
			rep.ServerPeakRSSBytes = max(rss, rep.peakBeforeReset)
		}
		if rep.Fill != nil && !fillEndRead {
			if rep.Fill.End, err = readMemory(env.srv.Pid()); err != nil {
				rep.Fill.EndError = err.Error()
			}
		}
		if anyErrors && !o.json {
			fmt.Fprintln(stderr, env.srv.logTail(20))
		}
		env.closeStore()
		for _, n := range env.nodes {
			if err := n.stop(10 * time.Second); err != nil {
				logf("stopping server: %v", err)
			}
		}
		rep.ServerExit = env.srv.exitStatus()
	}

	rep.fillRatios()
	rep.Targets = evaluateTargets(rep)
	if o.json {
		return rep.writeJSON(stdout)
	}
	fmt.Fprintln(stdout)
	rep.writeText(stdout)
	return nil
}

// startNodes prepares the database and starts the server nodes; the returned function drops the run's
// PostgreSQL schema.
func (e *benchEnv) startNodes(ctx context.Context) (func(), error) {
	o := e.o
	serverEnv, dsn, dropDB, err := prepareDatabase(ctx, o.db, e.logf)
	if err != nil {
		return nil, err
	}
	e.dsn, e.serverEnv = dsn, serverEnv
	for i := range o.nodes {
		logPath := o.serverLog
		if i > 0 && logPath != "" {
			logPath = fmt.Sprintf("%s.node%d", logPath, i+1)
		}
		args := serverArgs
		if i == 0 && o.profileDir != "" {
			addr, err := freeLoopbackAddr()
			if err != nil {
				return dropDB, err
			}
			args = append(append([]string(nil), args...), "--pprof-addr", addr)
			e.prof = &profiler{dir: o.profileDir, addr: addr, client: e.client}
		}
		e.logf("starting %s serve, node %d of %d (addr file, up to 20s)", o.bin, i+1, o.nodes)
		srv, err := startServer(ctx, o.bin, logPath, 20*time.Second, serverEnv, args...)
		if err != nil {
			return dropDB, err
		}
		e.nodes = append(e.nodes, srv)
		e.logf("server pid %d listening on %s", srv.Pid(), srv.Addr)
	}
	e.srv = e.nodes[0]
	e.rep.ServerPID = e.srv.Pid()
	e.rep.ServerFlags = strings.Join(serverArgs, " ")
	e.logf("per-client OAuth token rate limit and signed-license limits lifted for the run: serve %s (defaults: 10 tokens, then 1 a minute; 600 signed at once per token then 50/s, 60 per address then 1/s)", e.rep.ServerFlags)
	if e.prof != nil {
		e.logf("CPU profiles of node 1 (pprof on %s) go to %s/<scenario>.pprof", e.prof.addr, e.prof.dir)
	}
	return dropDB, nil
}

func runScenario(ctx context.Context, sc scenario, env *benchEnv, label string) (scenarioReport, error) {
	o, logf := env.o, env.logf
	workers := o.concurrency
	if sc.workers != nil {
		workers = sc.workers(o)
	}
	skip := func(why string) (scenarioReport, error) {
		logf("%s: %s", label, why)
		return scenarioReport{Name: sc.name, Concurrency: workers, Skipped: why}, nil
	}
	cfg := loadConfig{Concurrency: workers, Warmup: o.warmup, Duration: o.duration}
	if sc.rate != nil {
		rate, err := sc.rate(env)
		if err != nil {
			return skip(err.Error())
		}
		cfg.Rate = rate
		cfg.Grace = min(max(time.Second, o.duration), 5*time.Second)
	}
	tmpl, err := sc.setup(ctx, env)
	if err != nil {
		if ctx.Err() != nil {
			return scenarioReport{}, ctx.Err()
		}
		return skip("setup failed: " + err.Error())
	}
	// One request first, so a broken endpoint is reported instead of hammered for the whole duration.
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	perr := probe(pctx, tmpl)
	cancel()
	if ctx.Err() != nil {
		return scenarioReport{}, ctx.Err()
	}
	if perr != "" {
		return skip("probe failed: " + perr)
	}

	tmpls := []*reqTemplate{tmpl}
	var pids []int
	if sc.server {
		tmpls, pids = env.templates(tmpl), env.pids()
	}
	var cpu0, cpu1 cpuSample
	var profile *profileRun
	cfg.AtWindowStart = func() {
		cpu0 = takeCPUSample(pids...)
		if sc.server && env.prof != nil {
			profile = env.prof.start(ctx, sc.name, o.duration)
		}
	}
	var mem memory
	cfg.AtWindowEnd = func() {
		cpu1 = takeCPUSample(pids...)
		if sc.server {
			mem, _ = readMemory(env.srv.Pid()) // zero (shown as "-") when /proc cannot be read
		}
	}
	if cfg.Rate > 0 {
		logf("%s: open loop at %.0f req/s over %d connections and %d target(s), warm-up %v, measuring %v", label, cfg.Rate, workers, len(tmpls), o.warmup, o.duration)
	} else {
		logf("%s: %d workers over %d target(s), warm-up %v, measuring %v", label, workers, len(tmpls), o.warmup, o.duration)
	}
	res, err := runLoad(ctx, tmpls, cfg)
	if err != nil {
		return scenarioReport{}, err
	}
	sr := newScenarioReport(sc.name, res)
	sr.Concurrency, sr.Rate, sr.ServerRSSBytes = workers, cfg.Rate, mem.RSS
	if u, ok := cpuBetween(cpu0, cpu1); ok {
		sr.CPU = &u
		if !sc.server {
			sr.CPU.Srv = 0 // the baseline server runs inside tmbench: counted in Own
		}
	}
	if profile != nil {
		if sr.Profile, err = profile.wait(); err != nil {
			logf("%s: profile: %v", label, err)
			sr.Profile = ""
		}
	}
	logf("%s: %d ok, %d errors, %.0f req/s, p99 %v", label, sr.Requests, sr.Errors, sr.RPS, fmtLatency(time.Duration(sr.P99us*1e3)))
	if sr.FirstError != "" {
		logf("%s: first error: %s", label, sr.FirstError)
	}
	return sr, nil
}

// freeLoopbackAddr returns 127.0.0.1:PORT with a port that was free a moment ago.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
