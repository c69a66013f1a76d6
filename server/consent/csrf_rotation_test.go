package consent

import "testing"

// TestCSRFGuardAcceptsTheOtherServerKey: during a server key rotation a form made under one key is taken under
// the other, and a form of neither key is not.
func TestCSRFGuardAcceptsTheOtherServerKey(t *testing.T) {
	oldKey, newKey, stranger := []byte("old csrf key, 32 bytes long....."), []byte("new csrf key, 32 bytes long....."),
		[]byte("a third key, 32 bytes long......")
	before := csrfGuard{key: oldKey}.token("session:s1")
	during := csrfGuard{key: newKey, others: [][]byte{oldKey}}
	if !during.valid("session:s1", before) {
		t.Fatal("a form of the previous key was refused during the rotation")
	}
	if !during.valid("session:s1", during.token("session:s1")) {
		t.Fatal("a form of the active key was refused")
	}
	if during.valid("session:s2", before) {
		t.Fatal("a form was taken for another binding")
	}
	if during.valid("session:s1", csrfGuard{key: stranger}.token("session:s1")) {
		t.Fatal("a form of neither key was taken")
	}
	if (csrfGuard{key: newKey}).valid("session:s1", before) {
		t.Fatal("a form of a key that left was taken")
	}
}
