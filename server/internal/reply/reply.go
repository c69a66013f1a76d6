// Package reply writes the answers every HTTP surface shares: JSON bodies and Retry-After.
package reply

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// RetryAfter sets Retry-After in whole seconds, rounded up.
func RetryAfter(h http.Header, wait time.Duration) {
	h.Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
}

// JSON writes v as the JSON body of a status answer that no cache may keep.
func JSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil { // our own response types always marshal
		panic("reply: JSON: " + err.Error())
	}
	body = append(body, '\n')
	h := w.Header()
	// Canonical keys assigned directly: this runs on every token check.
	h["Content-Type"] = []string{"application/json"}
	h["Cache-Control"] = []string{"no-store"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
}
