package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// reqTemplate describes the request a scenario repeats. It is serialized once (see compile), unless Vary is
// set: then every request is serialized anew with the header and body Vary returns (Method and URL stay).
// Vary is called from every worker at once, so it must be safe for concurrent use; an error from it counts as
// a failed request.
type reqTemplate struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
	Vary   func() (http.Header, []byte, error)
	// Serialized, when set, returns each whole request ready to send (Method, Header, Body and Vary are not
	// used; URL still names the server to connect to): for a mix of requests to different paths. Like Vary, it
	// is called from every worker at once.
	Serialized func() ([]byte, error)
}

// loadConfig holds the timing and concurrency of one scenario run.
type loadConfig struct {
	// Concurrency is the number of workers, each with one keep-alive connection.
	Concurrency int
	Warmup      time.Duration
	Duration    time.Duration
	// Rate > 0 makes the run open-loop: requests are scheduled Rate per second, whether or not earlier ones
	// have been answered, and their latency is counted from their scheduled time (see pacedLoop). 0: each
	// worker sends its next request as soon as the previous one is answered (closed loop).
	Rate float64
	// Grace bounds how long in-flight requests may run past the end of the measurement before they are
	// cancelled (and, open-loop, how long a backlog of scheduled requests is still sent).
	Grace time.Duration
	// Timeout bounds each request (default 30s).
	Timeout time.Duration
	// AtWindowStart and AtWindowEnd, when set, are called (from another goroutine) when the measurement
	// window opens and closes.
	AtWindowStart, AtWindowEnd func()
}

// loadResult is what one scenario run measured. Only requests that completed inside the measurement window
// count (open loop: that were scheduled inside it); OK are 2xx responses, Errors are everything else (non-2xx
// status, transport error, or open-loop a request not sent before the grace ran out).
type loadResult struct {
	OK         uint64
	Errors     uint64
	Unsent     uint64 // open loop: scheduled in the window but not sent before the grace ran out (in Errors)
	Elapsed    time.Duration
	Hist       hist // latency of the OK requests (open loop: from the scheduled time, unsent ones included)
	FirstError string
}

// newTransport returns a keep-alive transport sized for conc workers that
// only dials loopback addresses and never uses a proxy. For setup calls and
// the soak; the measured load goes through rawClient.
func newTransport(conc int) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if err := checkLoopback(addr); err != nil {
				return nil, err
			}
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        2 * conc,
		MaxIdleConnsPerHost: 2 * conc,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
}

// checkLoopback refuses any address that is not 127.0.0.1.
func checkLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host != "127.0.0.1" || port == "" {
		return fmt.Errorf("refusing to connect to %q: only 127.0.0.1 is allowed", addr)
	}
	return nil
}

type workerState struct {
	hist       hist
	ok, errs   uint64
	unsent     uint64
	firstErr   string
	firstErrAt time.Time
}

func (w *workerState) failed(errText string, at time.Time) {
	w.errs++
	if w.firstErr == "" {
		w.firstErr, w.firstErrAt = errText, at
	}
}

// runLoad runs cfg.Concurrency workers until the warm-up and the measurement window have passed; worker i
// sends tmpls[i % len(tmpls)] (one template per server node) over a connection of its own. Every request is
// bounded by a context that ends Grace after the window (or when ctx ends).
func runLoad(ctx context.Context, tmpls []*reqTemplate, cfg loadConfig) (*loadResult, error) {
	if cfg.Concurrency < 1 {
		return nil, fmt.Errorf("concurrency must be ≥ 1")
	}
	if len(tmpls) == 0 {
		return nil, fmt.Errorf("no request to repeat")
	}
	if cfg.Rate < 0 {
		return nil, fmt.Errorf("negative rate")
	}
	targets := make([]*rawTarget, len(tmpls))
	for i, t := range tmpls {
		var err error
		if targets[i], err = compile(t); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	measureStart := start.Add(cfg.Warmup)
	end := measureStart.Add(cfg.Duration)
	grace := cfg.Grace
	if grace <= 0 {
		grace = 10 * time.Second
	}
	reqCtx, cancel := context.WithDeadline(ctx, end.Add(grace))
	defer cancel()

	workers := make([]*workerState, cfg.Concurrency)
	var wg sync.WaitGroup
	if cfg.AtWindowStart != nil || cfg.AtWindowEnd != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, at := range []struct {
				t  time.Time
				fn func()
			}{{measureStart, cfg.AtWindowStart}, {end, cfg.AtWindowEnd}} {
				t := time.NewTimer(time.Until(at.t))
				select {
				case <-reqCtx.Done():
					t.Stop()
					return
				case <-t.C:
				}
				if at.fn != nil {
					at.fn()
				}
			}
		}()
	}
	sched := &schedule{start: start, rate: cfg.Rate}
	for i := range workers {
		w := &workerState{}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newRawClient(targets[i%len(targets)].addr, cfg.Timeout)
			defer c.Close()
			if cfg.Rate > 0 {
				w.pacedLoop(reqCtx, c, targets[i%len(targets)], sched, measureStart, end, end.Add(grace))
			} else {
				w.loop(reqCtx, c, targets[i%len(targets)], measureStart, end)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	res := &loadResult{Elapsed: cfg.Duration}
	var firstAt time.Time
	if cfg.Rate > 0 { // due times in the window that no worker even took
		w := &workerState{}
		for i := sched.next.Load(); ; i++ {
			due := sched.at(i)
			if !due.Before(end) {
				break
			}
			w.missed(!due.Before(measureStart), due, end, end.Add(grace))
		}
		workers = append(workers, w)
	}
	for _, w := range workers {
		res.OK += w.ok
		res.Errors += w.errs
		res.Unsent += w.unsent
		res.Hist.merge(&w.hist)
		if w.firstErr != "" && (firstAt.IsZero() || w.firstErrAt.Before(firstAt)) {
			firstAt, res.FirstError = w.firstErrAt, w.firstErr
		}
	}
	return res, nil
}

// loop is the closed loop: send, wait for the answer, send again.
func (w *workerState) loop(ctx context.Context, c *rawClient, tgt *rawTarget, measureStart, end time.Time) {
	for {
		t0 := time.Now()
		if !t0.Before(end) || ctx.Err() != nil {
			return
		}
		errText := doOnce(ctx, c, tgt)
		t1 := time.Now()
		if t1.Before(measureStart) || t1.After(end) {
			continue
		}
		if errText == "" {
			w.ok++
			w.hist.record(t1.Sub(t0))
			continue
		}
		w.failed(errText, t1)
	}
}

// schedule is an open-loop plan: request i is due at start + i/rate.
type schedule struct {
	start time.Time
	rate  float64 // requests per second
	next  atomic.Uint64
}

func (s *schedule) at(i uint64) time.Time {
	return s.start.Add(time.Duration(float64(i) * float64(time.Second) / s.rate))
}

// take claims the next request of the plan and returns its due time.
func (s *schedule) take() time.Time { return s.at(s.next.Add(1) - 1) }

// pacedLoop is the open loop. Workers take the next due time from the shared schedule, wait for it, and
// send; a request's latency runs from its due time, not from when a worker got round to sending it, so when
// the server falls behind the queueing counts (no coordinated omission, as in wrk2). Requests due in the
// window are counted whenever they complete, up to drainBy (when ctx ends); one still unsent or unanswered
// then is an error whose latency is recorded as drainBy-due (a lower bound), so a server that falls far behind
// cannot hide its backlog. runLoad accounts the same way for due times no worker took.
func (w *workerState) pacedLoop(ctx context.Context, c *rawClient, tgt *rawTarget, sched *schedule, measureStart, end, drainBy time.Time) {
	// Past drainBy, whichever of ctx's end and the connection's deadline (both drainBy) is noticed first.
	over := func() bool { return ctx.Err() != nil || !time.Now().Before(drainBy) }
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		due := sched.take()
		if !due.Before(end) {
			return
		}
		inWindow := !due.Before(measureStart)
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				w.missed(inWindow, due, end, drainBy)
				return
			case <-timer.C:
			}
		}
		if over() {
			w.missed(inWindow, due, end, drainBy)
			return
		}
		errText := doOnce(ctx, c, tgt)
		t1 := time.Now()
		switch {
		case !inWindow:
		case errText != "" && over(): // cut off at drainBy
			w.missed(inWindow, due, end, drainBy)
			return
		case errText == "":
			w.ok++
			w.hist.record(t1.Sub(due))
		default:
			w.failed(errText, t1)
		}
	}
}

// missed counts a request due at due that was not answered by drainBy.
func (w *workerState) missed(inWindow bool, due, end, drainBy time.Time) {
	if !inWindow {
		return
	}
	w.unsent++
	w.hist.record(drainBy.Sub(due))
	w.failed(missedText(end, drainBy), drainBy)
}

func missedText(end, drainBy time.Time) string {
	return fmt.Sprintf("schedule fell behind: requests due in the window still unanswered %v after it", drainBy.Sub(end))
}

// doOnce sends one request. errText is empty for a 2xx response; otherwise it describes the failure (with
// the start of the response body for a non-2xx status).
func doOnce(ctx context.Context, c *rawClient, tgt *rawTarget) (errText string) {
	req, err := tgt.request()
	if err != nil {
		return "request: " + err.Error()
	}
	resp, err := c.Do(ctx, req)
	if err != nil {
		return "transport: " + err.Error()
	}
	if resp.ok() {
		return ""
	}
	return describeHTTPError(resp.StatusLine, resp.Header, resp.Snippet)
}

// probe sends tmpl once, so that a broken endpoint is reported instead of hammered for a whole window.
func probe(ctx context.Context, tmpl *reqTemplate) string {
	tgt, err := compile(tmpl)
	if err != nil {
		return err.Error()
	}
	c := newRawClient(tgt.addr, 10*time.Second)
	defer c.Close()
	return doOnce(ctx, c, tgt)
}

// describeHTTPError describes a non-2xx answer: status ("404 Not Found"), the headers that explain a refusal,
// and the start of the body.
func describeHTTPError(status string, header http.Header, body []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %s", status)
	for _, h := range keptHeaders {
		if v := header.Get(h); v != "" {
			fmt.Fprintf(&b, "; %s: %s", h, v)
		}
	}
	if s := strings.TrimSpace(string(body)); s != "" {
		fmt.Fprintf(&b, "; body: %q", s)
	}
	return b.String()
}
