package powerauth

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// The reference vectors (protocols.md §1.3), computed independently with Python, Go and Java javax.crypto.
const (
	vecSecret    = "VqAXEhziiT27lxoqREjtcQ=="
	vecNonce     = "AAECAwQFBgcICQoLDA0ODw==" // bytes 00..0f
	vecTimestamp = int64(1700000000000)
	vecTokenID   = "d6561669-34d6-4fee-8913-89477687a5cb"
)

var digestVectors = []struct {
	version, digest string
}{
	{Version30, "AP1YyPm0tcsSTGiwyPSMeSmcGD+WXFM9eh0VvIqfx4w="},
	{Version31, "AP1YyPm0tcsSTGiwyPSMeSmcGD+WXFM9eh0VvIqfx4w="},
	{Version32, "hIDgtR6M8kk4gSC2sBollOuJX/QE/K8z5l9F1j9vwbE="},
	{Version33, "GuLCnTklFG25WnjMiFI0k7dc4DJsP/1pW6ko/RY7BTI="},
}

func mustB64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDigestVectors(t *testing.T) {
	secret, nonce := mustB64(t, vecSecret), mustB64(t, vecNonce)
	for _, v := range digestVectors {
		d, err := Digest(secret, nonce, vecTimestamp, v.version)
		if err != nil {
			t.Fatalf("%s: %v", v.version, err)
		}
		if got := base64.StdEncoding.EncodeToString(d); got != v.digest {
			t.Errorf("version %s: digest %s, want %s", v.version, got, v.digest)
		}
	}
	for _, bad := range []string{"", "2.1", "3.4", "3", "3.2 "} {
		if _, err := Digest(secret, nonce, vecTimestamp, bad); !errors.Is(err, ErrUnsupportedVersion) {
			t.Errorf("version %q: err %v, want ErrUnsupportedVersion", bad, err)
		}
	}
}

// NewHeader is the client side: its header carries the vector digest, and validates back to the same bytes.
func TestNewHeaderMatchesVectors(t *testing.T) {
	for _, v := range digestVectors {
		h, err := NewHeader(vecTokenID, mustB64(t, vecSecret), mustB64(t, vecNonce), vecTimestamp, v.version)
		if err != nil {
			t.Fatal(err)
		}
		want := `PowerAuth token_id="` + vecTokenID + `", token_digest="` + v.digest + `", nonce="` + vecNonce +
			`", timestamp="1700000000000", version="` + v.version + `"`
		if h.String() != want {
			t.Errorf("header\n %s\nwant\n %s", h, want)
		}
		p, err := ParseHeader(h.String())
		if err != nil || p != h {
			t.Fatalf("ParseHeader(String()) = %+v, %v; want %+v", p, err, h)
		}
		c, err := p.Validate()
		if err != nil {
			t.Fatal(err)
		}
		if c.TokenID != vecTokenID || c.Timestamp != vecTimestamp || c.Version != v.version ||
			base64.StdEncoding.EncodeToString(c.Digest) != v.digest || base64.StdEncoding.EncodeToString(c.Nonce) != vecNonce {
			t.Errorf("Validate = %+v", c)
		}
	}
}

func TestParseHeaderForms(t *testing.T) {
	want := Header{TokenID: vecTokenID, Digest: digestVectors[3].digest, Nonce: vecNonce, Timestamp: "1700000000000", Version: "3.3"}
	forms := map[string]string{
		"buildHttpHeader order": `PowerAuth token_id="` + vecTokenID + `", token_digest="` + want.Digest + `", nonce="` + vecNonce +
			`", timestamp="1700000000000", version="3.3"`,
		"SDK order, version first": `PowerAuth version="3.3", token_id="` + vecTokenID + `", token_digest="` + want.Digest +
			`", nonce="` + vecNonce + `", timestamp="1700000000000"`,
		"docs: no commas, line-wrapped": "PowerAuth token_id=\"" + vecTokenID + "\"\n\ttoken_digest=\"" + want.Digest +
			"\"\n\tnonce=\"" + vecNonce + "\"\n\ttimestamp=\"1700000000000\"\n\tversion=\"3.3\"",
		"bare values": `PowerAuth nonce=` + vecNonce + ` timestamp=1700000000000 version=3.3 token_id=` + vecTokenID +
			` token_digest=` + want.Digest,
		"extra separators and padding": `  PowerAuth  ,, timestamp="1700000000000",,version="3.3" ,token_id="` + vecTokenID +
			`"	token_digest="` + want.Digest + `", nonce="` + vecNonce + `",  `,
		"unknown key ignored": `PowerAuth application_key="xyz", token_id="` + vecTokenID + `", token_digest="` + want.Digest +
			`", nonce="` + vecNonce + `", timestamp="1700000000000", version="3.3"`,
	}
	for name, v := range forms {
		// The docs' form has newlines only as a multi-line rendering; HTTP folds them into spaces.
		v = strings.NewReplacer("\n", " ").Replace(v)
		got, err := ParseHeader(v)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got != want {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
	}
}

func TestParseHeaderMalformed(t *testing.T) {
	good := `token_id="` + vecTokenID + `", token_digest="` + digestVectors[3].digest + `", nonce="` + vecNonce +
		`", timestamp="1700000000000", version="3.3"`
	cases := map[string]string{
		"empty":                 "",
		"no prefix":             good,
		"lower-case prefix":     "powerauth " + good,
		"other scheme":          "Bearer " + good,
		"prefix only":           "PowerAuthtoken_id=x",
		"no equals":             `PowerAuth token_id`,
		"unterminated quote":    `PowerAuth token_id="abc, nonce="x`,
		"text after quote":      `PowerAuth token_id="abc"x nonce="y"`,
		"stray quote":           `PowerAuth token_id=ab"c`,
		"bad key byte":          `PowerAuth token-id="abc"`,
		"duplicate key":         `PowerAuth ` + good + `, nonce="` + vecNonce + `"`,
		"duplicate unknown key": `PowerAuth foo="1", foo="2"`,
		"oversize header":       `PowerAuth ` + good + `, pad="` + strings.Repeat("a", MaxHeaderLen) + `"`,
		"too many fields":       `PowerAuth a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9 j=10 k=11`,
		"overlong value":        `PowerAuth token_id="` + strings.Repeat("a", maxValueLen+1) + `"`,
	}
	for name, v := range cases {
		_, err := ParseHeader(v)
		var he *HeaderError
		if !errors.As(err, &he) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: ParseHeader(%.60q) = %v, want a HeaderError wrapping ErrInvalid", name, v, err)
		}
	}
	// Just inside the bounds still parses.
	atLimit := `PowerAuth token_id="` + strings.Repeat("a", maxValueLen) + `"`
	if _, err := ParseHeader(atLimit); err != nil {
		t.Errorf("value of exactly %d bytes: %v", maxValueLen, err)
	}
	tenFields := `PowerAuth a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9 j=10`
	if _, err := ParseHeader(tenFields); err != nil {
		t.Errorf("%d fields: %v", maxFields, err)
	}
}

func TestValidateCodes(t *testing.T) {
	good := Header{TokenID: vecTokenID, Digest: digestVectors[3].digest, Nonce: vecNonce, Timestamp: "1700000000000", Version: "3.3"}
	with := func(f func(*Header)) Header { h := good; f(&h); return h }
	cases := []struct {
		h    Header
		code string
	}{
		{with(func(h *Header) { h.TokenID = "" }), "POWER_AUTH_TOKEN_ID_EMPTY"},
		{with(func(h *Header) { h.TokenID = "not-a-uuid" }), "POWER_AUTH_TOKEN_ID_INVALID"},
		{with(func(h *Header) { h.TokenID = "d6561669-34d6-6fee-8913-89477687a5cb" }), "POWER_AUTH_TOKEN_ID_INVALID"}, // version 6
		{with(func(h *Header) { h.TokenID = "d6561669-34d6-4fee-c913-89477687a5cb" }), "POWER_AUTH_TOKEN_ID_INVALID"}, // variant
		{with(func(h *Header) { h.Digest = "" }), "POWER_AUTH_TOKEN_DIGEST_EMPTY"},
		{with(func(h *Header) { h.Digest = "!!!!" }), "POWER_AUTH_TOKEN_DIGEST_INVALID"},
		{with(func(h *Header) { h.Digest = vecNonce }), "POWER_AUTH_TOKEN_DIGEST_INVALID"}, // 16 bytes, not 32
		{with(func(h *Header) { h.Nonce = "" }), "POWER_AUTH_TOKEN_NONCE_EMPTY"},
		{with(func(h *Header) { h.Nonce = good.Digest }), "POWER_AUTH_TOKEN_NONCE_INVALID"}, // 32 bytes, not 16
		{with(func(h *Header) { h.Nonce = "AAECAwQFBgcICQoLDA0ODw=" }), "POWER_AUTH_TOKEN_NONCE_INVALID"},
		{with(func(h *Header) { h.Timestamp = "" }), "POWER_AUTH_TOKEN_TIMESTAMP_EMPTY"},
		{with(func(h *Header) { h.Timestamp = "12345678" }), "POWER_AUTH_TOKEN_TIMESTAMP_INVALID"},         // 8 digits
		{with(func(h *Header) { h.Timestamp = "1234567890123456" }), "POWER_AUTH_TOKEN_TIMESTAMP_INVALID"}, // 16
		{with(func(h *Header) { h.Timestamp = "-170000000000" }), "POWER_AUTH_TOKEN_TIMESTAMP_INVALID"},
		{with(func(h *Header) { h.Timestamp = "1.7e+12000" }), "POWER_AUTH_TOKEN_TIMESTAMP_INVALID"},
		{with(func(h *Header) { h.Version = "" }), "POWER_AUTH_TOKEN_VERSION_EMPTY"},
		{with(func(h *Header) { h.Version = "3.4" }), "POWER_AUTH_TOKEN_VERSION_INVALID"},
		{with(func(h *Header) { h.Version = "2.1" }), "POWER_AUTH_TOKEN_VERSION_INVALID"},
	}
	for _, c := range cases {
		_, err := c.h.Validate()
		var he *HeaderError
		if !errors.As(err, &he) || he.Code != c.code || !errors.Is(err, ErrInvalid) {
			t.Errorf("Validate(%+v) = %v, want %s", c.h, err, c.code)
		}
	}
	// Accepted variants: upper-case token id (compared in lower case), unpadded Base64, 9- and 15-digit timestamps.
	for _, h := range []Header{
		with(func(h *Header) { h.TokenID = strings.ToUpper(vecTokenID) }),
		with(func(h *Header) { h.Nonce = strings.TrimRight(vecNonce, "=") }),
		with(func(h *Header) { h.Timestamp = "123456789" }),
		with(func(h *Header) { h.Timestamp = "999999999999999" }),
	} {
		c, err := h.Validate()
		if err != nil {
			t.Errorf("Validate(%+v) = %v", h, err)
		}
		if c.TokenID != vecTokenID {
			t.Errorf("token id %q, want lower case", c.TokenID)
		}
	}
}

// FuzzParseHeader: the parser never panics, respects its bounds, and what it accepts survives a round trip
// through String (for values String can carry).
func FuzzParseHeader(f *testing.F) {
	h, _ := NewHeader(vecTokenID, mustB64(f, vecSecret), mustB64(f, vecNonce), vecTimestamp, Version33)
	f.Add(h.String())
	f.Add(`PowerAuth version="3.3", token_id="` + vecTokenID + `", token_digest="` + h.Digest + `", nonce="` + vecNonce + `", timestamp="1700000000000"`)
	f.Add(`PowerAuth token_id=` + vecTokenID + ` token_digest=` + h.Digest + ` nonce=` + vecNonce + ` timestamp=1700000000000 version=3.0`)
	f.Add(`PowerAuth token_id="`)
	f.Add(`PowerAuth a=1,,b="2",c=""`)
	f.Add(`PowerAuth x="y"z`)
	f.Add("PowerAuth \x00=\"\"")
	f.Fuzz(func(t *testing.T, v string) {
		h, err := ParseHeader(v)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if len(v) > MaxHeaderLen {
			t.Fatalf("accepted %d bytes", len(v))
		}
		for _, f := range []string{h.TokenID, h.Digest, h.Nonce, h.Timestamp, h.Version} {
			if len(f) > maxValueLen {
				t.Fatalf("accepted a %d-byte value", len(f))
			}
		}
		if c, err := h.Validate(); err == nil {
			if len(c.Digest) != DigestSize || len(c.Nonce) != NonceSize {
				t.Fatalf("validated sizes %d, %d", len(c.Digest), len(c.Nonce))
			}
			again, err := ParseHeader(h.String())
			if err != nil || again != h {
				t.Fatalf("round trip of %q: %+v, %v", h.String(), again, err)
			}
		}
	})
}

func BenchmarkDigest(b *testing.B) {
	secret, nonce := mustB64(b, vecSecret), mustB64(b, vecNonce)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Digest(secret, nonce, vecTimestamp, Version33); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseAndValidate(b *testing.B) {
	h, _ := NewHeader(vecTokenID, mustB64(b, vecSecret), mustB64(b, vecNonce), vecTimestamp, Version33)
	v := h.String()
	b.ReportAllocs()
	for b.Loop() {
		p, _ := ParseHeader(v)
		p.Validate()
	}
}
