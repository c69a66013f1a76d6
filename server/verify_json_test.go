package server

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/server/internal/reply"
	"github.com/tokenmanager/tokenmanager/storage"
)

func verifyResponseCases() []verifyResponse {
	at := time.Date(2026, 12, 7, 3, 4, 5, 123456789, time.UTC)
	whole := time.Date(2026, 12, 7, 3, 4, 5, 0, time.UTC)
	return []verifyResponse{
		{Username: "admin", Kind: storage.KindOpen},
		{Username: "alice", Kind: storage.KindExpiring, ExpiresAt: &at},
		{Username: "bob", Kind: storage.KindSession, ExpiresAt: &at, IdleExpiresAt: &whole, SessionExpiresAt: &at},
		{Username: `a"b\c<d>&e`, Kind: storage.KindSession, IdleExpiresAt: &whole},
		{Username: "zoë\u2028\x01", Kind: "odd\tkind"},
		{Username: "", Kind: ""},
	}
}

// TestVerifyResponseJSON: the hand-written body is byte for byte what reply.JSON (json.Marshal) sends, with the
// same headers.
func TestVerifyResponseJSON(t *testing.T) {
	for _, v := range verifyResponseCases() {
		want := httptest.NewRecorder()
		reply.JSON(want, 200, v)
		got := httptest.NewRecorder()
		writeVerifyResponse(got, v)
		if got.Body.String() != want.Body.String() {
			t.Errorf("body\n got %s\nwant %s", got.Body, want.Body)
		}
		for _, h := range []string{"Content-Type", "Cache-Control", "Content-Length"} {
			if got.Header().Get(h) != want.Header().Get(h) {
				t.Errorf("%s: got %q, want %q", h, got.Header().Get(h), want.Header().Get(h))
			}
		}
		if got.Code != want.Code {
			t.Errorf("status %d, want %d", got.Code, want.Code)
		}
	}
}

// BenchmarkVerifyResponse: the body of a session token's check (three times), by json.Marshal and by hand.
func BenchmarkVerifyResponse(b *testing.B) {
	v := verifyResponseCases()[2]
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("appendJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v.appendJSON(make([]byte, 0, 192))
		}
	})
}
