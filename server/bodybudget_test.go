package server_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// holdBody opens a connection to the SOAP endpoint that announces a body of length bytes, sends sent of them
// and then waits, as a slow client does; the test's end closes it.
func holdBody(t *testing.T, base string, length, sent int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n", tokPath, length)
	c.Write([]byte(strings.Repeat(" ", sent)))
	return c
}

// The bodies being read at once share a budget: a large body that does not fit gets 503 with Retry-After, and
// small requests (every token operation) are answered all the same.
func TestBodyBudget(t *testing.T) {
	// A budget of one largest body (64 KiB here): a slow client that holds one exhausts it.
	s := newStack(t, func(su *servertest.Setup) { su.Server.MaxBodyMemory = 1 })
	holdBody(t, s.URL, 64<<10, 20<<10)
	time.Sleep(50 * time.Millisecond) // let the server take the body's share: a second one would then wait

	big := "<x>" + strings.Repeat("A", 40<<10) + "</x>"
	resp := servertest.Do(t, "POST", s.URL+tokPath, big, map[string]string{"Content-Type": "text/xml"})
	if resp.Status != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a large body beyond the budget: %d %v %q, want 503 with Retry-After", resp.Status, resp.Header, resp.Body)
	}
	// The same without a Content-Length (chunked, as the client cannot know the reader's length): refused as it
	// is read.
	req, _ := http.NewRequest("POST", s.URL+tokPath, io.MultiReader(strings.NewReader(big)))
	req.Header.Set("Content-Type", "text/xml")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a chunked body beyond the budget: %d, want 503", res.StatusCode)
	}

	// A token request is small: it never waits for the budget.
	if r := s.SOAPCall(t, tokPath, seedRequest(t, "getAccessToken")); r.Status != 200 {
		t.Fatalf("a token request while the budget is exhausted: %d %s", r.Status, r.Body)
	}
}

// What a refused body held is given back: once the slow client is gone, a large body fits again.
func TestBodyBudgetIsGivenBack(t *testing.T) {
	s := newStack(t, func(su *servertest.Setup) { su.Server.MaxBodyMemory = 1 })
	c := holdBody(t, s.URL, 64<<10, 20<<10)
	time.Sleep(50 * time.Millisecond)
	c.Close()
	// The server sees the close when it next reads; then the share returns.
	body := "<x>" + strings.Repeat("A", 40<<10) + "</x>"
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp := servertest.Do(t, "POST", s.URL+tokPath, body, map[string]string{"Content-Type": "text/xml"})
		if resp.Status != http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the budget was never given back")
		}
	}
}
