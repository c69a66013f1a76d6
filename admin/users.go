package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/storage"
)

// UserSpec describes a new user.
type UserSpec struct {
	Name     string
	Password string
	Admin    bool
	// DigestSecret, when set, is the password sealed with the server key (auth.SealPassword), which
	// WS-Security PasswordDigest needs.
	DigestSecret []byte
}

// CreateUser adds a user after checking the name and the password.
func (s *Service) CreateUser(ctx context.Context, a Actor, spec UserSpec) (storage.User, error) {
	if err := auth.CheckUserName(spec.Name); err != nil {
		return storage.User{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	hash, err := hashPassword(spec.Password)
	if err != nil {
		return storage.User{}, err
	}
	now := s.now()
	u := storage.User{Name: spec.Name, PasswordHash: hash, DigestSecret: spec.DigestSecret, Admin: spec.Admin, CreatedAt: now, UpdatedAt: now}
	if err := auth.CreateUser(ctx, s.store, u); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			if _, gerr := s.store.GetUser(ctx, spec.Name); gerr == nil {
				return storage.User{}, fmt.Errorf("%w: user %q already exists", ErrConflict, spec.Name)
			}
			return storage.User{}, fmt.Errorf("%w: %s", ErrConflict, err.Error()) // differs from another only by case
		}
		return storage.User{}, err
	}
	return u, s.record(ctx, a, "user.add", u.Name, fmt.Sprintf("admin=%v", spec.Admin))
}

func hashPassword(pw string) (string, error) {
	if pw == "" {
		return "", invalid("empty password")
	}
	if err := auth.CheckPassword(pw); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return auth.HashPassword(pw, auth.DefaultParams)
}

// GetUser returns the user.
func (s *Service) GetUser(ctx context.Context, name string) (storage.User, error) {
	u, err := s.store.GetUser(ctx, name)
	return u, mapErr(err)
}

// ListUsers returns every user ordered by name.
func (s *Service) ListUsers(ctx context.Context) ([]storage.User, error) {
	return s.store.ListUsers(ctx)
}

// SetPassword sets the user's password (and its sealed copy for WS-Security digests, nil to remove it) and ends
// the user's sessions; it returns how many it ended.
func (s *Service) SetPassword(ctx context.Context, a Actor, name, password string, digestSecret []byte) (int, error) {
	hash, err := hashPassword(password)
	if err != nil {
		return 0, err
	}
	now := s.now()
	if err := s.store.UpdateUser(ctx, name, func(u *storage.User) error {
		u.PasswordHash, u.DigestSecret, u.UpdatedAt = hash, digestSecret, now
		return nil
	}); err != nil {
		return 0, mapErr(err)
	}
	ended, err := s.store.EndUserSessions(ctx, name, now)
	if err != nil {
		return 0, fmt.Errorf("password changed, but ending the old sessions failed: %w", err)
	}
	return ended, s.record(ctx, a, "user.passwd", name, fmt.Sprintf("sessions_ended=%d", ended))
}

// UserChange is an edit of a user; nil fields stay as they are.
type UserChange struct {
	Disabled *bool // disabling ends every token and session of the user for good
	Admin    *bool
}

// UpdateUser applies c. check, when set, runs on the stored user inside the same transaction before the
// change and may refuse it (a stale ETag); its error is returned as it is.
func (s *Service) UpdateUser(ctx context.Context, a Actor, name string, c UserChange, check func(storage.User) error) (storage.User, error) {
	var before, after storage.User
	err := s.store.UpdateUser(ctx, name, func(u *storage.User) error {
		if check != nil {
			if err := check(*u); err != nil {
				return err
			}
		}
		before = *u
		if c.Disabled != nil {
			u.Disabled = *c.Disabled
		}
		if c.Admin != nil {
			u.Admin = *c.Admin
		}
		u.UpdatedAt = s.now()
		after = *u
		return nil
	})
	if err != nil {
		return storage.User{}, mapErr(err)
	}
	var actions []string
	if before.Disabled != after.Disabled {
		actions = append(actions, map[bool]string{true: "user.disable", false: "user.enable"}[after.Disabled])
	}
	if before.Admin != after.Admin {
		actions = append(actions, map[bool]string{true: "user.promote", false: "user.demote"}[after.Admin])
	}
	for _, act := range actions {
		if err := s.record(ctx, a, act, name, ""); err != nil {
			return after, err
		}
	}
	return after, nil
}

// DeleteUser removes the user with their tokens, sessions, devices and admin API tokens. A vendor, a
// customer's account or a user holding app authorizations is refused with ErrInUse.
func (s *Service) DeleteUser(ctx context.Context, a Actor, name string) error {
	if strings.TrimSpace(name) == "" {
		return invalid("no user name")
	}
	if err := s.store.DeleteUser(ctx, name, s.now()); err != nil {
		return mapErr(err)
	}
	return s.record(ctx, a, "user.delete", name, "")
}
