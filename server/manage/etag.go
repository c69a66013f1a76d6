package manage

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ETags: a strong validator of a resource's editable state and version. A PATCH must carry If-Match with the
// ETag the client read (428 without it), checked in the same transaction as the change (412 when another
// change came first), so that two administrators never overwrite each other silently.

// etagOf is the ETag of the values that make up a representation.
func etagOf(parts ...any) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%v\x00", p)
	}
	return `"` + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16]) + `"`
}

var errStale = errors.New("stale")

// ifMatch returns the If-Match header of a PATCH, answering 428 when it is missing.
func ifMatch(w http.ResponseWriter, r *http.Request) (string, bool) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" {
		Problem(w, http.StatusPreconditionRequired, "send the ETag you read in If-Match, so that a change made since is not overwritten")
		return "", false
	}
	return v, true
}

// matches reports whether the If-Match value names etag ("*" matches any).
func matches(header, etag string) bool {
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimSpace(v)
		if v == "*" || v == etag {
			return true
		}
	}
	return false
}

// precondition is the check a core edit runs inside its transaction.
func precondition[T any](header string, etag func(T) string) func(T) error {
	return func(cur T) error {
		if !matches(header, etag(cur)) {
			return errStale
		}
		return nil
	}
}

func stale(w http.ResponseWriter) {
	Problem(w, http.StatusPreconditionFailed, "the resource changed since you read it; read it again and reapply your change")
}
