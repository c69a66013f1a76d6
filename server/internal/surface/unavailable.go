package surface

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/tokenmanager/tokenmanager/server/internal/reply"
	"github.com/tokenmanager/tokenmanager/storage"
)

// RetryAfterUnavailable is the Retry-After sent with a 503 while the database is unavailable: long enough not
// to turn every client into a retry storm, short enough that a restarted database is back in use within it.
const RetryAfterUnavailable = 2 * time.Second

// Unavailable reports whether err is the database being unreachable or out of space (storage.ErrUnavailable):
// a failure that will pass, answered 503 with Retry-After rather than 500.
func Unavailable(err error) bool { return errors.Is(err, storage.ErrUnavailable) }

// Failure logs err, a failure of ours rather than the client's, and returns the status to answer it with:
// 503, with Retry-After set in h, when the database is unavailable; 500 otherwise. Every surface sends its
// internal errors through here, in its own dialect's body.
func (e *Env) Failure(ctx context.Context, h http.Header, err error) int {
	e.InternalError(ctx, err)
	if Unavailable(err) {
		reply.RetryAfter(h, RetryAfterUnavailable)
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
