package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// The body of a successful check is written by hand: json.Marshal of verifyResponse went through reflection
// and each time's MarshalJSON (then compacted its output), about a tenth of a check's CPU, most of all for
// session tokens with their three times. The bytes are exactly json.Marshal's (TestVerifyResponseJSON).

// appendJSON appends v as json.Marshal writes it.
func (v verifyResponse) appendJSON(b []byte) []byte {
	b = append(b, `{"username":`...)
	b = appendJSONString(b, v.Username)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, string(v.Kind))
	b = appendJSONTime(b, `,"expires_at":`, v.ExpiresAt)
	b = appendJSONTime(b, `,"idle_expires_at":`, v.IdleExpiresAt)
	b = appendJSONTime(b, `,"session_expires_at":`, v.SessionExpiresAt)
	return append(b, '}')
}

// appendJSONString appends s quoted; a string json.Marshal would escape anything in (controls, quotes,
// backslashes, <, >, &, non-ASCII) goes through json.Marshal, so the output is the same.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80 {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONTime appends key and t as time.Time's MarshalJSON writes it (RFC 3339 with nanoseconds), nothing
// for nil. A year outside 0-9999, which MarshalJSON refuses, cannot come from a token.
func appendJSONTime(b []byte, key string, t *time.Time) []byte {
	if t == nil {
		return b
	}
	if y := t.Year(); y < 0 || y > 9999 {
		q, err := json.Marshal(t)
		if err != nil {
			return b
		}
		return append(append(b, key...), q...)
	}
	b = append(b, key...)
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// writeVerifyResponse sends v as reply.JSON would.
func writeVerifyResponse(w http.ResponseWriter, v verifyResponse) {
	body := v.appendJSON(make([]byte, 0, 192))
	body = append(body, '\n')
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Cache-Control"] = []string{"no-store"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}
