package credential

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestBasicAuthParsing(t *testing.T) {
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		header     string
		user, pass string
		ok         bool
	}{
		{"Basic " + enc("simon0897:s3:cret"), "simon0897", "s3:cret", true},
		{"basic " + enc("a:"), "a", "", true},
		{"Basic " + enc("no-colon"), "", "", false},
		{"Basic !!!", "", "", false},
		{"Bearer " + enc("a:b"), "", "", false},
		{"Basic " + strings.Repeat("A", MaxLen), "", "", false},
		{"", "", "", false},
	}
	for _, c := range cases {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", c.header)
		u, p, ok := Basic(r)
		if u != c.user || p != c.pass || ok != c.ok {
			t.Errorf("%.40q: got %q %q %v", c.header, u, p, ok)
		}
	}
}

func FuzzCredentialHeaders(f *testing.F) {
	f.Add("Basic c2ltb246cHc=", "spectrum.authentication.token=abc; SESSION=x")
	f.Add("Bearer eyJ..a.b.c", "")
	f.Fuzz(func(t *testing.T, authz, cookie string) {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", authz)
		r.Header.Set("Cookie", cookie)
		if _, _, ok := Basic(r); ok && len(authz) > MaxLen {
			t.Fatal("accepted an oversize header")
		}
		if tok := BearerToken(r); len(tok) > MaxLen {
			t.Fatal("returned an oversize token")
		}
	})
}

func BenchmarkBasicAuth(b *testing.B) {
	r := httptest.NewRequest("GET", "/security/rest/token/access/60", nil)
	r.SetBasicAuth("simon0897", "s3cret-Passw0rd")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := Basic(r); !ok {
			b.Fatal("not parsed")
		}
	}
}

func BenchmarkBearerToken(b *testing.B) {
	r := httptest.NewRequest("GET", "/security/rest/token/verify", nil)
	r.Header.Set("Authorization", "Bearer eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..wBYfNj7vEtFud7n9HbhOPA.NkhDRdO1x6t5DtIEMLgVZFZxcQeCgrBMz6U7GGt_8Dfk3GLjUoYp3HeekImk4hE9YfQNO2u7OiUH8gQj7sC9DtGto8mcgbcJ-0JUsOCSriQK-Qj_agXG2N3qF6SjRopx6IlmmkOnRZAjT1h8Vta-iw.AxI4t1cdU_Riha-aBly0Qg")
	b.ReportAllocs()
	for b.Loop() {
		if BearerToken(r) == "" {
			b.Fatal("not parsed")
		}
	}
}
