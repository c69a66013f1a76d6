package license

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/storage"
)

// End-user accounts (Cryptolens' userauth/ methods): people who sign in to a vendor's app with a name and a
// password and so reach the licenses of the customer their account is associated with. They belong to one
// vendor and are not users of this server. Passwords are stored as argon2id hashes, password reset tokens as
// SHA-256 (they are 256 random bits), good for ResetTokenLifetime and once.

// Errors of the end-user methods.
var (
	// ErrEndUserNotFound: the vendor has no user of that name.
	ErrEndUserNotFound = errors.New("license: no such user")
	// ErrEndUserExists: the vendor already has a user of that name (ignoring case).
	ErrEndUserExists = errors.New("license: user name taken")
	// ErrBadUserCredentials: an unknown user name or a wrong password at sign-in.
	ErrBadUserCredentials = errors.New("license: wrong user name or password")
	// ErrPasswordNotChanged: ChangePassword with a wrong old password or an unknown, used or expired reset token.
	ErrPasswordNotChanged = errors.New("license: password not changed")
)

// ResetTokenLifetime is how long a password reset token is good.
const ResetTokenLifetime = 24 * time.Hour

// Passwords hash and check end users' passwords. *auth.Authenticator is one: it bounds how many hashes run
// at once, so that a storm of sign-ins cannot take every core.
type Passwords interface {
	HashPassword(password string) (string, error)
	// VerifyHash reports whether password matches hash; an empty hash costs the same and reports false.
	VerifyHash(hash, password string) (bool, error)
}

// plainPasswords is Passwords without a bound, for callers that give none (the command line).
type plainPasswords struct{ dummy string }

func (p *plainPasswords) HashPassword(password string) (string, error) {
	return auth.HashPassword(password, auth.DefaultParams)
}

func (p *plainPasswords) VerifyHash(hash, password string) (bool, error) {
	if hash == "" {
		auth.VerifyPassword(p.dummy, password)
		return false, nil
	}
	return auth.VerifyPassword(hash, password)
}

func (s *Service) passwords() Passwords {
	s.pwOnce.Do(func() {
		if s.pw == nil {
			dummy, _ := auth.HashPassword("tokenmanager dummy password", auth.DefaultParams)
			s.pw = &plainPasswords{dummy: dummy}
		}
	})
	return s.pw
}

// allowAny checks that the access holds one of ms.
func (a *Access) allowAny(ms ...Method) error {
	var err error
	for _, m := range ms {
		if err = a.allow(m); err == nil {
			return nil
		}
	}
	return err
}

// checkEndUserName bounds a user name: 1 to MaxNameLen bytes of printable text on one line.
func checkEndUserName(name string) error {
	if name == "" {
		return invalid("empty user name")
	}
	return CheckText("user name", name, MaxNameLen)
}

// checkNewPassword bounds a new password. Its strength is the vendor's app's to judge, as on Cryptolens.
func checkNewPassword(p string) error {
	if p == "" || len(p) > auth.MaxPasswordLen || !utf8.ValidString(p) {
		return invalid("a password of 1 to %d bytes of UTF-8 is needed", auth.MaxPasswordLen)
	}
	return nil
}

func endUserErr(err error, name string) error {
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: %q", ErrEndUserNotFound, name)
	}
	return err
}

// RegisterSpec is userauth/Register: the customer, if any, by its id or its secret.
type RegisterSpec struct {
	Name, Password, Email string
	CustomerID            int64
	CustomerSecret        string
}

// RegisterUser adds an end user of the caller's vendor (UserAuthAdmin).
func (s *Service) RegisterUser(ctx context.Context, a *Access, spec RegisterSpec) (storage.EndUser, error) {
	if err := a.allow(MethodUserAuthAdmin); err != nil {
		return storage.EndUser{}, err
	}
	vendor, err := vendorOf(a)
	if err != nil {
		return storage.EndUser{}, err
	}
	if err := checkEndUserName(spec.Name); err != nil {
		return storage.EndUser{}, err
	}
	if err := checkNewPassword(spec.Password); err != nil {
		return storage.EndUser{}, err
	}
	if err := CheckText("e-mail", spec.Email, MaxNameLen); err != nil {
		return storage.EndUser{}, err
	}
	if spec.CustomerID < 0 || len(spec.CustomerSecret) > MaxNameLen {
		return storage.EndUser{}, invalid("CustomerId %d", spec.CustomerID)
	}
	customer := spec.CustomerID
	switch {
	case customer > 0:
		if _, err := s.customer(ctx, vendor, customer); err != nil {
			return storage.EndUser{}, err
		}
	case spec.CustomerSecret != "":
		c, err := s.store.FindCustomerBySecret(ctx, vendor, hashCustomerSecret(spec.CustomerSecret))
		if errors.Is(err, storage.ErrNotFound) {
			return storage.EndUser{}, fmt.Errorf("%w: no customer has this secret", ErrCustomerNotFound)
		}
		if err != nil {
			return storage.EndUser{}, err
		}
		customer = c.ID
	}
	hash, err := s.passwords().HashPassword(spec.Password)
	if err != nil {
		return storage.EndUser{}, err
	}
	now := s.now()
	u, err := s.store.CreateEndUser(ctx, storage.EndUser{Vendor: vendor, Name: spec.Name, Email: spec.Email, PasswordHash: hash,
		CustomerID: customer, CreatedAt: now, UpdatedAt: now})
	switch {
	case errors.Is(err, storage.ErrConflict):
		return storage.EndUser{}, fmt.Errorf("%w: %q", ErrEndUserExists, spec.Name)
	case errors.Is(err, storage.ErrNotFound): // the customer went meanwhile
		return storage.EndUser{}, fmt.Errorf("%w: %d", ErrCustomerNotFound, customer)
	}
	return u, err
}

// LoginUser is userauth/Login (UserAuthNormal or UserAuthAdmin): the licenses of the customer the user is
// associated with, as the token may see them; none when the user is associated with no customer. An unknown
// name and a wrong password are the same ErrBadUserCredentials and cost the same.
func (s *Service) LoginUser(ctx context.Context, a *Access, name, password string) ([]LicenseKeyObject, error) {
	if err := a.allowAny(MethodUserAuthNormal, MethodUserAuthAdmin); err != nil {
		return nil, err
	}
	vendor, err := vendorOf(a)
	if err != nil {
		return nil, err
	}
	u, err := s.checkPassword(ctx, vendor, name, password)
	if err != nil {
		return nil, err
	}
	if u.CustomerID == 0 {
		return []LicenseKeyObject{}, nil
	}
	return s.customerKeys(ctx, a, u.CustomerID)
}

// checkPassword returns the vendor's user whose password this is, or ErrBadUserCredentials.
func (s *Service) checkPassword(ctx context.Context, vendor, name, password string) (storage.EndUser, error) {
	if name == "" || password == "" || len(name) > MaxNameLen {
		return storage.EndUser{}, fmt.Errorf("%w: empty or overlong", ErrBadUserCredentials)
	}
	u, err := s.store.GetEndUser(ctx, vendor, name)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return storage.EndUser{}, err
	}
	ok, verr := s.passwords().VerifyHash(u.PasswordHash, password) // "" for an unknown user: same cost
	if verr != nil {
		return storage.EndUser{}, fmt.Errorf("user %q: %w", name, verr)
	}
	if err != nil || !ok {
		return storage.EndUser{}, fmt.Errorf("%w: %q", ErrBadUserCredentials, name)
	}
	return u, nil
}

// AssociateUser links the user to a customer of the vendor (UserAuthAdmin); DissociateUser (customerID 0)
// unlinks.
func (s *Service) AssociateUser(ctx context.Context, a *Access, name string, customerID int64) error {
	if err := a.allow(MethodUserAuthAdmin); err != nil {
		return err
	}
	vendor, err := vendorOf(a)
	if err != nil {
		return err
	}
	if customerID < 0 {
		return invalid("CustomerId %d", customerID)
	}
	if customerID > 0 {
		if _, err := s.customer(ctx, vendor, customerID); err != nil {
			return err
		}
	}
	_, err = s.store.UpdateEndUser(ctx, vendor, name, func(u *storage.EndUser) error {
		u.CustomerID, u.UpdatedAt = customerID, s.now()
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		// The user, or the customer (removed meanwhile).
		if _, gerr := s.store.GetEndUser(ctx, vendor, name); gerr == nil {
			return fmt.Errorf("%w: %d", ErrCustomerNotFound, customerID)
		}
	}
	return endUserErr(err, name)
}

// DissociateUser unlinks the user from its customer (UserAuthAdmin).
func (s *Service) DissociateUser(ctx context.Context, a *Access, name string) error {
	return s.AssociateUser(ctx, a, name, 0)
}

// UserFilter is userauth/GetUsers' UserName, Email and CustomerId; empty fields select everyone.
type UserFilter struct {
	Name, Email string
	CustomerID  int64
}

// GetUsers lists the vendor's end users (UserAuthAdmin), ordered by name.
func (s *Service) GetUsers(ctx context.Context, a *Access, f UserFilter) ([]storage.EndUser, error) {
	if err := a.allow(MethodUserAuthAdmin); err != nil {
		return nil, err
	}
	vendor, err := vendorOf(a)
	if err != nil {
		return nil, err
	}
	if f.CustomerID < 0 {
		return nil, invalid("CustomerId %d", f.CustomerID)
	}
	if f.Name != "" {
		u, err := s.store.GetEndUser(ctx, vendor, f.Name)
		if errors.Is(err, storage.ErrNotFound) {
			return []storage.EndUser{}, nil
		}
		if err != nil {
			return nil, err
		}
		if (f.Email != "" && u.Email != f.Email) || (f.CustomerID > 0 && u.CustomerID != f.CustomerID) {
			return []storage.EndUser{}, nil
		}
		return []storage.EndUser{u}, nil
	}
	list, err := s.store.ListEndUsers(ctx, vendor, f.CustomerID)
	if err != nil {
		return nil, err
	}
	out := []storage.EndUser{}
	for _, u := range list {
		if f.Email == "" || u.Email == f.Email {
			out = append(out, u)
		}
	}
	return out, nil
}

// PasswordChange is userauth/ChangePassword: one of OldPassword, ResetToken or AdminMode.
type PasswordChange struct {
	Name, NewPassword       string
	OldPassword, ResetToken string
	// AdminMode sets the password without the old one or a token; it needs UserAuthAdmin.
	AdminMode bool
}

// ChangePassword sets a user's password (UserAuthNormal or UserAuthAdmin; AdminMode needs UserAuthAdmin).
// A wrong old password, or a reset token that is wrong, used or expired, is ErrPasswordNotChanged. Any change
// spends the user's reset token.
func (s *Service) ChangePassword(ctx context.Context, a *Access, c PasswordChange) error {
	if err := a.allowAny(MethodUserAuthNormal, MethodUserAuthAdmin); err != nil {
		return err
	}
	if c.AdminMode {
		if err := a.allow(MethodUserAuthAdmin); err != nil {
			return err
		}
	}
	vendor, err := vendorOf(a)
	if err != nil {
		return err
	}
	if err := checkNewPassword(c.NewPassword); err != nil {
		return err
	}
	if !c.AdminMode && c.OldPassword == "" && c.ResetToken == "" {
		return invalid("give OldPassword, PasswordResetToken or AdminMode")
	}
	var oldHash string // the hash the old password was checked against
	if !c.AdminMode && c.ResetToken == "" {
		u, err := s.checkPassword(ctx, vendor, c.Name, c.OldPassword)
		if errors.Is(err, ErrBadUserCredentials) {
			return fmt.Errorf("%w: %w", ErrPasswordNotChanged, err)
		}
		if err != nil {
			return err
		}
		oldHash = u.PasswordHash
	}
	hash, err := s.passwords().HashPassword(c.NewPassword)
	if err != nil {
		return err
	}
	tokenHash := hashResetToken(c.ResetToken)
	now := s.now()
	_, err = s.store.UpdateEndUser(ctx, vendor, c.Name, func(u *storage.EndUser) error {
		switch {
		case c.AdminMode:
		case c.ResetToken != "":
			if u.ResetHash == "" || subtle.ConstantTimeCompare([]byte(u.ResetHash), []byte(tokenHash)) != 1 || !now.Before(u.ResetExpiresAt) {
				return fmt.Errorf("%w: reset token wrong, used or expired", ErrPasswordNotChanged)
			}
		case u.PasswordHash != oldHash: // changed since the old password was checked
			return fmt.Errorf("%w: the password changed meanwhile", ErrPasswordNotChanged)
		}
		u.PasswordHash, u.ResetHash, u.ResetExpiresAt, u.UpdatedAt = hash, "", time.Time{}, now
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) && !c.AdminMode {
		return fmt.Errorf("%w: no user %q", ErrPasswordNotChanged, c.Name) // as a wrong token: names are not revealed
	}
	return endUserErr(err, c.Name)
}

func hashResetToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ResetPasswordToken makes a password reset token for the user (UserAuthAdmin), replacing any earlier one.
// It is returned once and good for ResetTokenLifetime, for one ChangePassword.
func (s *Service) ResetPasswordToken(ctx context.Context, a *Access, name string) (string, error) {
	if err := a.allow(MethodUserAuthAdmin); err != nil {
		return "", err
	}
	vendor, err := vendorOf(a)
	if err != nil {
		return "", err
	}
	b := make([]byte, 32)
	rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	_, err = s.store.UpdateEndUser(ctx, vendor, name, func(u *storage.EndUser) error {
		u.ResetHash, u.ResetExpiresAt, u.UpdatedAt = hashResetToken(token), now.Add(ResetTokenLifetime), now
		return nil
	})
	if err != nil {
		return "", endUserErr(err, name)
	}
	return token, nil
}

// RemoveUser deletes the vendor's end user (UserAuthAdmin).
func (s *Service) RemoveUser(ctx context.Context, a *Access, name string) error {
	if err := a.allow(MethodUserAuthAdmin); err != nil {
		return err
	}
	vendor, err := vendorOf(a)
	if err != nil {
		return err
	}
	return endUserErr(s.store.DeleteEndUser(ctx, vendor, name), name)
}
