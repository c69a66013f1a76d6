package keys

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "server.key")
	k1, created, err := LoadOrCreate(path)
	if err != nil || !created || len(k1) != Size {
		t.Fatalf("create: %v created=%v len=%d", err, created, len(k1))
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	k2, created, err := LoadOrCreate(path)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("reload: %v created=%v same=%v", err, created, bytes.Equal(k1, k2))
	}
	os.Chmod(path, 0o644)
	if _, _, err := LoadOrCreate(path); err == nil {
		t.Fatal("a world-readable key file was accepted")
	}
}

func TestParse(t *testing.T) {
	if _, err := Parse("c2hvcnQ="); err == nil {
		t.Fatal("short key accepted")
	}
	if _, err := Parse("!!!"); err == nil {
		t.Fatal("non-base64 accepted")
	}
	k, err := Parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil || k[31] != 31 {
		t.Fatalf("Parse = %v, %v", k, err)
	}
}

func TestDeriveSeparatesPurposes(t *testing.T) {
	m := bytes.Repeat([]byte{7}, Size)
	if bytes.Equal(Derive(m, PurposeSeal), Derive(m, PurposeTokenEncryption)) {
		t.Fatal("two purposes share a subkey")
	}
	if !bytes.Equal(Derive(m, PurposeSeal), Derive(m, PurposeSeal)) {
		t.Fatal("Derive is not deterministic")
	}
}

func TestSealer(t *testing.T) {
	s := NewSealer(bytes.Repeat([]byte{1}, Size))
	sealed := s.Seal([]byte("hunter2"), "user:alice")
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Fatal("plaintext visible in sealed value")
	}
	got, err := s.Open(sealed, "user:alice")
	if err != nil || string(got) != "hunter2" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := s.Open(sealed, "user:bob"); err == nil {
		t.Fatal("sealed value opened under another row's associated data")
	}
	other := NewSealer(bytes.Repeat([]byte{2}, Size))
	if _, err := other.Open(sealed, "user:alice"); err == nil {
		t.Fatal("opened with another server key")
	}
}

func TestFingerprint(t *testing.T) {
	a, b := make([]byte, Size), make([]byte, Size)
	b[0] = 1
	fa := Fingerprint(a)
	if fa != Fingerprint(append([]byte(nil), a...)) || fa == Fingerprint(b) || len(fa) != 2*Size {
		t.Fatalf("fingerprints %s, %s", fa, Fingerprint(b))
	}
	// It is none of the key's working subkeys.
	for _, p := range []string{PurposeTokenEncryption, PurposeSeal, PurposeCredentialCache, PurposeCSRF} {
		if hex.EncodeToString(Derive(a, p)) == fa {
			t.Fatalf("the fingerprint is the %s subkey", p)
		}
	}
}
