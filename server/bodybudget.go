package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"golang.org/x/sync/semaphore"
)

// A body budget bounds the memory that the request bodies being read at once may hold, whoever sends them: each
// handler bounds its own body, but a thousand clients sending the largest body slowly would otherwise hold a
// thousand of them. A body takes its share of the budget before it is read (by its Content-Length) or as it
// is read (a chunked body); what does not fit within bodyBudgetWait is answered 503 with Retry-After.
//
// The first freeBodyBytes of every body are not counted: every token, licensing and consent request is smaller,
// so clients sending large bodies can never starve them. Their memory is bounded by the number of connections
// (serve's --max-connections) instead.
const (
	freeBodyBytes  = 16 << 10
	bodyBudgetStep = 64 << 10 // a chunked body takes its share in steps of this, not per read
	bodyBudgetWait = time.Second
)

// errBodyBudget is what reading a body returns once it did not fit in the budget; the client has had its 503.
var errBodyBudget = errors.New("server busy: request body refused for lack of memory")

type bodyBudget struct{ sem *semaphore.Weighted }

func newBodyBudget(bytes int64) bodyBudget { return bodyBudget{semaphore.NewWeighted(bytes)} }

// budgetBody counts what is read from a request body against the budget.
type budgetBody struct {
	io.ReadCloser
	budget  bodyBudget
	ctx     context.Context
	refuse  func() // answers 503; called at most once
	read    int64
	held    int64 // taken from the budget, given back by release
	refused bool
}

// take takes n more bytes from the budget, waiting at most bodyBudgetWait.
func (b *budgetBody) take(n int64) bool {
	ctx, cancel := context.WithTimeout(b.ctx, bodyBudgetWait)
	defer cancel()
	if err := b.budget.sem.Acquire(ctx, n); err != nil {
		return false
	}
	b.held += n
	return true
}

func (b *budgetBody) Read(p []byte) (int, error) {
	if b.refused {
		return 0, errBodyBudget
	}
	n, err := b.ReadCloser.Read(p)
	b.read += int64(n)
	if over := b.read - freeBodyBytes - b.held; over > 0 && !b.take(max(over, bodyBudgetStep)) {
		b.refused = true
		b.refuse()
		return 0, errBodyBudget
	}
	return n, err
}

func (b *budgetBody) release() {
	if b.held > 0 {
		b.budget.sem.Release(b.held)
		b.held = 0
	}
}

// limitBody puts r's body under the budget and, when its length is known, takes its share at once. It
// returns false, having answered 503, when the share is not to be had; the caller calls release when done.
func (s *Server) limitBody(rec *statusRecorder, r *http.Request) (*budgetBody, bool) {
	b := &budgetBody{ReadCloser: r.Body, budget: s.bodies, ctx: r.Context(), refuse: func() { s.busy(rec, r) }}
	r.Body = b
	// A body longer than the handlers accept is refused by them after MaxBodyBytes; only that much is taken.
	if n := min(r.ContentLength, s.cfg.MaxBodyBytes) - freeBodyBytes; n > 0 && !b.take(n) {
		b.refused = true
		b.refuse()
		return b, false
	}
	return b, true
}

// busy answers 503 for a body that does not fit in the budget, and closes the connection rather than read the
// rest of the body. What the handler writes afterwards is dropped (statusRecorder.done).
func (s *Server) busy(rec *statusRecorder, r *http.Request) {
	s.deps.Log.DebugContext(r.Context(), "request body refused: body budget exhausted", "path", r.URL.Path, "content_length", r.ContentLength)
	if !rec.wrote {
		h := rec.Header()
		h.Set("Retry-After", "1")
		h.Set("Connection", "close")
		http.Error(rec, "server busy, retry later", http.StatusServiceUnavailable)
	}
	rec.done = true
}
