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
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The load itself goes through a lean HTTP/1.1 client rather than net/http.Client: on a 2-core machine the
// standard client spends about 30 µs of CPU per request, about as much as the server's whole HTTP stack, so it
// would take half the machine from the server it measures. wrk, which the Hydra anchors were
// measured with, spends a few µs. This client writes a request serialized once and parses just enough of the
// response to find its end. The baseline goes through it too, so the ratios compare like with like. Setup calls
// keep using net/http.

// Bounds on what a response may make the client read.
const (
	maxResponseHeader = 64 << 10 // status line, headers and chunked trailers together
	maxResponseBody   = 1 << 20
	errSnippetLen     = 512 // bytes of a non-2xx body kept for the error text
)

// rawResponse is what the load generator needs from a response. Header and Snippet are filled only for a
// non-2xx status (to describe the error): a 2xx answer allocates nothing.
type rawResponse struct {
	Status     int
	StatusLine string // "404 Not Found", non-2xx only
	Header     http.Header
	Snippet    []byte
}

func (r *rawResponse) ok() bool { return r.Status >= 200 && r.Status < 300 }

// rawClient is one keep-alive connection to a loopback address, used by one goroutine at a time. It dials on
// first use, and again after the server asked to close or the connection broke.
type rawClient struct {
	addr    string
	timeout time.Duration // bound on each request: writing it and reading the whole response

	conn    net.Conn
	br      *bufio.Reader
	stop    func() bool // unregisters the context watcher of conn
	reused  bool        // conn has already carried a response
	scratch []byte      // a header line longer than br's buffer
}

// newRawClient returns a client of addr (127.0.0.1:port only; checked at dial).
func newRawClient(addr string, timeout time.Duration) *rawClient {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return &rawClient{addr: addr, timeout: timeout}
}

// Close closes the connection, if any.
func (c *rawClient) Close() {
	if c.conn != nil {
		c.stop()
		c.conn.Close()
		c.conn, c.br, c.stop = nil, nil, nil
	}
}

func (c *rawClient) dial(ctx context.Context) error {
	if err := checkLoopback(c.addr); err != nil {
		return err
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	c.conn, c.br, c.reused = conn, bufio.NewReaderSize(conn, 16<<10), false
	// A blocked read or write ends when ctx does: Ctrl-C and the end of a run never wait for a request's timeout.
	c.stop = context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return nil
}

// Do sends req (a complete serialized request) and reads the response. A transport error closes the
// connection; the next call dials again. A request that finds its reused keep-alive connection closed by the
// server before any byte of the answer (the server's idle timeout racing the request) is sent once more on a
// new connection, as net/http does.
func (c *rawClient) Do(ctx context.Context, req []byte) (rawResponse, error) {
	resp, retry, err := c.try(ctx, req)
	if retry && ctx.Err() == nil {
		resp, _, err = c.try(ctx, req)
	}
	return resp, err
}

// try is one attempt of Do; retry says whether the failure deserves a second one.
func (c *rawClient) try(ctx context.Context, req []byte) (resp rawResponse, retry bool, err error) {
	if err := ctx.Err(); err != nil {
		return rawResponse{}, false, err
	}
	if c.conn == nil {
		if err := c.dial(ctx); err != nil {
			return rawResponse{}, false, err
		}
	}
	reused := c.reused
	deadline := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.conn.SetDeadline(deadline)
	if _, err := c.conn.Write(req); err != nil {
		c.Close()
		return rawResponse{}, reused && ctx.Err() == nil, c.explain(ctx, err)
	}
	resp, keep, err := c.readResponse()
	if err != nil {
		nothingRead := errors.Is(err, errNothingRead)
		c.Close()
		return rawResponse{}, reused && nothingRead && ctx.Err() == nil, c.explain(ctx, err)
	}
	c.reused = true
	if !keep {
		c.Close()
	}
	return resp, false, nil
}

// explain turns a connection deadline set by ctx's end into ctx's error (the connection may notice its
// deadline a moment before ctx's timer fires).
func (c *rawClient) explain(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) && errors.Is(err, os.ErrDeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return err
}

// errNothingRead marks a connection that closed before the first byte of a response.
var errNothingRead = errors.New("connection closed before the response")

// readResponse reads one response; keep says whether the connection may carry the next request.
func (c *rawClient) readResponse() (resp rawResponse, keep bool, err error) {
	budget := maxResponseHeader
	for {
		line, err := c.readLine(&budget)
		if err != nil {
			if len(line) == 0 && (err == io.EOF || errors.Is(err, syscall.ECONNRESET)) && budget == maxResponseHeader {
				return resp, false, fmt.Errorf("%w: %v", errNothingRead, err)
			}
			return resp, false, fmt.Errorf("reading status line: %w", err)
		}
		status, http10, statusText, err := parseStatusLine(line)
		if err != nil {
			return resp, false, err
		}
		resp.Status = status
		if !resp.ok() {
			resp.StatusLine = statusText
			resp.Header = http.Header{}
		}
		h, err := c.readHeader(&budget, resp.Header)
		if err != nil {
			return resp, false, err
		}
		if status >= 100 && status < 200 && status != http.StatusSwitchingProtocols {
			continue // an interim answer (100 Continue): the real one follows
		}
		keep = !h.close && (!http10 || h.keepAlive)
		body := c.discardBody
		if !resp.ok() {
			body = func(n int64) error {
				var err error
				resp.Snippet, err = c.readBody(n)
				return err
			}
		}
		switch {
		case status == http.StatusNoContent || status == http.StatusNotModified:
		case h.chunked:
			if err := c.readChunked(&budget, &resp); err != nil {
				return resp, false, err
			}
		case h.length >= 0:
			if h.length > maxResponseBody {
				return resp, false, fmt.Errorf("response body of %d bytes refused (over %d)", h.length, maxResponseBody)
			}
			if err := body(h.length); err != nil {
				return resp, false, err
			}
		default: // the body runs to the end of the connection
			keep = false
			if err := c.readToEOF(&resp); err != nil {
				return resp, false, err
			}
		}
		return resp, keep, nil
	}
}

// readLine returns the next line without its CRLF, counting it against budget. The slice is valid until the
// next read.
func (c *rawClient) readLine(budget *int) ([]byte, error) {
	c.scratch = c.scratch[:0]
	for {
		part, err := c.br.ReadSlice('\n')
		*budget -= len(part)
		if *budget < 0 {
			return nil, fmt.Errorf("response header over %d bytes", maxResponseHeader)
		}
		switch {
		case err == nil && len(c.scratch) == 0:
			return trimCRLF(part), nil
		case err == nil:
			c.scratch = append(c.scratch, part...)
			return trimCRLF(c.scratch), nil
		case errors.Is(err, bufio.ErrBufferFull):
			c.scratch = append(c.scratch, part...)
		default:
			return append(c.scratch, part...), err
		}
	}
}

func trimCRLF(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// parseStatusLine parses "HTTP/1.1 200 OK".
func parseStatusLine(line []byte) (status int, http10 bool, text string, err error) {
	proto, rest, _ := bytes.Cut(line, []byte(" "))
	switch string(proto) {
	case "HTTP/1.1":
	case "HTTP/1.0":
		http10 = true
	default:
		return 0, false, "", fmt.Errorf("malformed status line %.64q", line)
	}
	if len(rest) < 3 || (len(rest) > 3 && rest[3] != ' ') {
		return 0, false, "", fmt.Errorf("malformed status line %.64q", line)
	}
	for _, d := range rest[:3] {
		if d < '0' || d > '9' {
			return 0, false, "", fmt.Errorf("malformed status line %.64q", line)
		}
		status = status*10 + int(d-'0')
	}
	if status < 100 {
		return 0, false, "", fmt.Errorf("malformed status line %.64q", line)
	}
	if status < 200 || status >= 300 {
		text = string(rest)
	}
	return status, http10, text, nil
}

type respHeader struct {
	length    int64 // -1: none
	chunked   bool
	close     bool
	keepAlive bool
}

// The headers kept for the error text of a non-2xx answer (see describeHTTPError).
var keptHeaders = []string{"Content-Type", "Retry-After", "Www-Authenticate"}

// readHeader reads header lines up to the empty line; keep, when not nil, receives keptHeaders.
func (c *rawClient) readHeader(budget *int, keep http.Header) (respHeader, error) {
	h := respHeader{length: -1}
	for {
		line, err := c.readLine(budget)
		if err != nil {
			return h, fmt.Errorf("reading header: %w", err)
		}
		if len(line) == 0 {
			return h, nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return h, fmt.Errorf("malformed header line %.64q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "Content-Length"):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 || (h.length >= 0 && h.length != n) {
				return h, fmt.Errorf("bad Content-Length %.32q", value)
			}
			h.length = n
		case asciiEqualFold(name, "Transfer-Encoding"):
			if !asciiEqualFold(value, "chunked") {
				return h, fmt.Errorf("unsupported Transfer-Encoding %.32q", value)
			}
			h.chunked = true
		case asciiEqualFold(name, "Connection"):
			for _, tok := range bytes.Split(value, []byte(",")) {
				tok = bytes.TrimSpace(tok)
				h.close = h.close || asciiEqualFold(tok, "close")
				h.keepAlive = h.keepAlive || asciiEqualFold(tok, "keep-alive")
			}
		case keep != nil:
			for _, k := range keptHeaders {
				if asciiEqualFold(name, k) {
					keep.Add(k, string(value))
				}
			}
		}
	}
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func (c *rawClient) discardBody(n int64) error {
	if _, err := c.br.Discard(int(n)); err != nil {
		return fmt.Errorf("reading body: %w", err)
	}
	return nil
}

// readBody reads n bytes and returns the first errSnippetLen of them.
func (c *rawClient) readBody(n int64) ([]byte, error) {
	keep := min(n, errSnippetLen)
	snippet := make([]byte, keep)
	if _, err := io.ReadFull(c.br, snippet); err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	return snippet, c.discardBody(n - keep)
}

// readChunked reads a chunked body and its trailers; the chunks together may not exceed maxResponseBody, the
// size lines and trailers count against the header budget.
func (c *rawClient) readChunked(budget *int, resp *rawResponse) error {
	total := int64(0)
	for {
		line, err := c.readLine(budget)
		if err != nil {
			return fmt.Errorf("reading chunk size: %w", err)
		}
		sizeHex, _, _ := bytes.Cut(line, []byte(";")) // chunk extensions are ignored
		size, err := strconv.ParseInt(string(bytes.TrimSpace(sizeHex)), 16, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("bad chunk size %.32q", line)
		}
		if size == 0 {
			break
		}
		if total += size; total > maxResponseBody {
			return fmt.Errorf("chunked response body over %d bytes refused", maxResponseBody)
		}
		if !resp.ok() && len(resp.Snippet) < errSnippetLen {
			part, err := c.readBody(size)
			if err != nil {
				return err
			}
			resp.Snippet = append(resp.Snippet, part[:min(len(part), errSnippetLen-len(resp.Snippet))]...)
		} else if err := c.discardBody(size); err != nil {
			return err
		}
		crlf, err := c.readLine(budget)
		if err != nil || len(crlf) != 0 {
			return fmt.Errorf("chunk not followed by CRLF")
		}
	}
	for { // trailers, up to the empty line
		line, err := c.readLine(budget)
		if err != nil {
			return fmt.Errorf("reading trailers: %w", err)
		}
		if len(line) == 0 {
			return nil
		}
	}
}

// readToEOF reads a body delimited by the end of the connection.
func (c *rawClient) readToEOF(resp *rawResponse) error {
	n, err := io.Copy(io.Discard, io.LimitReader(c.br, maxResponseBody+1))
	if err != nil {
		return fmt.Errorf("reading body: %w", err)
	}
	if n > maxResponseBody {
		return fmt.Errorf("response body over %d bytes refused", maxResponseBody)
	}
	return nil
}

// rawTarget is a compiled reqTemplate: the address to connect to and the serialized request, or a generator
// of a new one for every request.
type rawTarget struct {
	addr  string
	fixed []byte
	next  func() ([]byte, error) // nil: send fixed every time
}

func (t *rawTarget) request() ([]byte, error) {
	if t.next != nil {
		return t.next()
	}
	return t.fixed, nil
}

// compile serializes tmpl once; with tmpl.Vary, every request is serialized anew with the header and body
// Vary returns.
func compile(tmpl *reqTemplate) (*rawTarget, error) {
	u, err := url.Parse(tmpl.URL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("%s: only http:// URLs", tmpl.URL)
	}
	if err := checkLoopback(u.Host); err != nil {
		return nil, err
	}
	t := &rawTarget{addr: u.Host}
	if tmpl.Serialized != nil {
		t.next = tmpl.Serialized
		return t, nil
	}
	if tmpl.Vary == nil {
		t.fixed = serialize(tmpl.Method, u, tmpl.Header, tmpl.Body)
		return t, nil
	}
	t.next = func() ([]byte, error) {
		h, body, err := tmpl.Vary()
		if err != nil {
			return nil, err
		}
		return serialize(tmpl.Method, u, h, body), nil
	}
	return t, nil
}

// serialize writes an HTTP/1.1 request with the given header (in sorted order), Host, and a Content-Length
// for a body or a method that carries one.
func serialize(method string, u *url.URL, h http.Header, body []byte) []byte {
	var b bytes.Buffer
	b.WriteString(method + " " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\n")
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range h[name] {
			b.WriteString(name + ": " + strings.NewReplacer("\r", " ", "\n", " ").Replace(v) + "\r\n")
		}
	}
	if h.Get("User-Agent") == "" {
		b.WriteString("User-Agent: tmbench\r\n")
	}
	if len(body) > 0 || method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}
