package server

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
		{"Basic " + strings.Repeat("A", maxCredentialLen), "", "", false},
		{"", "", "", false},
	}
	for _, c := range cases {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", c.header)
		u, p, ok := basicAuth(r)
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
		if _, _, ok := basicAuth(r); ok && len(authz) > maxCredentialLen {
			t.Fatal("accepted an oversize header")
		}
		if tok := bearerToken(r); len(tok) > maxCredentialLen {
			t.Fatal("returned an oversize token")
		}
	})
}

func TestValidForwardedHosts(t *testing.T) {
	for h, want := range map[string]bool{
		"tokens.example.com": true, "tokens.example.com:8443": true, "127.0.0.1": true, "[::1]": true, "[::1]:8443": true,
		"": false, "[": false, "[::1": false, "[zz]": false, "[::1]x": false, ":8080": false, "host:": false, "host:99999": false,
		"host:+80": false, "a..b": false, "-a.example": false, "exa mple": false, `evil"><x`: false, "a/b": false,
	} {
		if got := validHost(h); got != want {
			t.Errorf("validHost(%q) = %v, want %v", h, got, want)
		}
	}
}

func BenchmarkBasicAuth(b *testing.B) {
	r := httptest.NewRequest("GET", "/security/rest/token/access/60", nil)
	r.SetBasicAuth("simon0897", "s3cret-Passw0rd")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := basicAuth(r); !ok {
			b.Fatal("not parsed")
		}
	}
}

func BenchmarkBearerToken(b *testing.B) {
	r := httptest.NewRequest("GET", "/security/rest/token/verify", nil)
	r.Header.Set("Authorization", "Bearer eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..wBYfNj7vEtFud7n9HbhOPA.NkhDRdO1x6t5DtIEMLgVZFZxcQeCgrBMz6U7GGt_8Dfk3GLjUoYp3HeekImk4hE9YfQNO2u7OiUH8gQj7sC9DtGto8mcgbcJ-0JUsOCSriQK-Qj_agXG2N3qF6SjRopx6IlmmkOnRZAjT1h8Vta-iw.AxI4t1cdU_Riha-aBly0Qg")
	b.ReportAllocs()
	for b.Loop() {
		if bearerToken(r) == "" {
			b.Fatal("not parsed")
		}
	}
}
