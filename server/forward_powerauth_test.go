package server_test

import (
	"net/http"
	"testing"

	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// TestForwardAuthPowerAuth: forward-auth accepts a PowerAuth MAC token header once, refuses its replay and a
// forged one, and leaves the other kinds to their own checks.
func TestForwardAuthPowerAuth(t *testing.T) {
	st := newStack(t, withPowerAuth(powerauth.Config{}, nil))
	dev := st.paNewDevice(t)
	h := http.Header{powerauth.HeaderName: {dev.header(t, st.Clock.Now(), "3.1")}}
	r := forward(t, st.URL, "GET", "", h)
	if r.Status != 200 || r.Header.Get(server.HeaderTokenUser) != "simon0897" || r.Header.Get(server.HeaderTokenKind) != server.TokenKindPowerAuth {
		t.Fatalf("PowerAuth header: %d %v", r.Status, r.Header)
	}
	if r := forward(t, st.URL, "GET", "", h); r.Status != 401 {
		t.Fatalf("the same header again (replay): %d", r.Status)
	}
	forged := dev
	forged.Secret = make([]byte, 16)
	if r := forward(t, st.URL, "GET", "", http.Header{powerauth.HeaderName: {forged.header(t, st.Clock.Now(), "3.1")}}); r.Status != 401 {
		t.Fatalf("a header signed with the wrong secret: %d", r.Status)
	}
	open := servertest.Do(t, "GET", st.URL+"/security/rest/token/access/60", "", map[string]string{"Authorization": servertest.Basic("simon0897", "s3cret")}).JSON(t)
	if r := forward(t, st.URL, "GET", "", http.Header{"Authorization": {"Bearer " + open["access_token"].(string)}}); r.Status != 200 {
		t.Fatalf("a Spectrum token beside PowerAuth: %d", r.Status)
	}
}
