// Command tmbench is the load generator behind `make bench`.
//
// It measures an in-process raw net/http handler first (the "physical limit"
// of the box, as in reference/peer-bench.md), then starts the tokenmanager
// server as a subprocess on 127.0.0.1 with a fresh data dir and drives its
// Spectrum TokenManagerService endpoints at a fixed concurrency for a fixed
// time, and prints throughput, latency percentiles and the ratio of each
// scenario's req/s to the baseline.
//
// With --db postgres://… the server runs on PostgreSQL (in an empty schema
// made for the run and dropped after it), and with --nodes N as N processes
// sharing that database and one server key, the workers spread over them.
//
//	go run ./cmd/tmbench --bin bin/tokenmanager [--duration 5s] [--warmup 1s]
//	    [--concurrency 32] [--scenarios baseline,verify-bearer] [--json]
//	    [--db postgres://USER:PASSWORD@127.0.0.1:5432/DB [--nodes 2]]
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	bin         string
	duration    time.Duration
	warmup      time.Duration
	concurrency int
	scenarios   []string
	json        bool
	serverLog   string
	soak        time.Duration // > 0: soak mode instead of the benchmarks
	db          string        // PostgreSQL URL, or "" for SQLite
	nodes       int
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
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "measured time per scenario")
	fs.DurationVar(&o.warmup, "warmup", 1*time.Second, "unmeasured warm-up before each scenario")
	fs.IntVar(&o.concurrency, "concurrency", 32, "concurrent workers (each keeps one connection busy)")
	fs.StringVar(&scen, "scenarios", "all", "comma-separated scenarios to run: "+strings.Join(scenarioNames(), ", "))
	fs.BoolVar(&o.json, "json", false, "print the results as JSON on stdout")
	fs.DurationVar(&o.soak, "soak", 0, "run the soak test for this long instead of the benchmarks (mixed load over every dialect)")
	fs.StringVar(&o.serverLog, "server-log", "", "keep the server's stdout/stderr in this `file` (default: a temp file, removed; node N>1: file.nodeN)")
	fs.StringVar(&o.db, "db", "", "run the server on this PostgreSQL `url` (postgres://…), in an empty schema made for the run and dropped after it (default: SQLite)")
	fs.IntVar(&o.nodes, "nodes", 1, "server processes sharing the --db database (and one server key); workers spread over them")
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
	if o.db != "" && !strings.HasPrefix(o.db, "postgres://") && !strings.HasPrefix(o.db, "postgresql://") {
		return nil, errors.New("--db must be a postgres:// URL")
	}
	if o.nodes < 1 || o.nodes > 8 {
		return nil, fmt.Errorf("--nodes must be in [1, 8], got %d", o.nodes)
	}
	if o.nodes > 1 && o.db == "" {
		return nil, errors.New("--nodes > 1 needs a database they share: --db postgres://…")
	}
	var err error
	if o.scenarios, err = selectScenarios(scen); err != nil {
		return nil, err
	}
	return o, nil
}

// scenario is one benchmark: setup returns the request each worker repeats.
type scenario struct {
	name   string
	server bool // needs the tokenmanager subprocess
	setup  func(ctx context.Context, e *benchEnv) (*reqTemplate, error)
}

// benchEnv is what scenarios can reach.
type benchEnv struct {
	baselineURL string
	srv         *serverProc   // the first node: scenarios set up through it
	nodes       []*serverProc // every node, srv first
	client      *http.Client  // for setup calls
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

func (e *benchEnv) basicAuth() string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+e.srv.Password))
}

const soapGetAccessToken = `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:tok="http://token.security.common.server.platform.spectrum.pb.com/"><soapenv:Header/><soapenv:Body><tok:getAccessToken/></soapenv:Body></soapenv:Envelope>`

// allScenarios is in run order; the baseline goes first.
var allScenarios = []scenario{
	{name: "baseline", setup: func(_ context.Context, e *benchEnv) (*reqTemplate, error) {
		return &reqTemplate{Method: http.MethodGet, URL: e.baselineURL, Header: http.Header{}}, nil
	}},
	{name: "soap-getAccessToken", server: true, setup: func(_ context.Context, e *benchEnv) (*reqTemplate, error) {
		return &reqTemplate{
			Method: http.MethodPost,
			URL:    e.serverURL("/security/TokenManagerService"),
			Header: http.Header{
				"Content-Type":  {"text/xml; charset=utf-8"},
				"SOAPAction":    {`""`}, // sent with this exact spelling
				"Authorization": {e.basicAuth()},
			},
			Body: []byte(soapGetAccessToken),
		}, nil
	}},
	{name: "verify-bearer", server: true, setup: func(ctx context.Context, e *benchEnv) (*reqTemplate, error) {
		tok, err := e.fetchToken(ctx, "/security/rest/token/access/60", false)
		if err != nil {
			return nil, err
		}
		return &reqTemplate{
			Method: http.MethodGet,
			URL:    e.serverURL("/security/rest/token/verify"),
			Header: http.Header{"Authorization": {"Bearer " + tok.AccessToken}},
		}, nil
	}},
	{name: "verify-bearer-session", server: true, setup: func(ctx context.Context, e *benchEnv) (*reqTemplate, error) {
		tok, err := e.fetchToken(ctx, "/security/rest/token/access/session/0", true)
		if err != nil {
			return nil, err
		}
		return &reqTemplate{
			Method: http.MethodGet,
			URL:    e.serverURL("/security/rest/token/verify"),
			Header: http.Header{
				"Authorization": {"Bearer " + tok.AccessToken},
				"Cookie":        {"SESSION=" + tok.Session},
			},
		}, nil
	}},
	{name: "rest-session-token", server: true, setup: func(_ context.Context, e *benchEnv) (*reqTemplate, error) {
		return &reqTemplate{
			Method: http.MethodGet,
			URL:    e.serverURL("/security/rest/token/access/session/60"),
			Header: http.Header{"Authorization": {e.basicAuth()}},
		}, nil
	}},
}

func scenarioNames() []string {
	var names []string
	for _, s := range allScenarios {
		names = append(names, s.name)
	}
	return names
}

// selectScenarios parses the --scenarios list; the result keeps run order.
func selectScenarios(list string) ([]string, error) {
	want := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		switch {
		case n == "":
		case n == "all":
			for _, s := range allScenarios {
				want[s.name] = true
			}
		default:
			found := false
			for _, s := range allScenarios {
				found = found || s.name == n
			}
			if !found {
				return nil, fmt.Errorf("unknown scenario %q (have: %s)", n, strings.Join(scenarioNames(), ", "))
			}
			want[n] = true
		}
	}
	var out []string
	for _, s := range allScenarios {
		if want[s.name] {
			out = append(out, s.name)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no scenarios selected")
	}
	return out, nil
}

type tokenReply struct {
	AccessToken string `json:"access_token"`
	Session     string `json:"session"`
	Username    string `json:"username"`
}

// fetchToken GETs a REST token URL with Basic admin and decodes the reply.
func (e *benchEnv) fetchToken(ctx context.Context, path string, wantSession bool) (*tokenReply, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.serverURL(path), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", e.basicAuth())
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: reading body: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, describeHTTPError(resp, body[:min(len(body), 512)]))
	}
	var tok tokenReply
	if err := json.Unmarshal(body, &tok); err != nil {
		return nil, fmt.Errorf("GET %s: decoding %q: %w", path, body, err)
	}
	if tok.AccessToken == "" || (wantSession && tok.Session == "") {
		return nil, fmt.Errorf("GET %s: missing access_token or session in %s", path, body)
	}
	return &tok, nil
}

// baselineBody is a constant token-shaped JSON reply, like peer-bench.md's
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
	}
	if o.db != "" {
		rep.DB = "postgresql"
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "tmbench: "+format+"\n", args...) }

	env := &benchEnv{client: &http.Client{Transport: newTransport(2)}}
	defer env.client.CloseIdleConnections()

	baseURL, stopBaseline, err := startBaseline()
	if err != nil {
		return fmt.Errorf("baseline listener: %w", err)
	}
	defer stopBaseline()
	env.baselineURL = baseURL

	anyErrors := false
	for _, sc := range allScenarios {
		if !slices.Contains(o.scenarios, sc.name) {
			continue
		}
		if sc.server && env.srv == nil {
			serverEnv, dropDB, err := prepareDatabase(ctx, o.db, logf)
			if err != nil {
				return err
			}
			defer dropDB()
			for i := range o.nodes {
				logPath := o.serverLog
				if i > 0 && logPath != "" {
					logPath = fmt.Sprintf("%s.node%d", logPath, i+1)
				}
				logf("starting %s serve, node %d of %d (addr file, up to 20s)", o.bin, i+1, o.nodes)
				srv, err := startServer(ctx, o.bin, logPath, 20*time.Second, serverEnv)
				if err != nil {
					return err
				}
				defer func() {
					if err := srv.stop(10 * time.Second); err != nil {
						logf("stopping server: %v", err)
					}
				}()
				env.nodes = append(env.nodes, srv)
				logf("server pid %d listening on %s", srv.Pid(), srv.Addr)
			}
			env.srv = env.nodes[0]
			rep.ServerPID = env.srv.Pid()
		}
		sr, err := runScenario(ctx, sc, env, o, logf)
		if err != nil {
			return err
		}
		anyErrors = anyErrors || sr.Errors > 0 || sr.Skipped != ""
		rep.Scenarios = append(rep.Scenarios, sr)
	}

	if env.srv != nil {
		if rss, err := env.srv.PeakRSS(); err != nil {
			rep.ServerPeakRSSError = err.Error()
		} else {
			rep.ServerPeakRSSBytes = rss
		}
		if anyErrors && !o.json {
			fmt.Fprintln(stderr, env.srv.logTail(20))
		}
		for _, n := range env.nodes {
			if err := n.stop(10 * time.Second); err != nil {
				logf("stopping server: %v", err)
			}
		}
		rep.ServerExit = env.srv.exitStatus()
	}

	rep.fillRatios()
	if o.json {
		return rep.writeJSON(stdout)
	}
	fmt.Fprintln(stdout)
	rep.writeText(stdout)
	return nil
}

func runScenario(ctx context.Context, sc scenario, env *benchEnv, o *options, logf func(string, ...any)) (scenarioReport, error) {
	tmpl, err := sc.setup(ctx, env)
	if err != nil {
		if ctx.Err() != nil {
			return scenarioReport{}, ctx.Err()
		}
		logf("%s: setup failed: %v", sc.name, err)
		return scenarioReport{Name: sc.name, Skipped: "setup failed: " + err.Error()}, nil
	}
	tr := newTransport(o.concurrency)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	// One request first, so a broken endpoint is reported instead of
	// hammered for the whole duration.
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, perr := doOnce(pctx, client, tmpl)
	cancel()
	if ctx.Err() != nil {
		return scenarioReport{}, ctx.Err()
	}
	if perr != "" {
		logf("%s: probe request failed: %s", sc.name, perr)
		return scenarioReport{Name: sc.name, Skipped: "probe failed: " + perr}, nil
	}

	cfg := loadConfig{Concurrency: o.concurrency, Warmup: o.warmup, Duration: o.duration}
	tmpls := []*reqTemplate{tmpl}
	var pids []int
	if sc.server {
		tmpls, pids = env.templates(tmpl), env.pids()
	}
	var cpu0, cpu1 cpuSample
	cfg.AtWindowStart = func() { cpu0 = takeCPUSample(pids...) }
	cfg.AtWindowEnd = func() { cpu1 = takeCPUSample(pids...) }
	logf("%s: %d workers over %d target(s), warm-up %v, measuring %v", sc.name, o.concurrency, len(tmpls), o.warmup, o.duration)
	res, err := runLoad(ctx, client, tmpls, cfg)
	if err != nil {
		return scenarioReport{}, err
	}
	sr := newScenarioReport(sc.name, res)
	if u, ok := cpuBetween(cpu0, cpu1); ok {
		sr.CPU = &u
		if !sc.server {
			sr.CPU.Srv = 0 // the baseline server runs inside tmbench: counted in Own
		}
	}
	logf("%s: %d ok, %d errors, %.0f req/s", sc.name, sr.Requests, sr.Errors, sr.RPS)
	if sr.FirstError != "" {
		logf("%s: first error: %s", sc.name, sr.FirstError)
	}
	return sr, nil
}
