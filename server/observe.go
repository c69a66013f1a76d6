package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
)

// HeaderRequestID carries a request's id: taken from the client (or proxy) when it is short and plain, made up
// otherwise, echoed in the response and attached to every log line of the request.
const HeaderRequestID = "X-Request-Id"

type requestIDKey struct{}

// requestID returns the id for r: a well-formed incoming X-Request-Id, or a new random one.
func requestID(r *http.Request) string {
	if id := r.Header.Get(HeaderRequestID); plainID(id) {
		return id
	}
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// plainID accepts 1–64 characters of [A-Za-z0-9._-]: enough for every tracing scheme in use, and nothing that
// could forge a log line or smuggle a secret-looking blob into logs.
func plainID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// requestIDHandler adds the request id in the context to each record.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
