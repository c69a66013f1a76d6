package woocommerce

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

var percentOctet = regexp.MustCompile(`%[a-fA-F0-9]{2}`)

func TestSanitizeText(t *testing.T) {
	for in, want := range map[string]string{
		"  a \t\n b  ":     "a b",
		"%%4141x":          "x",
		"ab%2Fcd":          "abcd",
		"<b>bold</b> text": "bold text",
		"\xff\xfeinvalid":  "",
		"ABCDE-12":         "ABCDE-12",
		"%4%41%42":         "%4",
		"store-code%zz":    "store-code%zz",
	} {
		if got := sanitizeText(in); got != want {
			t.Errorf("sanitizeText(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzWooParams drives the WooCommerce parameter reader, WordPress's argument checks and sanitize_text_field
// with arbitrary query strings and bodies.
func FuzzWooParams(f *testing.F) {
	f.Add("action=license_key_activate", "application/x-www-form-urlencoded",
		"store_code=abc&sku=ED-PRO&license_key=ABCDE-12&domain=https%3A%2F%2Fexample.com")
	f.Add("", "application/json", `{"store_code":"abc","activation_id":1795420800,"domain":["x"],"sku":null}`)
	f.Add("a[]=1&a=2&%zz=3&=4&activation_id=-12.5e1", "", "store_code=%3Cb%3E%20x%20%2541&sku")
	f.Add("", "application/json; charset=utf-8", `{"nested":{"deep":[[[[1]]]]}}`)
	f.Add("activation_id=0x1A", "text/plain", "\xff\xfe")
	f.Fuzz(func(t *testing.T, query, contentType, body string) {
		r := httptest.NewRequest("POST", "/wp-json/woo-license-keys/v1/activate", strings.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", contentType)
		p, err := readParams(httptest.NewRecorder(), r, 4096)
		if err != nil {
			if len(body) <= 4096 && err != errBody {
				t.Fatalf("unexpected error %v for a body within the limit", err)
			}
			return
		}
		for op := range restArgNames {
			if e := restArgs(op, p); e != nil && e.Data.Status != 400 {
				t.Fatalf("WordPress error with status %d", e.Data.Status)
			}
		}
		if id, ok := p.activationID(); ok && id < 0 {
			t.Fatalf("absint gave %d", id)
		}
		for name := range p {
			s := sanitizeText(p.text(name))
			if !utf8.ValidString(s) || s != strings.TrimSpace(s) || percentOctet.MatchString(s) || strings.ContainsAny(s, "\r\n\t\x00") {
				t.Fatalf("sanitizeText(%q) = %q", p.text(name), s)
			}
		}
	})
}
