package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// getWith sends GET url with the headers h and reads at most 1 MiB of the answer.
func getWith(t *testing.T, method, url string, h map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return response{Status: res.StatusCode, Header: res.Header, Body: body}
}

// A listed origin may call the token API from its pages, but must not read the consent pages, whose forms
// carry the CSRF token.
func TestCORSOnlyOnTheTokenAPI(t *testing.T) {
	const origin = "https://app.example.com"
	srv := startServer(t, "--cors-origins", origin)
	for _, path := range []string{"/User/AuthorizedApps/", "/User/AuthorizeApp/"} {
		for _, method := range []string{"GET", "OPTIONS"} {
			r := getWith(t, method, srv.URL+path, map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST"})
			for k := range r.Header {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("%s %s from a listed origin: %s: %s", method, path, k, r.Header.Get(k))
				}
			}
		}
	}
	for _, path := range []string{"/security/rest/token/verify", "/security/rest/token/access/session/0"} {
		r := getWith(t, "GET", srv.URL+path, map[string]string{"Origin": origin})
		if r.Header.Get("Access-Control-Allow-Origin") != origin || r.Header.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("GET %s from a listed origin: no CORS answer: %v", path, r.Header)
		}
	}
}

var metricsAddrLog = regexp.MustCompile(`"msg":"serving metrics","addr":"([^"]+)"`)

// --metrics-addr moves /metrics to a loopback listener of its own, and refuses any other address.
func TestMetricsAddr(t *testing.T) {
	srv := startServer(t, "--metrics-addr", "127.0.0.1:0")
	var addr string
	eventually(t, "the metrics listener is logged", func() error {
		m := metricsAddrLog.FindStringSubmatch(srv.out.String())
		if m == nil {
			return fmt.Errorf("no \"serving metrics\" line in the log")
		}
		addr = m[1]
		return nil
	})
	if addr == "" {
		t.FailNow()
	}
	if r := getWith(t, "GET", "http://"+addr+"/metrics", nil); r.Status != 200 || !strings.Contains(string(r.Body), "tokenmanager_live_tokens") {
		t.Errorf("metrics listener: %d %.200q", r.Status, r.Body)
	}
	if r := getWith(t, "GET", srv.URL+"/metrics", nil); r.Status != http.StatusNotFound {
		t.Errorf("/metrics on the service's listener with --metrics-addr: %d, want 404", r.Status)
	}

	plain := startServer(t)
	if r := getWith(t, "GET", plain.URL+"/metrics", nil); r.Status != 200 {
		t.Errorf("/metrics on the service's listener without --metrics-addr: %d", r.Status)
	}

	for _, bad := range []string{"0.0.0.0:0", "[::]:0", ":0"} {
		out, err := (&tmServer{DataDir: t.TempDir()}).cli(t, "", "serve", "--listen", "127.0.0.1:0", "--metrics-addr", bad)
		if err == nil || !strings.Contains(err.Error(), "--metrics-addr") || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("serve --metrics-addr %s: %v %s, want a refusal", bad, err, out)
		}
	}
}

// vmRSS reads the resident memory of process pid, in bytes.
func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// slowBody sends, over one connection at a time until stop, a request announcing a body of the largest size
// (to the WooCommerce endpoint, which reads its body whole before parsing it) and sending it slowly, never
// finishing it; when the server closes the connection (a 503), it opens another.
func slowBody(addr string, stop time.Time) {
	const length = 1 << 20
	head := fmt.Sprintf("POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: %d\r\n\r\n", addr, length)
	start := "action=x&a="
	chunk := []byte(strings.Repeat("A", 32<<10))
	for time.Now().Before(stop) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		c.SetDeadline(stop)
		_, err = io.WriteString(c, head+start)
		for sent := len(start); err == nil && sent+len(chunk) < length; sent += len(chunk) {
			_, err = c.Write(chunk)
			time.Sleep(50 * time.Millisecond)
		}
		if err == nil { // all but the end sent: hold it until the end
			time.Sleep(time.Until(stop))
		}
		c.Close()
	}
}

// Many clients sending the largest body slowly do not make the server hold their bodies in memory: the bodies
// read at once share --max-body-memory (the rest get 503), and a token request is answered meanwhile. The
// figure is the server's resident memory, sampled throughout the attack.
func TestSlowBodiesDoNotExhaustMemory(t *testing.T) {
	const (
		conns     = 300
		attackFor = 5 * time.Second
		bound     = 200 << 20 // bytes of RSS: 126 MB measured; without the body budget the same attack reached 388 MB
	)
	srv := startServer(t)
	before, err := vmRSS(srv.Pid)
	if err != nil {
		t.Fatal(err)
	}
	stop := time.Now().Add(attackFor)
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() { slowBody(srv.Addr, stop) })
	}
	var peak atomic.Int64
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for time.Now().Before(stop) {
			if rss, err := vmRSS(srv.Pid); err == nil && rss > peak.Load() {
				peak.Store(rss)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	time.Sleep(attackFor / 2) // the attack is in full swing
	req, _ := http.NewRequest("POST", srv.URL+"/security/TokenManagerService", strings.NewReader(
		`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:tok="http://token.security.common.server.platform.spectrum.pb.com/">`+
			`<soapenv:Body><tok:getAccessToken/></soapenv:Body></soapenv:Envelope>`))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `""`)
	req.SetBasicAuth(adminUser, srv.AdminPassword)
	res, err := httpClient.Do(req)
	if err != nil {
		t.Errorf("a token request during the attack: %v", err)
	} else {
		body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(body), jwePrefix) {
			t.Errorf("a token request during the attack: %d %.300q", res.StatusCode, body)
		}
	}
	wg.Wait()
	<-sampled
	t.Logf("server RSS: %d MB before, %d MB at the peak of %d slow 1 MiB bodies over %v", before>>20, peak.Load()>>20, conns, attackFor)
	if peak.Load() > bound {
		t.Errorf("server RSS peaked at %d MB under the attack, above the %d MB bound", peak.Load()>>20, bound>>20)
	}
}

// --max-connections bounds the connections served at once: one more waits, unanswered, until one closes.
func TestMaxConnections(t *testing.T) {
	srv := startServer(t, "--max-connections", "4")
	dial := func() net.Conn {
		c, err := net.DialTimeout("tcp", srv.Addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	var held []net.Conn
	for range 4 { // each proves it is being served, then idles
		c := dial()
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if line, err := bufioLine(c); err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
			t.Fatalf("connection %d: %q %v", len(held)+1, line, err)
		}
		held = append(held, c)
	}
	extra := dial() // the kernel completes the handshake; the server does not take it
	io.WriteString(extra, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	extra.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if line, err := bufioLine(extra); err == nil {
		t.Fatalf("a fifth connection was served with --max-connections 4: %q", line)
	}
	held[0].Close()
	extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := bufioLine(extra); err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Fatalf("the waiting connection once another closed: %q %v", line, err)
	}
}

// bufioLine reads the first line the server sends on c.
func bufioLine(c net.Conn) (string, error) {
	var line []byte
	b := make([]byte, 1)
	for {
		if _, err := c.Read(b); err != nil {
			return string(line), err
		}
		if b[0] == '\n' {
			return strings.TrimRight(string(line), "\r"), nil
		}
		line = append(line, b[0])
	}
}

// A body not sent within --http-read-timeout is cut off, and its share of --max-body-memory is given back: a
// slow client cannot keep the budget.
func TestSlowBodyCutOffByReadTimeout(t *testing.T) {
	srv := startServer(t, "--http-read-timeout", "1s", "--max-body-memory", "1048576") // the budget: one largest body
	// The slow client outlasts the test's tries, so that only the read timeout can free the budget.
	stop, slowStop := time.Now().Add(3*time.Second), time.Now().Add(5*time.Second)
	done := make(chan struct{})
	go func() { defer close(done); slowBody(srv.Addr, slowStop) }() // holds one body at a time, reconnecting when cut off
	defer func() { <-done }()
	time.Sleep(200 * time.Millisecond)

	large := func() int {
		req, _ := http.NewRequest("POST", srv.URL+"/wp-admin/admin-ajax.php", strings.NewReader("action=x&a="+strings.Repeat("A", 100<<10)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	// The slow client holds the budget, so a large body waits; it gets in when the read timeout cuts the slow one
	// off (a second or less), or, if the slow client got in again first, at a later try.
	for {
		status := large()
		if status != http.StatusServiceUnavailable {
			return
		}
		if time.Now().After(stop) {
			t.Fatal("a large body never got into the budget while a slow client held it: the read timeout did not cut it off")
		}
	}
}
