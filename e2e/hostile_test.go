package e2e

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSlowClientsAreCutOff: a client that trickles its request headers (slowloris) is disconnected after
// --http-read-header-timeout, and other clients are served meanwhile.
func TestSlowClientsAreCutOff(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--http-read-header-timeout", "1s")
	conns := make([]net.Conn, 20)
	for i := range conns {
		c, err := net.DialTimeout("tcp", srv.Addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: a")); err != nil { // and never the rest
			t.Fatal(err)
		}
		conns[i] = c
	}
	// Meanwhile the service answers others.
	if r := get(t, srv.URL+"/healthz", "", "", "", nil); r.Status != http.StatusOK {
		t.Fatalf("healthz while slow clients hold connections: %s", r)
	}
	start := time.Now()
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(15 * time.Second))
		// Keep trickling, a byte at a time: the header deadline is for the whole header, not per byte.
		go func() {
			for range 30 {
				if _, err := c.Write([]byte("a")); err != nil {
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
		}()
		line, err := bufio.NewReader(c).ReadString('\n')
		// The server must end it: by closing the connection, or with a 408 first. Our own read deadline firing
		// means it kept the connection open.
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("slow client %d still connected after 15 s", i)
		}
		if err == nil && !strings.Contains(line, "408") {
			t.Fatalf("slow client %d got %q", i, line)
		}
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("slow clients were held %v", took)
	}
}

// TestHugeHeadersRefused: request headers beyond the limit get 431, not a crash, and the service goes on.
func TestHugeHeadersRefused(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	req, _ := http.NewRequest("GET", srv.URL+"/security/rest/token/verify", nil)
	req.Header.Set("Authorization", "Bearer "+strings.Repeat("A", 200<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("200 KiB of headers: %d, want 431", resp.StatusCode)
	}
	// An oversized token that fits the header limit is refused as a token (401), not parsed at length.
	req, _ = http.NewRequest("GET", srv.URL+"/security/rest/token/verify", nil)
	req.Header.Set("Authorization", "Bearer "+strings.Repeat("A", 32<<10))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("32 KiB token: %d, want 401", resp.StatusCode)
	}
	if r := get(t, srv.URL+"/healthz", "", "", "", nil); r.Status != http.StatusOK {
		t.Fatalf("healthz after: %s", r)
	}
}
