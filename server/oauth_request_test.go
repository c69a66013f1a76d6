package server

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tokenmanager/tokenmanager/server/internal/credential"
)

func TestParseOAuthForm(t *testing.T) {
	form, err := parseOAuthForm("grant_type=client_credentials&scope=&x=1&client_secret=a%2Bb+c")
	if err != nil || len(form) != 3 || form["grant_type"] != "client_credentials" || form["client_secret"] != "a+b c" {
		t.Fatalf("parseOAuthForm = %v, %v", form, err)
	}
	if _, ok := form["scope"]; ok {
		t.Error("an empty parameter was kept (RFC 6749 §3.2: treated as omitted)")
	}
	for _, bad := range []string{"a=1&a=2", "a=%zz", "a=%ff", "a=1;b=2", "%ff=1", strings.Repeat("a=1&", maxFormParams)} {
		if _, err := parseOAuthForm(bad); err == nil {
			t.Errorf("parseOAuthForm(%.40q) accepted it", bad)
		}
	}
}

func TestDecodeClientBasic(t *testing.T) {
	enc := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		header, id, secret string
		ok                 bool
	}{
		{enc("app:key"), "app", "key", true},
		{enc("a%3Ab:c%3Ad:e"), "a:b", "c:d:e", true}, // the first raw colon splits; encoded ones are data
		{enc("a+b:c+d%2B"), "a b", "c d+", true},
		{enc("app:w%C3%B6rd"), "app", "wörd", true},
		{enc("app:"), "app", "", true},
		{enc(":key"), "", "", false},
		{enc("app:%zz"), "", "", false},
		{enc("app:%ff"), "", "", false},
		{enc("nocolon"), "", "", false},
		{"Basic !!!", "", "", false},
	}
	for _, c := range cases {
		r := &http.Request{Header: http.Header{"Authorization": {c.header}}}
		id, secret, err := decodeClientBasic(r)
		if id != c.id || secret != c.secret || (err == nil) != c.ok {
			t.Errorf("%q: %q %q %v", c.header, id, secret, err)
		}
	}
}

func TestParseBearerHeader(t *testing.T) {
	for h, want := range map[string]string{
		"Bearer abc":          "abc",
		"bearer a-b.c_d~e+f/": "a-b.c_d~e+f/",
		"Bearer abc==":        "abc==",
		"Bearer    abc":       "abc",
	} {
		if got, err := parseBearerHeader(h); err != nil || got != want {
			t.Errorf("%q: %q, %v", h, got, err)
		}
	}
	for h, want := range map[string]error{
		"":                   errBearerMissing,
		"Basic abc":          errBearerMissing,
		"Bearer":             errBearerMalformed,
		"Bearer ":            errBearerMalformed,
		"Bearer a b":         errBearerMalformed,
		"Bearer ==":          errBearerMalformed,
		"Bearer a=b":         errBearerMalformed,
		"Bearer \x00":        errBearerMalformed,
		"Bearer " + big(5e3): errBearerMalformed,
	} {
		if _, err := parseBearerHeader(h); !errors.Is(err, want) {
			t.Errorf("%.30q: %v, want %v", h, err, want)
		}
	}
}

func big(n int) string { return strings.Repeat("a", n) }

func FuzzParseOAuthForm(f *testing.F) {
	f.Add("grant_type=client_credentials&scope=Partner")
	f.Add("grant_type=client_credentials&client_id=a%2Bb&client_secret=c+d&scope=")
	f.Add("token=tmat_x&token_type_hint=access_token")
	f.Add("a=1&a=2")
	f.Add("%ff=%zz;x")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := parseOAuthForm(body)
		if err != nil {
			return
		}
		if len(form) > maxFormParams {
			t.Fatalf("%d parameters accepted", len(form))
		}
		vals, perr := url.ParseQuery(body)
		if perr != nil {
			t.Fatalf("accepted a body url.ParseQuery refuses: %v", perr)
		}
		for k, v := range form {
			if v == "" || !utf8.ValidString(k) || !utf8.ValidString(v) {
				t.Fatalf("kept %q=%q", k, v)
			}
			if len(vals[k]) != 1 || vals[k][0] != v {
				t.Fatalf("%q: %q, but the body has %q", k, v, vals[k])
			}
		}
	})
}

func FuzzDecodeClientBasic(f *testing.F) {
	f.Add("Basic " + base64.StdEncoding.EncodeToString([]byte("4f3d7c7bd74649b9a798ab8f8e8c6b81:1476aca794464056ba8aa6a1a9f921da")))
	f.Add("Basic " + base64.StdEncoding.EncodeToString([]byte("a%3Ab:c+d%2B%C3%B6")))
	f.Add("basic " + base64.StdEncoding.EncodeToString([]byte("x:%zz")))
	f.Add("Bearer abc")
	f.Fuzz(func(t *testing.T, header string) {
		r := &http.Request{Header: http.Header{"Authorization": {header}}}
		id, secret, err := decodeClientBasic(r)
		if err != nil {
			return
		}
		if len(header) > credential.MaxLen || id == "" || !utf8.ValidString(id) || !utf8.ValidString(secret) {
			t.Fatalf("accepted %q as %q / %q", header, id, secret)
		}
		// What we decoded, encoded again as RFC 6749 says, decodes to the same.
		again := &http.Request{Header: http.Header{}}
		again.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		id2, secret2, err := decodeClientBasic(again)
		if len(again.Header.Get("Authorization")) <= credential.MaxLen && (err != nil || id2 != id || secret2 != secret) {
			t.Fatalf("round trip of %q / %q gave %q / %q, %v", id, secret, id2, secret2, err)
		}
	})
}

func FuzzParseBearerHeader(f *testing.F) {
	f.Add("Bearer tmat_0123456789abcdefABCDEF-_0123456789abcdefABCDEF")
	f.Add("bearer eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..a.b.c")
	f.Add("Bearer a==")
	f.Add("Basic x")
	f.Fuzz(func(t *testing.T, header string) {
		tok, err := parseBearerHeader(header)
		if err != nil {
			return
		}
		if !isB64Token(tok) || len(tok) > credential.MaxLen || !strings.HasSuffix(header, tok) {
			t.Fatalf("accepted %q from %q", tok, header)
		}
	})
}
