package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenmanager/tokenmanager/powerauth"
)

// Soak mode: mixed load over every dialect, with logouts and revocations, for a long time; then the figures
// that show a leak: errors (must be 0), resident memory and Go heap sampled every soakEvery (flat within 10 %
// on the plateau), goroutines and open file descriptors (no growth).
//
// "Flat" compares the last third of the samples with the middle third, not the end with the start: the first
// minutes fill the caches up to their bounds (credentials, sessions, JWE claims, throttles) and the runtime's
// heap up to its GOGC target, which is growth by design; a leak keeps growing after that.

// soakEnv is what the soak workers use, set up once through the CLI and the API.
type soakEnv struct {
	base, password string
	client         *http.Client
	oauthID, key   string // API client
	paToken        string
	paSecret       []byte
	product        string
	licKey         string
	licToken       string
}

// sample is one reading of the server process.
type sample struct {
	AtSec      float64 `json:"at_sec"` // since the load started
	RSSBytes   uint64  `json:"rss_bytes"`
	HeapBytes  uint64  `json:"heap_bytes"`      // Go heap in use (go_memstats_heap_inuse_bytes): where the GC cycle is
	HeapGoal   uint64  `json:"heap_goal_bytes"` // the next GC's goal (go_memstats_next_gc_bytes): set by the live heap
	Goroutines int     `json:"goroutines"`
	OpenFDs    int     `json:"open_fds"`
}

// soakEvery is the sampling interval (shorter for soaks under two minutes, so that each third has samples).
const soakEvery = 10 * time.Second

// soakGrowth is how much the plateau may grow: the last third's mean over the middle third's.
const soakGrowth = 1.10

type soakReport struct {
	DurationSec float64          `json:"duration_sec"`
	Requests    int64            `json:"requests"`
	Errors      int64            `json:"errors"`
	ErrorKinds  map[string]int64 `json:"error_kinds,omitempty"`
	Samples     []sample         `json:"samples"` // under load, every soakEvery
	End         sample           `json:"end"`     // after the load stopped and the server idled a second
	Middle      sample           `json:"middle"`  // means of the middle third of Samples
	Last        sample           `json:"last"`    // means of the last third
	Verdict     string           `json:"verdict"`
}

// thirds returns the means of the middle and last thirds of samples (at least one sample each).
func thirds(samples []sample) (middle, last sample) {
	n := len(samples)
	mean := func(ss []sample) sample {
		var m sample
		for _, s := range ss {
			m.AtSec += s.AtSec
			m.RSSBytes += s.RSSBytes
			m.HeapBytes += s.HeapBytes
			m.HeapGoal += s.HeapGoal
			m.Goroutines += s.Goroutines
			m.OpenFDs += s.OpenFDs
		}
		k := len(ss)
		return sample{AtSec: m.AtSec / float64(k), RSSBytes: m.RSSBytes / uint64(k), HeapBytes: m.HeapBytes / uint64(k), HeapGoal: m.HeapGoal / uint64(k),
			Goroutines: m.Goroutines / k, OpenFDs: m.OpenFDs / k}
	}
	a, b := n/3, 2*n/3
	if b == a { // fewer than three samples
		a, b = max(0, n-2), n-1
	}
	return mean(samples[a:b]), mean(samples[b:])
}

// judgeSoak lists what shows a leak: errors, the plateau's growth in RSS or Go heap, and goroutines or open
// files after the load beyond what the plateau had.
func judgeSoak(rep *soakReport) []string {
	var problems []string
	if rep.Errors > 0 {
		problems = append(problems, fmt.Sprintf("%d errors", rep.Errors))
	}
	if len(rep.Samples) < 2 {
		return append(problems, "too few samples to judge the plateau (soak longer)")
	}
	rep.Middle, rep.Last = thirds(rep.Samples)
	grew := func(what string, mid, last uint64) {
		if float64(last) > soakGrowth*float64(mid) {
			problems = append(problems, fmt.Sprintf("%s grew %.1f%% on the plateau (last third over middle third)", what,
				100*(float64(last)/float64(mid)-1)))
		}
	}
	grew("RSS", rep.Middle.RSSBytes, rep.Last.RSSBytes)
	// The heap in use swings with the GC cycle (GOGC 400: up to five times the live heap), so the heap is
	// judged by the next GC's goal, which the live heap at the last GC sets.
	grew("Go heap goal", rep.Middle.HeapGoal, rep.Last.HeapGoal)
	if rep.End.Goroutines > rep.Middle.Goroutines+5 {
		problems = append(problems, fmt.Sprintf("goroutines %d on the plateau, %d after the load", rep.Middle.Goroutines, rep.End.Goroutines))
	}
	if rep.End.OpenFDs > rep.Middle.OpenFDs+5 {
		problems = append(problems, fmt.Sprintf("open files %d on the plateau, %d after the load", rep.Middle.OpenFDs, rep.End.OpenFDs))
	}
	return problems
}

func runSoak(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "tmbench soak: "+format+"\n", args...) }
	srv, err := startServer(ctx, o.bin, o.serverLog, 20*time.Second, nil)
	if err != nil {
		return err
	}
	defer srv.stop(10 * time.Second)
	env, err := setupSoak(ctx, o.bin, srv)
	if err != nil {
		return fmt.Errorf("soak setup: %w\n%s", err, srv.logTail(20))
	}
	logf("server pid %d on %s; %d workers for %v", srv.Pid(), srv.Addr, o.concurrency, o.soak)

	var requests, errs atomic.Int64
	var kindsMu sync.Mutex
	kinds := map[string]int64{}
	fail := func(what string, err error) {
		errs.Add(1)
		kindsMu.Lock()
		kinds[what]++
		if kinds[what] <= 3 {
			logf("error in %s: %v", what, err)
		}
		kindsMu.Unlock()
	}
	ctx, cancel := context.WithTimeout(ctx, o.soak)
	defer cancel()

	var wg sync.WaitGroup
	loadStart := time.Now()
	for w := range o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for i := 0; ctx.Err() == nil; i++ {
				action := soakActions[rng.IntN(len(soakActions))]
				n, err := action.run(ctx, env, fmt.Sprintf("m-%d-%d", w, i))
				requests.Add(int64(n))
				if err != nil && ctx.Err() == nil {
					fail(action.name, err)
				}
			}
		}()
	}
	every := min(soakEvery, max(o.soak/12, time.Second))
	tick := time.NewTicker(every)
	var samples []sample
	for done := false; !done; {
		select {
		case <-tick.C:
			sm, err := readSample(srv, env)
			if err != nil {
				tick.Stop()
				cancel()
				wg.Wait()
				return err
			}
			sm.AtSec = time.Since(loadStart).Seconds()
			samples = append(samples, sm)
			logf("%5.0fs  RSS %6.1f MiB  heap %6.1f MiB (goal %6.1f)  goroutines %4d  open files %3d", sm.AtSec,
				float64(sm.RSSBytes)/(1<<20), float64(sm.HeapBytes)/(1<<20), float64(sm.HeapGoal)/(1<<20), sm.Goroutines, sm.OpenFDs)
		case <-ctx.Done():
			done = true
		}
	}
	tick.Stop()
	wg.Wait()
	env.client.CloseIdleConnections()
	time.Sleep(time.Second) // let the server release what the last requests held
	end, err := readSample(srv, env)
	if err != nil {
		return err
	}
	end.AtSec = time.Since(loadStart).Seconds()

	rep := soakReport{DurationSec: o.soak.Seconds(), Requests: requests.Load(), Errors: errs.Load(), ErrorKinds: kinds, Samples: samples, End: end}
	problems := judgeSoak(&rep)
	rep.Verdict = "ok"
	if len(problems) > 0 {
		rep.Verdict = strings.Join(problems, "; ")
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else {
		printSoak(stdout, o, &rep)
	}
	if rep.Verdict != "ok" {
		return errors.New("soak: " + rep.Verdict)
	}
	return nil
}

// printSoak prints the curve, the two thirds compared and the verdict.
func printSoak(w io.Writer, o *options, rep *soakReport) {
	fmt.Fprintf(w, "\nsoak %v, %d workers: %d requests (%.0f/s), %d errors\n", o.soak, o.concurrency, rep.Requests,
		float64(rep.Requests)/o.soak.Seconds(), rep.Errors)
	fmt.Fprintf(w, "%8s %10s %10s %10s %11s %11s\n", "at", "RSS MiB", "heap MiB", "goal MiB", "goroutines", "open files")
	row := func(label string, s sample) {
		fmt.Fprintf(w, "%8s %10.1f %10.1f %10.1f %11d %11d\n", label, float64(s.RSSBytes)/(1<<20), float64(s.HeapBytes)/(1<<20),
			float64(s.HeapGoal)/(1<<20), s.Goroutines, s.OpenFDs)
	}
	for _, s := range rep.Samples {
		row(fmt.Sprintf("%.0fs", s.AtSec), s)
	}
	row("idle", rep.End)
	if len(rep.Samples) >= 2 {
		fmt.Fprintf(w, "plateau (means), the last third must stay within %.0f%% of the middle third:\n", 100*(soakGrowth-1))
		row("middle", rep.Middle)
		row("last", rep.Last)
	}
	fmt.Fprintf(w, "verdict: %s\n", rep.Verdict)
}

var (
	goroutinesMetric = regexp.MustCompile(`(?m)^go_goroutines (\d+)`)
	heapMetric       = regexp.MustCompile(`(?m)^go_memstats_heap_inuse_bytes (\S+)`)
	heapGoalMetric   = regexp.MustCompile(`(?m)^go_memstats_next_gc_bytes (\S+)`)
)

// readSample reads the server's resident memory and open files from /proc, its goroutines and Go heap from
// /metrics.
func readSample(srv *serverProc, env *soakEnv) (sample, error) {
	var s sample
	mem, err := readMemory(srv.Pid())
	if err != nil {
		return s, err
	}
	s.RSSBytes = mem.RSS
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", srv.Pid()))
	if err != nil {
		return s, err
	}
	s.OpenFDs = len(fds)
	resp, err := env.client.Get(env.base + "/metrics")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := goroutinesMetric.FindSubmatch(body)
	if m == nil {
		return s, errors.New("no go_goroutines in /metrics")
	}
	s.Goroutines, _ = strconv.Atoi(string(m[1]))
	h := heapMetric.FindSubmatch(body)
	if h == nil {
		return s, errors.New("no go_memstats_heap_inuse_bytes in /metrics")
	}
	heap, err := strconv.ParseFloat(string(h[1]), 64) // Prometheus may write it as 1.2345e+07
	if err != nil {
		return s, fmt.Errorf("go_memstats_heap_inuse_bytes: %w", err)
	}
	s.HeapBytes = uint64(heap)
	g := heapGoalMetric.FindSubmatch(body)
	if g == nil {
		return s, errors.New("no go_memstats_next_gc_bytes in /metrics")
	}
	goal, err := strconv.ParseFloat(string(g[1]), 64)
	if err != nil {
		return s, fmt.Errorf("go_memstats_next_gc_bytes: %w", err)
	}
	s.HeapGoal = uint64(goal)
	return s, nil
}

// setupSoak makes, with the CLI and the API, what the dialects need: an API client, a PowerAuth token, a
// license key with plenty of seats and a licensing token.
func setupSoak(ctx context.Context, bin string, srv *serverProc) (*soakEnv, error) {
	dataDir := filepath.Join(srv.dir, "data")
	cli := func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, bin, append(args, "--data-dir", dataDir)...).Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return "", fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, ee.Stderr)
			}
			return "", err
		}
		return strings.TrimSpace(string(out)), nil
	}
	e := &soakEnv{base: "http://" + srv.Addr, password: srv.Password, client: &http.Client{Transport: newTransport(256), Timeout: 30 * time.Second}}
	out, err := cli("client", "add", "soak", "--scope", "Partner")
	if err != nil {
		return nil, err
	}
	if m := regexp.MustCompile(`(?m)^primary_key:\s+(\S+)`).FindStringSubmatch(out); m != nil {
		e.oauthID, e.key = "soak", m[1]
	} else {
		return nil, fmt.Errorf("client add printed no primary key: %q", out)
	}
	activation, err := cli("powerauth", "activation", "create", "admin", "--name", "soak")
	if err != nil {
		return nil, err
	}
	body, status, err := e.do(ctx, "POST", "/pa/v3/token/create", "application/json", strings.NewReader(`{"activationId":"`+activation+`"}`), true)
	if err != nil || status != 200 {
		return nil, fmt.Errorf("PowerAuth token: %d %v %s", status, err, body)
	}
	var pa struct{ TokenID, TokenSecret string }
	if err := json.Unmarshal(body, &pa); err != nil {
		return nil, err
	}
	e.paToken = pa.TokenID
	if e.paSecret, err = base64.StdEncoding.DecodeString(pa.TokenSecret); err != nil {
		return nil, err
	}
	if _, err := cli("vendor", "add", "admin"); err != nil {
		return nil, err
	}
	out, err = cli("product", "add", "Soak", "--vendor", "admin")
	if err != nil {
		return nil, err
	}
	e.product = strings.Fields(out)[2] // "created product N …"
	if e.licKey, err = cli("key", "create", "--product", e.product, "--max-machines", "1000000", "--period", "30"); err != nil {
		return nil, err
	}
	if e.licToken, err = cli("apitoken", "create", "--vendor", "admin", "--methods", "Activate,Deactivate", "--product-lock", e.product); err != nil {
		return nil, err
	}
	return e, nil
}

// do makes one request (with the admin's Basic credentials when basic) and returns the body and status.
func (e *soakEnv) do(ctx context.Context, method, path, contentType string, body io.Reader, basic bool, header ...string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, method, e.base+path, body)
	if err != nil {
		return nil, 0, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if basic {
		req.SetBasicAuth("admin", e.password)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return b, resp.StatusCode, err
}

// expect checks one step of an action.
func expect(what string, got, want int, body []byte, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if got != want {
		return fmt.Errorf("%s: HTTP %d, want %d: %.200s", what, got, want, body)
	}
	return nil
}

type soakAction struct {
	name string
	run  func(ctx context.Context, e *soakEnv, unique string) (requests int, err error)
}

var soakActions = []soakAction{
	{"spectrum session: issue, use, logout, refused", func(ctx context.Context, e *soakEnv, _ string) (int, error) {
		b, st, err := e.do(ctx, "GET", "/security/rest/token/access/session/0", "", nil, true)
		if err := expect("issue", st, 200, b, err); err != nil {
			return 1, err
		}
		var t struct{ AccessToken, Session string }
		json.Unmarshal(bytes.ReplaceAll(b, []byte("access_token"), []byte("AccessToken")), &t)
		auth := []string{"Authorization", "Bearer " + t.AccessToken, "Cookie", "SESSION=" + t.Session}
		b, st, err = e.do(ctx, "GET", "/security/rest/token/verify", "", nil, false, auth...)
		if err := expect("verify", st, 200, b, err); err != nil {
			return 2, err
		}
		b, st, err = e.do(ctx, "GET", "/security/rest/token/logout", "", nil, false, auth...)
		if err := expect("logout", st, 200, b, err); err != nil {
			return 3, err
		}
		b, st, err = e.do(ctx, "GET", "/security/rest/token/verify", "", nil, false, auth...)
		return 4, expect("verify after logout", st, 401, b, err)
	}},
	{"spectrum SOAP open token, forward-auth", func(ctx context.Context, e *soakEnv, _ string) (int, error) {
		env := `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><t:getAccessToken xmlns:t="http://token.security.common.server.platform.spectrum.pb.com/"/></e:Body></e:Envelope>`
		b, st, err := e.do(ctx, "POST", "/security/TokenManagerService", "text/xml; charset=utf-8", strings.NewReader(env), true)
		if err := expect("getAccessToken", st, 200, b, err); err != nil {
			return 1, err
		}
		_, rest, _ := bytes.Cut(b, []byte("<token>"))
		tok, _, _ := bytes.Cut(rest, []byte("</token>"))
		b, st, err = e.do(ctx, "GET", "/auth/forward", "", nil, false, "Authorization", "Bearer "+string(tok))
		return 2, expect("forward-auth", st, 200, b, err)
	}},
	{"oauth: token, use, revoke, refused", func(ctx context.Context, e *soakEnv, _ string) (int, error) {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {e.oauthID}, "client_secret": {e.key}}
		b, st, err := e.do(ctx, "POST", "/oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), false)
		if st == http.StatusTooManyRequests { // the per-client issuance limit, doing its job
			return 1, nil
		}
		if err := expect("token", st, 200, b, err); err != nil {
			return 1, err
		}
		var t struct {
			AccessToken string `json:"access_token"`
		}
		json.Unmarshal(b, &t)
		b, st, err = e.do(ctx, "GET", "/oauth2/verify", "", nil, false, "Authorization", "Bearer "+t.AccessToken)
		if err := expect("verify", st, 200, b, err); err != nil {
			return 2, err
		}
		rev := url.Values{"token": {t.AccessToken}, "client_id": {e.oauthID}, "client_secret": {e.key}}
		b, st, err = e.do(ctx, "POST", "/oauth2/revoke", "application/x-www-form-urlencoded", strings.NewReader(rev.Encode()), false)
		if err := expect("revoke", st, 200, b, err); err != nil {
			return 3, err
		}
		b, st, err = e.do(ctx, "GET", "/oauth2/verify", "", nil, false, "Authorization", "Bearer "+t.AccessToken)
		return 4, expect("verify after revoke", st, 401, b, err)
	}},
	{"powerauth: signed request, replay refused", func(ctx context.Context, e *soakEnv, _ string) (int, error) {
		nonce := make([]byte, 16)
		crand.Read(nonce)
		h, err := powerauth.NewHeader(e.paToken, e.paSecret, nonce, time.Now().UnixMilli(), "3.1")
		if err != nil {
			return 0, err
		}
		b, st, err := e.do(ctx, "GET", "/pa/v3/token/verify", "", nil, false, powerauth.HeaderName, h.String())
		if err := expect("verify", st, 200, b, err); err != nil {
			return 1, err
		}
		b, st, err = e.do(ctx, "GET", "/pa/v3/token/verify", "", nil, false, powerauth.HeaderName, h.String())
		return 2, expect("replay", st, 401, b, err)
	}},
	{"licensing: activate, deactivate", func(ctx context.Context, e *soakEnv, machine string) (int, error) {
		form := url.Values{"token": {e.licToken}, "ProductId": {e.product}, "Key": {e.licKey}, "MachineCode": {machine}}
		for i, method := range []string{"Activate", "Deactivate"} {
			b, st, err := e.do(ctx, "POST", "/api/key/"+method, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), false)
			if err := expect(method, st, 200, b, err); err != nil {
				return i + 1, err
			}
			if !bytes.Contains(b, []byte(`"result":0`)) {
				return i + 1, fmt.Errorf("%s: %.200s", method, b)
			}
		}
		return 2, nil
	}},
}
