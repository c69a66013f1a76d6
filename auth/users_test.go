package auth

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

func TestCheckUserName(t *testing.T) {
	for _, ok := range []string{"alice", "Alice Smith", "jürgen", "山田", "a.b-c_d@example.com", strings.Repeat("é", MaxUserNameLen)} {
		if err := CheckUserName(ok); err != nil {
			t.Errorf("CheckUserName(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "a:b", ":", "\x1b]0;x\x07", "a\x00b", "a\rb", "a\nb", "a\tb", "\xff\xfe",
		" alice", "alice ", "ali\u200bce", "ali\u202ece", "a\u0085b", strings.Repeat("a", MaxUserNameLen+1)} {
		err := CheckUserName(bad)
		if !errors.Is(err, ErrInvalidUserName) {
			t.Errorf("CheckUserName(%q) = %v, want ErrInvalidUserName", bad, err)
		}
		if err != nil && strings.ContainsFunc(err.Error(), func(r rune) bool { return r < ' ' || r == 0x7f }) {
			t.Errorf("CheckUserName(%q): the error %q holds a control character", bad, err)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	for _, bad := range []string{"", "12345", "1234567", "ééééééé", strings.Repeat("x", MaxPasswordLen+1)} {
		if err := CheckPassword(bad); !errors.Is(err, ErrWeakPassword) {
			t.Errorf("CheckPassword(%d bytes) = %v, want ErrWeakPassword", len(bad), err)
		}
	}
	for _, ok := range []string{"12345678", "éééééééé", strings.Repeat("x", MaxPasswordLen)} {
		if err := CheckPassword(ok); err != nil {
			t.Errorf("CheckPassword(%d bytes) = %v", len(ok), err)
		}
	}
	if err := CheckPassword("short"); err == nil || !strings.Contains(err.Error(), "at least 8") {
		t.Errorf("the error does not say how long: %v", err)
	}
}

// TestCreateUserCaseRule: names are kept as given, a name differing only by case is refused, the same name
// is a conflict, and an invalid name never reaches the store.
func TestCreateUserCaseRule(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := CreateUser(ctx, s, storage.User{Name: "Alice", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alice", "ALICE", "Alice"} {
		if err := CreateUser(ctx, s, storage.User{Name: name, PasswordHash: "h"}); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("CreateUser(%q) = %v, want ErrConflict", name, err)
		}
	}
	if err := CreateUser(ctx, s, storage.User{Name: "a:b", PasswordHash: "h"}); !errors.Is(err, ErrInvalidUserName) {
		t.Errorf("CreateUser(a:b) = %v", err)
	}
	if err := CreateUser(ctx, s, storage.User{Name: "bob", PasswordHash: "h"}); err != nil {
		t.Fatal(err)
	}
	users, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0].Name != "Alice" || users[1].Name != "bob" {
		t.Errorf("users = %+v, want Alice and bob", users)
	}
}
