package keys

import (
	"bytes"
	"crypto/rand"
	"testing"
)

func randomKey() []byte {
	k := make([]byte, Size)
	rand.Read(k)
	return k
}

// TestSetSealer: a Sealer over a Set seals with the active key and opens with both; it follows the set as it
// changes; a key that left the set no longer opens anything.
func TestSetSealer(t *testing.T) {
	old, next := randomKey(), randomKey()
	set := NewSet(old, nil)
	s := set.SealerFor(PurposeSeal)
	byOld := s.Seal([]byte("secret"), "row 1")
	if p, err := NewSealer(old).Open(byOld, "row 1"); err != nil || string(p) != "secret" {
		t.Fatalf("a Set sealer's value does not open with the fixed sealer of its key: %q %v", p, err)
	}

	set.Use(old, next) // the new key arrives, the database still uses the old one
	if !set.Activate(Fingerprint(old)) || !bytes.Equal(set.Active(), old) {
		t.Fatal("Activate(old) did not keep the old key active")
	}
	byOld2 := s.Seal([]byte("secret 2"), "row 2")
	if _, err := NewSealer(old).Open(byOld2, "row 2"); err != nil {
		t.Fatalf("sealed with the non-active key: %v", err)
	}
	if !set.Activate(Fingerprint(next)) || !bytes.Equal(set.Active(), next) {
		t.Fatal("Activate(next) did not make the new key active")
	}
	byNext := s.Seal([]byte("secret 3"), "row 3")
	if _, err := NewSealer(next).Open(byNext, "row 3"); err != nil {
		t.Fatalf("not sealed with the new active key: %v", err)
	}
	for _, c := range []struct {
		sealed []byte
		ad     string
	}{{byOld, "row 1"}, {byOld2, "row 2"}, {byNext, "row 3"}} {
		if _, err := s.Open(c.sealed, c.ad); err != nil {
			t.Fatalf("%s does not open with both keys in the set: %v", c.ad, err)
		}
	}
	if _, err := s.Open(byOld, "row 2"); err == nil {
		t.Fatal("a value opened under another row's associated data")
	}
	if set.Activate(Fingerprint(randomKey())) || !bytes.Equal(set.Active(), next) {
		t.Fatal("Activate of a key the set lacks succeeded or changed the set")
	}

	set.Use(next, nil) // the old key leaves
	if _, err := s.Open(byOld, "row 1"); err == nil {
		t.Fatal("a value of a key no longer in the set still opens")
	}
	if _, err := s.Open(byNext, "row 3"); err != nil {
		t.Fatal(err)
	}
	if got := len(set.Keys()); got != 1 {
		t.Fatalf("Keys() = %d keys, want 1", got)
	}
}

// TestSetSealerWith: the PowerAuth way, a Sealer of a subkey, follows the set too.
func TestSetSealerWith(t *testing.T) {
	old, next := randomKey(), randomKey()
	sub := func(m []byte) []byte { return Derive(Derive(m, PurposePowerAuthTokens), PurposeSeal) }
	set := NewSet(next, old)
	sealed := NewSealer(Derive(old, PurposePowerAuthTokens)).Seal([]byte("s"), "ad")
	if _, err := set.SealerWith(sub).Open(sealed, "ad"); err != nil {
		t.Fatalf("the other key's subkey does not open: %v", err)
	}
}

func TestCreateRefusesToOverwrite(t *testing.T) {
	path := t.TempDir() + "/k"
	if err := Create(path, randomKey()); err != nil {
		t.Fatal(err)
	}
	if err := Create(path, randomKey()); err == nil {
		t.Fatal("Create overwrote a key file")
	}
}
