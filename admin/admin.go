// Package admin is the core of the operator's work on accounts and the service itself: users, personal admin
// API tokens and the token key ring. The command line (tokenmanager user|admintoken|tokenkey) and the
// management API (/admin/v1) call the same methods, so an operation behaves, checks and is audited alike
// wherever it is started. Licensing objects (vendors, products, keys) are the license package's.
package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Errors callers map onto their own dialect (a message at the CLI, a problem document over HTTP).
var (
	// ErrInvalid wraps every refusal of bad input; its text says what is wrong.
	ErrInvalid = errors.New("invalid input")
	// ErrNotFound: no such user, token or key (or none the caller may see).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the name is taken, or the change contradicts the record's state.
	ErrConflict = errors.New("conflict")
	// ErrInUse: others refer to the record; remove them first.
	ErrInUse = errors.New("in use")
)

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// Actor is who runs an operation, as the audit log names them.
type Actor struct {
	Name string // a user name, or "cli:<login>" at the command line
	Host string // the client's address over HTTP; empty at the CLI
	Via  string // how they authenticated when it matters: "admintoken=<id>"
}

// Store is what the service reads and changes.
type Store interface {
	storage.Users
	storage.Sessions
	storage.AdminTokens
	storage.Removals
	storage.TokenKeys
}

// Service runs the operations.
type Service struct {
	store Store
	audit func(ctx context.Context, e storage.AuditEvent) error
	now   func() time.Time
}

// New makes the service. audit records each change (the CLI appends it at once, the server through its
// recorder); now is the clock (nil: time.Now).
func New(store Store, audit func(ctx context.Context, e storage.AuditEvent) error, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	// Microseconds, what both databases keep: an answer shows the times a later read will.
	return &Service{store: store, audit: audit, now: func() time.Time { return now().Truncate(time.Microsecond) }}
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// record audits a change that succeeded.
func (s *Service) record(ctx context.Context, a Actor, action, subject, detail string) error {
	if s.audit == nil {
		return nil
	}
	if a.Via != "" {
		if detail != "" {
			detail += " "
		}
		detail += a.Via
	}
	return s.audit(ctx, storage.AuditEvent{At: s.now(), Action: action, Outcome: "ok", Actor: a.Name, Subject: subject,
		ClientHost: a.Host, Detail: detail})
}

// mapErr turns the storage sentinels into the package's.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, storage.ErrInUse):
		return fmt.Errorf("%w: %w", ErrInUse, err)
	case errors.Is(err, storage.ErrConflict):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return err
}
