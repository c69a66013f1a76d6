package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// profiler takes CPU profiles of the first server node through its --pprof-addr listener (loopback only).
type profiler struct {
	dir    string
	addr   string // 127.0.0.1:PORT
	client *http.Client
}

// profileRun is one profile being taken.
type profileRun struct {
	done chan struct{}
	path string
	err  error
}

// profileSeconds is the profile's length for a window: whole seconds (the endpoint takes no fraction), at
// least one, never longer than the window when it is a second or more.
func profileSeconds(window time.Duration) int {
	return max(1, int(window/time.Second))
}

// start begins a CPU profile of the window that opens now, saved to dir/<name>.pprof.
func (p *profiler) start(ctx context.Context, name string, window time.Duration) *profileRun {
	secs := profileSeconds(window)
	r := &profileRun{done: make(chan struct{}), path: filepath.Join(p.dir, name+".pprof")}
	go func() {
		defer close(r.done)
		r.err = p.fetch(ctx, secs, r.path)
	}()
	return r
}

func (p *profiler) fetch(ctx context.Context, secs int, path string) error {
	if err := checkLoopback(p.addr); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.addr+"/debug/pprof/profile?seconds="+strconv.Itoa(secs), nil)
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, errSnippetLen))
		return fmt.Errorf("%s", describeHTTPError(resp.Status, resp.Header, b))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, io.LimitReader(resp.Body, 256<<20)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// wait returns the saved profile's path once it is written.
func (r *profileRun) wait() (string, error) {
	<-r.done
	if r.err != nil {
		return "", r.err
	}
	return r.path, nil
}
