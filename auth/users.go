package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tokenmanager/tokenmanager/storage"
)

const (
	// MaxUserNameLen bounds a user name, in characters.
	MaxUserNameLen = 64
	// MinPasswordLen is the shortest password a user may be given, in characters (OWASP's minimum for
	// passwords without multi-factor authentication).
	MinPasswordLen = 8
)

// ErrInvalidUserName and ErrWeakPassword are wrapped by CheckUserName's and CheckPassword's errors.
var (
	ErrInvalidUserName = errors.New("invalid user name")
	ErrWeakPassword    = errors.New("password too weak")
)

// CheckUserName reports whether name may name a new user: 1 to 64 printable characters (spaces allowed, but
// not at either end), valid UTF-8, and no ':' — HTTP Basic splits user and password at the first colon, so
// such a user could never sign in. Control and other invisible characters are refused so that a name looks
// the same wherever it is shown.
func CheckUserName(name string) error {
	bad := func(why string) error { return fmt.Errorf("%w %s: %s", ErrInvalidUserName, strconv.Quote(name), why) }
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrInvalidUserName)
	case !utf8.ValidString(name):
		return bad("not valid UTF-8")
	case utf8.RuneCountInString(name) > MaxUserNameLen:
		return bad(fmt.Sprintf("longer than %d characters", MaxUserNameLen))
	case strings.ContainsRune(name, ':'):
		return bad("contains ':', which HTTP Basic authentication cannot carry in a user name")
	case strings.TrimSpace(name) != name:
		return bad("begins or ends with a space")
	}
	for _, r := range name {
		if r != ' ' && !strconv.IsPrint(r) {
			return bad(fmt.Sprintf("contains the control or invisible character %U", r))
		}
	}
	return nil
}

// CheckPassword reports whether password may be set: at least MinPasswordLen characters, at most
// MaxPasswordLen bytes.
func CheckPassword(password string) error {
	if n := utf8.RuneCountInString(password); n < MinPasswordLen {
		return fmt.Errorf("%w: %d characters, at least %d are needed", ErrWeakPassword, n, MinPasswordLen)
	}
	if len(password) > MaxPasswordLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrWeakPassword, MaxPasswordLen)
	}
	return nil
}

// CreateUser adds u after checking its name. Names are stored and matched exactly (alice cannot sign in as
// Alice), and a name that differs only by case from an existing user's is refused, so that two accounts never
// look alike: the error then wraps storage.ErrConflict, as for a name that is taken.
func CreateUser(ctx context.Context, users storage.Users, u storage.User) error {
	if err := CheckUserName(u.Name); err != nil {
		return err
	}
	existing, err := users.ListUsers(ctx)
	if err != nil {
		return err
	}
	for _, e := range existing {
		if e.Name != u.Name && strings.EqualFold(e.Name, u.Name) {
			return caseConflict{name: u.Name, existing: e.Name}
		}
	}
	return users.CreateUser(ctx, u)
}

// caseConflict is CreateUser's refusal of a name that differs only by case from an existing one.
type caseConflict struct{ name, existing string }

func (c caseConflict) Error() string {
	return fmt.Sprintf("user %q differs from the existing %q only by case", c.name, c.existing)
}

func (caseConflict) Unwrap() error { return storage.ErrConflict }
