package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// connCounter counts the connections a test server accepted.
func connCounter(ts *httptest.Server) *atomic.Int32 {
	var n atomic.Int32
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	return &n
}

func testServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	ts := httptest.NewUnstartedServer(h)
	n := connCounter(ts)
	ts.Start()
	t.Cleanup(ts.Close)
	return ts, n
}

// send compiles tmpl and sends it n times on one client, failing on any error.
func send(t *testing.T, c *rawClient, tmpl *reqTemplate, n int) {
	t.Helper()
	tgt, err := compile(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if errText := doOnce(context.Background(), c, tgt); errText != "" {
			t.Fatalf("request %d: %s", i, errText)
		}
	}
}

func TestRawClientContentLengthKeepAlive(t *testing.T) {
	var bodies sync.Map
	ts, conns := testServer(t, func(w http.ResponseWriter, r *http.Request) {
		b := new(bytes.Buffer)
		b.ReadFrom(r.Body)
		bodies.Store(b.String(), r.Header.Get("Content-Type")+" "+r.Host)
		w.Header().Set("Content-Length", "11")
		w.Write([]byte(`{"ok":true}`))
	})
	u, _ := url.Parse(ts.URL)
	c := newRawClient(u.Host, 5*time.Second)
	defer c.Close()
	send(t, c, &reqTemplate{Method: http.MethodPost, URL: ts.URL + "/x?y=1",
		Header: http.Header{"Content-Type": {"text/xml"}}, Body: []byte("<a/>")}, 20)
	if n := conns.Load(); n != 1 {
		t.Fatalf("20 requests used %d connections, want 1 (keep-alive)", n)
	}
	if v, ok := bodies.Load("<a/>"); !ok || v != "text/xml "+u.Host {
		t.Fatalf("server saw %v", v)
	}
}

func TestRawClientChunked(t *testing.T) {
	ts, conns := testServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		for i := range 5 {
			fmt.Fprintf(w, "part %d;", i)
			w.(http.Flusher).Flush() // one chunk each
		}
		w.Header().Set("X-Sum", "5")
	})
	u, _ := url.Parse(ts.URL)
	c := newRawClient(u.Host, 5*time.Second)
	defer c.Close()
	send(t, c, &reqTemplate{Method: http.MethodGet, URL: ts.URL}, 10)
	if n := conns.Load(); n != 1 {
		t.Fatalf("10 chunked answers used %d connections, want 1", n)
	}
}

func TestRawClientReconnectsOnConnectionClose(t *testing.T) {
	ts, conns := testServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.Write([]byte("bye"))
	})
	u, _ := url.Parse(ts.URL)
	c := newRawClient(u.Host, 5*time.Second)
	defer c.Close()
	send(t, c, &reqTemplate{Method: http.MethodGet, URL: ts.URL}, 5)
	if n := conns.Load(); n != 5 {
		t.Fatalf("5 requests answered with Connection: close used %d connections, want 5", n)
	}
}

// The server closes an idle keep-alive connection between two requests: the second is sent again on a new
// connection rather than counted as an error.
func TestRawClientRetriesOnceWhenIdleConnectionClosed(t *testing.T) {
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	ts.Config.IdleTimeout = 20 * time.Millisecond
	conns := connCounter(ts)
	ts.Start()
	defer ts.Close()
	u, _ := url.Parse(ts.URL)
	c := newRawClient(u.Host, 5*time.Second)
	defer c.Close()
	tmpl := &reqTemplate{Method: http.MethodGet, URL: ts.URL}
	send(t, c, tmpl, 1)
	time.Sleep(200 * time.Millisecond) // the server has closed the idle connection
	send(t, c, tmpl, 1)
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
}

func TestRawClientNon2xxDescribed(t *testing.T) {
	long := strings.Repeat("x", 3000)
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			ts, conns := testServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "7")
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("X-Other", "not shown")
				w.WriteHeader(http.StatusServiceUnavailable)
				if chunked {
					w.(http.Flusher).Flush()
				}
				w.Write([]byte("busy " + long))
			})
			u, _ := url.Parse(ts.URL)
			c := newRawClient(u.Host, 5*time.Second)
			defer c.Close()
			tgt, _ := compile(&reqTemplate{Method: http.MethodGet, URL: ts.URL})
			for range 3 {
				got := doOnce(context.Background(), c, tgt)
				for _, want := range []string{"HTTP 503 Service Unavailable", "Retry-After: 7", "Content-Type: text/plain", `body: "busy xxx`} {
					if !strings.Contains(got, want) {
						t.Fatalf("error text %q lacks %q", got, want)
					}
				}
				if strings.Contains(got, "X-Other") || len(got) > errSnippetLen+200 {
					t.Fatalf("error text too long or with other headers: %d bytes", len(got))
				}
			}
			if n := conns.Load(); n != 1 {
				t.Fatalf("a non-2xx answer closed the connection: %d connections", n)
			}
		})
	}
}

func TestRawClientRefusesOversize(t *testing.T) {
	for _, c := range []struct {
		name string
		h    http.HandlerFunc
		want string
	}{
		{"content-length body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(maxResponseBody+1))
			w.Write(make([]byte, maxResponseBody+1))
		}, "refused"},
		{"chunked body", func(w http.ResponseWriter, r *http.Request) {
			for range 20 {
				w.Write(make([]byte, 64<<10))
				w.(http.Flusher).Flush()
			}
		}, "refused"},
		{"header", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Big", strings.Repeat("a", maxResponseHeader))
		}, "response header over"},
		{"many headers", func(w http.ResponseWriter, r *http.Request) {
			for i := range 5000 {
				w.Header().Set(fmt.Sprintf("X-H%d", i), "0123456789")
			}
		}, "response header over"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts, _ := testServer(t, c.h)
			u, _ := url.Parse(ts.URL)
			rc := newRawClient(u.Host, 5*time.Second)
			defer rc.Close()
			tgt, _ := compile(&reqTemplate{Method: http.MethodGet, URL: ts.URL})
			if got := doOnce(context.Background(), rc, tgt); !strings.Contains(got, c.want) {
				t.Fatalf("got %q, want an error with %q", got, c.want)
			}
			if rc.conn != nil {
				t.Fatal("connection kept after a refused answer")
			}
		})
	}
}

// A server that never answers costs a request its timeout, not more; so does one that trickles its answer.
func TestRawClientSlowServerBoundedByTimeout(t *testing.T) {
	for _, c := range []struct {
		name string
		h    http.HandlerFunc
	}{
		{"silent", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done() // the client hung up
		}},
		{"trickle", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			for range 1000 {
				w.Write([]byte("x"))
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts, _ := testServer(t, c.h)
			u, _ := url.Parse(ts.URL)
			rc := newRawClient(u.Host, 150*time.Millisecond)
			defer rc.Close()
			tgt, _ := compile(&reqTemplate{Method: http.MethodGet, URL: ts.URL})
			t0 := time.Now()
			got := doOnce(context.Background(), rc, tgt)
			if !strings.Contains(got, "timeout") {
				t.Fatalf("got %q, want a timeout", got)
			}
			if d := time.Since(t0); d > 3*time.Second {
				t.Fatalf("a 150ms timeout took %v", d)
			}
		})
	}
}

func TestRawClientStopsWhenContextEnds(t *testing.T) {
	ts, _ := testServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	u, _ := url.Parse(ts.URL)
	rc := newRawClient(u.Host, time.Minute)
	defer rc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	req := serialize(http.MethodGet, u, nil, nil)
	t0 := time.Now()
	_, err := rc.Do(ctx, req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(t0); d > 3*time.Second {
		t.Fatalf("cancel took %v", d)
	}
}

func TestRawClientLoopbackOnly(t *testing.T) {
	for _, raw := range []string{"http://10.0.0.1:80/", "http://localhost:80/", "https://127.0.0.1:443/", "http://[::1]:80/"} {
		if _, err := compile(&reqTemplate{Method: http.MethodGet, URL: raw}); err == nil {
			t.Errorf("compile(%s) accepted", raw)
		}
	}
	c := newRawClient("192.0.2.1:80", time.Second)
	if _, err := c.Do(context.Background(), []byte("GET / HTTP/1.1\r\n\r\n")); err == nil || !strings.Contains(err.Error(), "only 127.0.0.1") {
		t.Fatalf("dial to 192.0.2.1: %v", err)
	}
}

func TestSerialize(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:8080/oauth2/token?a=b")
	got := string(serialize(http.MethodPost, u, http.Header{
		"Content-Type":  {"application/x-www-form-urlencoded"},
		"Authorization": {"Basic eDp5"},
		"X-Evil":        {"a\r\nInjected: 1"},
	}, []byte("grant_type=client_credentials")))
	want := "POST /oauth2/token?a=b HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n" +
		"Authorization: Basic eDp5\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Evil: a  Injected: 1\r\n" +
		"User-Agent: tmbench\r\nContent-Length: 29\r\n\r\ngrant_type=client_credentials"
	if got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	if got := string(serialize(http.MethodGet, u, nil, nil)); got != "GET /oauth2/token?a=b HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: tmbench\r\n\r\n" {
		t.Fatalf("GET: %q", got)
	}
}

// Vary makes every request anew: the server sees each value once.
func TestVaryPerRequest(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	ts, _ := testServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("X-N")]++
		mu.Unlock()
	})
	var n atomic.Int64
	tmpl := &reqTemplate{Method: http.MethodGet, URL: ts.URL, Vary: func() (http.Header, []byte, error) {
		i := n.Add(1)
		if i > 50 {
			return nil, nil, errors.New("no more")
		}
		return http.Header{"X-N": {fmt.Sprint(i)}}, nil, nil
	}}
	res, err := runLoad(context.Background(), []*reqTemplate{tmpl}, loadConfig{Concurrency: 4, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 50 {
		t.Fatalf("server saw %d distinct values, want 50", len(seen))
	}
	for v, c := range seen {
		if c != 1 {
			t.Fatalf("value %s sent %d times", v, c)
		}
	}
	if res.OK != 50 || res.Errors == 0 || !strings.Contains(res.FirstError, "no more") {
		t.Fatalf("ok %d, errors %d (%s)", res.OK, res.Errors, res.FirstError)
	}
}

// readResponse parses untrusted bytes: it must not panic, and must stay within its bounds.
func FuzzRawResponse(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n",
		"HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 503 Busy\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 4\r\n\r\nbusy",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffff\r\n",
		"HTTP/2 200\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &rawClient{br: bufio.NewReaderSize(bytes.NewReader(data), 16<<10)}
		resp, _, err := c.readResponse()
		if err == nil && (resp.Status < 100 || resp.Status > 999) {
			t.Fatalf("status %d accepted", resp.Status)
		}
		if len(resp.Snippet) > errSnippetLen {
			t.Fatalf("snippet of %d bytes", len(resp.Snippet))
		}
	})
}

// BenchmarkClients compares the client side of one loopback request: rawClient against net/http.Client, on the
// baseline handler (in the same process, so ns/op includes the server; allocs/op is the clients' difference).
func BenchmarkClients(b *testing.B) {
	ts := httptest.NewServer(http.HandlerFunc(baselineHandler))
	defer ts.Close()
	u, _ := url.Parse(ts.URL)
	b.Run("raw", func(b *testing.B) {
		c := newRawClient(u.Host, 5*time.Second)
		defer c.Close()
		tgt, _ := compile(&reqTemplate{Method: http.MethodGet, URL: ts.URL + "/token"})
		b.ReportAllocs()
		for b.Loop() {
			if e := doOnce(context.Background(), c, tgt); e != "" {
				b.Fatal(e)
			}
		}
	})
	b.Run("net/http", func(b *testing.B) {
		tr := newTransport(1)
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}
		b.ReportAllocs()
		for b.Loop() {
			resp, err := c.Get(ts.URL + "/token")
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
