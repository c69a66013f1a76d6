package token

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/tokenmanager/tokenmanager/storage"
)

func testKey() []byte { return bytes.Repeat([]byte{0x42}, 32) }

func TestHeaderBytesAreSpectrums(t *testing.T) {
	// The first segment of the token in Spectrum's documentation.
	const spectrum = "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0"
	c, _ := NewCodec(testKey())
	tok, err := c.Seal(Claims{ID: "id", User: "u", Kind: storage.KindOpen})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 5 || parts[0] != spectrum || parts[1] != "" {
		t.Fatalf("token %q: want 5 parts, header %s, empty key part", tok, spectrum)
	}
	if iv, _ := base64.RawURLEncoding.DecodeString(parts[2]); len(iv) != 16 {
		t.Fatalf("IV is %d bytes, want 16", len(iv))
	}
}

func TestRoundTripAndGoJoseInterop(t *testing.T) {
	c, _ := NewCodec(testKey())
	want := Claims{ID: "abc", User: "simon0897", Kind: storage.KindSession, Session: "s", Host: "10.0.0.1", IssuedAt: 1, ExpiresAt: 2}
	tok, err := c.Seal(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Open(tok)
	if err != nil || got != want {
		t.Fatalf("Open = %+v, %v; want %+v", got, err, want)
	}
	// An independent JWE implementation must decrypt it with the same key.
	obj, err := jose.ParseEncryptedCompact(tok, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A128CBC_HS256})
	if err != nil {
		t.Fatalf("go-jose parse: %v", err)
	}
	plain, err := obj.Decrypt(testKey())
	if err != nil {
		t.Fatalf("go-jose decrypt: %v", err)
	}
	if !bytes.Contains(plain, []byte(`"sub":"simon0897"`)) {
		t.Fatalf("go-jose plaintext %s", plain)
	}
}

// The RFC 7516 A.3 content, as a dir token with Spectrum's header (vector from reference/protocols.md §4.1).
func TestOpenKnownVector(t *testing.T) {
	cek, _ := base64.RawURLEncoding.DecodeString("BNMfxVSd_P4LZJ36P6pqzmt81C1vawnbyLEA8I-cLM8")
	c, err := NewCodec(cek)
	if err != nil {
		t.Fatal(err)
	}
	const tok = "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..AxY8DCtDaGlsbGljb3RoZQ.KDlTtXchhZTGufMYmOYGS4HffxPSUrfmqCHXaI9wOGY.8ag2LDxL76a-C0uYbEmwdQ"
	iv, _ := base64.RawURLEncoding.DecodeString("AxY8DCtDaGlsbGljb3RoZQ")
	ct, _ := base64.RawURLEncoding.DecodeString("KDlTtXchhZTGufMYmOYGS4HffxPSUrfmqCHXaI9wOGY")
	tag, _ := base64.RawURLEncoding.DecodeString("8ag2LDxL76a-C0uYbEmwdQ")
	plain, err := c.primary.aead.Open(nil, iv, append(ct, tag...), []byte(HeaderSegment))
	if err != nil || string(plain) != "Live long and prosper." {
		t.Fatalf("vector: %q, %v", plain, err)
	}
	// Not JSON claims, so Open as a token must refuse it rather than return empty claims.
	if _, err := c.Open(tok); err == nil {
		t.Fatal("Open accepted a token without claims")
	}
}

func TestOpenRejects(t *testing.T) {
	c, _ := NewCodec(testKey())
	good, _ := c.Seal(Claims{ID: "abc", User: "u", Kind: storage.KindOpen})
	parts := strings.Split(good, ".")
	other, _ := NewCodec(bytes.Repeat([]byte{1}, 32))
	goJoseHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"dir","enc":"A128CBC-HS256"}`))
	zipHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"enc":"A128CBC-HS256","alg":"dir","zip":"DEF"}`))
	flip := []byte(parts[3])
	flip[0] ^= 1
	cases := map[string]string{
		"empty":               "",
		"garbage":             "not-a-token",
		"four parts":          strings.Join(parts[:4], "."),
		"six parts":           good + ".x",
		"encrypted key part":  parts[0] + ".AAAA." + strings.Join(parts[2:], "."),
		"other header order":  goJoseHeader + "." + strings.Join(parts[1:], "."),
		"zip header":          zipHeader + "." + strings.Join(parts[1:], "."),
		"tampered ciphertext": strings.Join([]string{parts[0], "", parts[2], string(flip), parts[4]}, "."),
		"padded base64":       good + "=",
		"too long":            good + strings.Repeat("A", MaxLen),
		"many dots":           strings.Repeat(".", 10000),
	}
	for name, tok := range cases {
		if _, err := c.Open(tok); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := other.Open(good); err == nil {
		t.Error("opened with another key")
	}
}

func FuzzOpen(f *testing.F) {
	c, _ := NewCodec(testKey())
	good, _ := c.Seal(Claims{ID: "abc", User: "u", Kind: storage.KindOpen})
	f.Add(good)
	f.Add("eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0....")
	f.Add("a.b.c.d.e")
	f.Fuzz(func(t *testing.T, tok string) {
		claims, err := c.Open(tok)
		if err == nil && (claims.ID == "" || tok == "") {
			t.Fatalf("accepted %q with claims %+v", tok, claims)
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	c, _ := NewCodec(testKey())
	cl := Claims{ID: "0123456789abcdef0123456789abcdef", User: "admin", Kind: storage.KindSession, Session: "s", Host: "127.0.0.1", IssuedAt: 1}
	b.ReportAllocs()
	for b.Loop() {
		c.Seal(cl)
	}
}

func BenchmarkOpen(b *testing.B) {
	c, _ := NewCodec(testKey())
	tok, _ := c.Seal(Claims{ID: "0123456789abcdef0123456789abcdef", User: "admin", Kind: storage.KindSession, Session: "s", Host: "127.0.0.1", IssuedAt: 1})
	b.ReportAllocs()
	for b.Loop() {
		c.Open(tok)
	}
}

func TestKeyRing(t *testing.T) {
	k0 := Key{Secret: testKey()}
	k1 := Key{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)}
	old, _ := NewCodec(k0.Secret)
	before, _ := old.Seal(Claims{ID: "a", User: "alice", Kind: storage.KindOpen})

	rotated, err := NewRing(k1, k0)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := rotated.Seal(Claims{ID: "b", User: "alice", Kind: storage.KindOpen})
	header, _ := base64.RawURLEncoding.DecodeString(strings.SplitN(after, ".", 2)[0])
	if string(header) != `{"enc":"A128CBC-HS256","alg":"dir","kid":"k1"}` {
		t.Fatalf("header after rotation: %s", header)
	}
	for name, tok := range map[string]string{"minted before the rotation": before, "minted after": after} {
		if c, err := rotated.Open(tok); err != nil || c.User != "alice" {
			t.Errorf("%s: %+v, %v", name, c, err)
		}
	}
	if _, err := old.Open(after); err == nil || old.KnowsKeyOf(after) {
		t.Error("a codec without k1 opened, or claims to know, a k1 token")
	}
	// Retired: the original key left the ring.
	retired, _ := NewRing(k1)
	if _, err := retired.Open(before); err == nil {
		t.Error("a token of a retired key still opens")
	}
	// A token of one key with the header of another does not open (the header is the AAD).
	swapped := HeaderSegment + after[strings.Index(after, "."):]
	if _, err := rotated.Open(swapped); err == nil {
		t.Error("a k1 token relabelled as the original key opened")
	}
	for _, bad := range []Key{{ID: "K1", Secret: k1.Secret}, {ID: "a\"b", Secret: k1.Secret}} {
		if _, err := NewRing(bad); err == nil {
			t.Errorf("key id %q accepted", bad.ID)
		}
	}
	if _, err := NewRing(k1, k1); err == nil {
		t.Error("the same key twice accepted")
	}
}

// BenchmarkOpenFirstSight is Open of a token the codec has not seen: decrypt, authenticate, decode.
func BenchmarkOpenFirstSight(b *testing.B) {
	c, _ := NewCodec(testKey())
	tok, _ := c.Seal(Claims{ID: "0123456789abcdef0123456789abcdef", User: "admin", Kind: storage.KindSession, Session: "s", Host: "127.0.0.1", IssuedAt: 1})
	b.ReportAllocs()
	for b.Loop() {
		c.open(tok)
	}
}

// Once a token has been opened, the remembered claims answer only for that exact token: every altered copy is
// still decrypted and refused.
func TestOpenedTokensAnswerOnlyForTheSameToken(t *testing.T) {
	c, _ := NewCodec(testKey())
	tok, _ := c.Seal(Claims{ID: "0123456789abcdef0123456789abcdef", User: "admin", Kind: storage.KindOpen, IssuedAt: 1})
	want, err := c.Open(tok)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := c.Open(tok); err != nil || again != want {
		t.Fatalf("second Open = %+v, %v", again, err)
	}
	for i := range len(tok) {
		b := []byte(tok)
		b[i] ^= 1
		if got, err := c.Open(string(b)); err == nil {
			t.Fatalf("token altered at byte %d opened: %+v", i, got)
		}
	}
	if got, err := c.Open(tok + "A"); err == nil {
		t.Fatalf("token with a byte appended opened: %+v", got)
	}
	// A codec without the key (a retired key's tokens after the ring reloads) remembers nothing of the old one.
	other, _ := NewCodec(bytes.Repeat([]byte{9}, 32))
	if _, err := other.Open(tok); err == nil {
		t.Fatal("another codec opened the token")
	}
}
