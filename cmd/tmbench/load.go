package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// reqTemplate describes the one request a scenario repeats. Header is shared
// read-only by all workers (a RoundTripper must not modify the request).
type reqTemplate struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

func (t *reqTemplate) newRequest(ctx context.Context) (*http.Request, error) {
	var body io.Reader
	if t.Body != nil {
		body = bytes.NewReader(t.Body)
	}
	req, err := http.NewRequestWithContext(ctx, t.Method, t.URL, body)
	if err != nil {
		return nil, err
	}
	req.Header = t.Header
	return req, nil
}

// loadConfig holds the timing and concurrency of one scenario run.
type loadConfig struct {
	Concurrency int
	Warmup      time.Duration
	Duration    time.Duration
	// Grace bounds how long in-flight requests may run past the end of the
	// measurement before they are cancelled.
	Grace time.Duration
	// AtWindowStart and AtWindowEnd, when set, are called (from another
	// goroutine) when the measurement window opens and closes.
	AtWindowStart, AtWindowEnd func()
}

// loadResult is what one scenario run measured. Only requests that completed
// inside the measurement window count; OK are 2xx responses, Errors are
// everything else (non-2xx status or transport error).
type loadResult struct {
	OK         uint64
	Errors     uint64
	Elapsed    time.Duration
	Hist       hist // latency of the OK requests
	FirstError string
}

// newTransport returns a keep-alive transport sized for conc workers that
// only dials loopback addresses and never uses a proxy.
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
	firstErr   string
	firstErrAt time.Time
}

// runLoad runs conc workers that repeat a request back to back on client until
// the warm-up and the measurement window have passed; worker i repeats
// tmpls[i % len(tmpls)] (one template per server node). Every request is
// bounded by a context that ends Grace after the window (or when ctx ends).
func runLoad(ctx context.Context, client *http.Client, tmpls []*reqTemplate, cfg loadConfig) (*loadResult, error) {
	if cfg.Concurrency < 1 {
		return nil, fmt.Errorf("concurrency must be ≥ 1")
	}
	if len(tmpls) == 0 {
		return nil, fmt.Errorf("no request to repeat")
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
	for i := range workers {
		w := &workerState{}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(reqCtx, client, tmpls[i%len(tmpls)], measureStart, end)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	res := &loadResult{Elapsed: cfg.Duration}
	var firstAt time.Time
	for _, w := range workers {
		res.OK += w.ok
		res.Errors += w.errs
		res.Hist.merge(&w.hist)
		if w.firstErr != "" && (firstAt.IsZero() || w.firstErrAt.Before(firstAt)) {
			firstAt, res.FirstError = w.firstErrAt, w.firstErr
		}
	}
	return res, nil
}

func (w *workerState) loop(ctx context.Context, client *http.Client, tmpl *reqTemplate, measureStart, end time.Time) {
	for {
		t0 := time.Now()
		if !t0.Before(end) || ctx.Err() != nil {
			return
		}
		_, errText := doOnce(ctx, client, tmpl)
		t1 := time.Now()
		if t1.Before(measureStart) || t1.After(end) {
			continue
		}
		if errText == "" {
			w.ok++
			w.hist.record(t1.Sub(t0))
			continue
		}
		w.errs++
		if w.firstErr == "" {
			w.firstErr, w.firstErrAt = errText, t1
		}
	}
}

// doOnce sends one request and drains and closes the body. errText is empty
// for a 2xx response; otherwise it describes the failure (with the start of
// the response body for a non-2xx status).
func doOnce(ctx context.Context, client *http.Client, tmpl *reqTemplate) (status int, errText string) {
	req, err := tmpl.newRequest(ctx)
	if err != nil {
		return 0, err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "transport: " + err.Error()
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return resp.StatusCode, "reading body: " + err.Error()
		}
		return resp.StatusCode, ""
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, describeHTTPError(resp, snippet)
}

func describeHTTPError(resp *http.Response, body []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %s", resp.Status)
	for _, h := range []string{"Content-Type", "Retry-After", "Www-Authenticate"} {
		if v := resp.Header.Get(h); v != "" {
			fmt.Fprintf(&b, "; %s: %s", h, v)
		}
	}
	if s := strings.TrimSpace(string(body)); s != "" {
		fmt.Fprintf(&b, "; body: %q", s)
	}
	return b.String()
}
