// Package session keeps server-side sessions behind the SESSION cookie: who, from where, since when, last
// seen. The cookie carries a random id; the database keeps only its SHA-256, so a database reader cannot
// present a session.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// CookieName is the cookie Spectrum clients send; the name is case-sensitive.
const CookieName = "SESSION"

// MaxCookieLen bounds a presented cookie value; ours are 36-character UUIDs.
const MaxCookieLen = 128

// ErrNotUsable is what every "this session cannot be used" error wraps; the specific ones differ for logs and
// metrics. Any other error from Check is a storage failure.
var ErrNotUsable = errors.New("session: not usable")

// Reasons a session is not usable.
var (
	ErrUnknown = fmt.Errorf("%w: unknown", ErrNotUsable)
	ErrEnded   = fmt.Errorf("%w: ended", ErrNotUsable)
	ErrIdle    = fmt.Errorf("%w: idle timeout", ErrNotUsable)
	ErrTooOld  = fmt.Errorf("%w: absolute lifetime exceeded", ErrNotUsable)
)

// Config sets the timeouts.
type Config struct {
	IdleTimeout   time.Duration // sliding inactivity limit (Spectrum: 30 minutes)
	MaxLifetime   time.Duration // absolute cap from creation; 0 = none
	TouchInterval time.Duration // last-seen is written at most this often per session
}

// DefaultConfig is Spectrum's behaviour plus a one-day absolute cap.
var DefaultConfig = Config{IdleTimeout: 30 * time.Minute, MaxLifetime: 24 * time.Hour, TouchInterval: time.Minute}

// Manager creates, checks and ends sessions.
type Manager struct {
	store storage.Sessions
	cfg   Config
	now   func() time.Time
}

// NewManager returns a Manager; now is the clock (nil = time.Now).
func NewManager(store storage.Sessions, cfg Config, now func() time.Time) *Manager {
	if now == nil {
		now = time.Now
	}
	return &Manager{store: store, cfg: cfg, now: now}
}

// Config returns the manager's configuration.
func (m *Manager) Config() Config { return m.cfg }

// ID is the storage id of a cookie value.
func ID(cookieValue string) string {
	sum := sha256.Sum256([]byte(cookieValue))
	return hex.EncodeToString(sum[:])
}

// newCookieValue returns a random version-4 UUID, the shape Spectrum's session ids have (122 random bits).
func newCookieValue() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Kind names a family of cookie sessions of the server's own HTML surfaces (the consent pages, the console):
// each is stored under an id of its own domain, so that a cookie value of one kind names no session of another,
// nor a SESSION of the API, and none of them is ever handed out by an API.
type Kind string

// The kinds of page session.
const (
	KindPage    Kind = "page"    // the user's pages under /User/ (TM_PAGE_SESSION)
	KindConsole Kind = "console" // the web console under /console/ (TM_CONSOLE_SESSION)
)

// KindID is the storage id of a cookie value of kind k, domain-separated from ID and from every other kind.
func KindID(k Kind, cookieValue string) string {
	sum := sha256.Sum256([]byte("tokenmanager " + string(k) + " session v1\x00" + cookieValue))
	return hex.EncodeToString(sum[:])
}

// PageID is the storage id of a page-session cookie value (the server's own HTML pages sign in with a cookie of
// their own, never handed out by an API). It is domain-separated from ID, so a SESSION value presented as a
// page cookie names no session, nor a page cookie presented as SESSION.
func PageID(cookieValue string) string { return KindID(KindPage, cookieValue) }

// Create starts a new session for user and returns the cookie value and the stored record.
func (m *Manager) Create(ctx context.Context, user, clientHost string) (string, storage.Session, error) {
	return m.create(ctx, user, clientHost, ID)
}

// CreatePage starts a page session for user: stored like any session (it ends with the user's sessions), but
// under PageID, so its cookie value works only with CheckPage.
func (m *Manager) CreatePage(ctx context.Context, user, clientHost string) (string, storage.Session, error) {
	return m.CreateKind(ctx, KindPage, user, clientHost)
}

// CheckPage is Check for a page-session cookie value.
func (m *Manager) CheckPage(ctx context.Context, cookieValue string) (storage.Session, error) {
	return m.CheckKind(ctx, KindPage, cookieValue)
}

// CreateKind starts a session of kind k for user, stored under KindID: it ends with the user's sessions, and
// its cookie value works only with CheckKind of the same kind.
func (m *Manager) CreateKind(ctx context.Context, k Kind, user, clientHost string) (string, storage.Session, error) {
	return m.create(ctx, user, clientHost, func(v string) string { return KindID(k, v) })
}

// CheckKind is Check for a cookie value of kind k.
func (m *Manager) CheckKind(ctx context.Context, k Kind, cookieValue string) (storage.Session, error) {
	if cookieValue == "" || len(cookieValue) > MaxCookieLen {
		return storage.Session{}, ErrUnknown
	}
	return m.CheckID(ctx, KindID(k, cookieValue))
}

func (m *Manager) create(ctx context.Context, user, clientHost string, id func(string) string) (string, storage.Session, error) {
	value := newCookieValue()
	now := m.now()
	s := storage.Session{ID: id(value), User: user, ClientHost: clientHost, CreatedAt: now, LastSeenAt: now}
	if err := m.store.CreateSession(ctx, s); err != nil {
		return "", storage.Session{}, fmt.Errorf("session: create: %w", err)
	}
	return value, s, nil
}

// Check returns the live session a SESSION cookie value names, recording the activity (throttled).
func (m *Manager) Check(ctx context.Context, cookieValue string) (storage.Session, error) {
	if cookieValue == "" || len(cookieValue) > MaxCookieLen {
		return storage.Session{}, ErrUnknown
	}
	return m.CheckID(ctx, ID(cookieValue))
}

// CheckID returns the live session with storage id id, and records the activity (throttled).
func (m *Manager) CheckID(ctx context.Context, id string) (storage.Session, error) {
	s, err := m.store.GetSession(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Session{}, ErrUnknown
	}
	if err != nil {
		return storage.Session{}, fmt.Errorf("session: load: %w", err)
	}
	if err := m.Live(s); err != nil {
		return storage.Session{}, err
	}
	now := m.now()
	if now.Sub(s.LastSeenAt) >= m.cfg.TouchInterval {
		if err := m.store.TouchSession(ctx, id, now, m.cfg.TouchInterval); err != nil {
			return storage.Session{}, fmt.Errorf("session: touch: %w", err)
		}
		s.LastSeenAt = now
	}
	return s, nil
}

// Live reports why s can no longer be used, or nil if it can.
func (m *Manager) Live(s storage.Session) error {
	now := m.now()
	switch {
	case s.Ended():
		return ErrEnded
	case now.Sub(s.LastSeenAt) > m.cfg.IdleTimeout:
		return ErrIdle
	case m.cfg.MaxLifetime > 0 && now.Sub(s.CreatedAt) > m.cfg.MaxLifetime:
		return ErrTooOld
	}
	return nil
}

// Deadlines are when s dies: idle unless it is used again before (as recorded: activity is written at most
// once per touch interval), and absolute (zero when there is no cap).
func (m *Manager) Deadlines(s storage.Session) (idle, absolute time.Time) {
	idle = s.LastSeenAt.Add(m.cfg.IdleTimeout)
	if m.cfg.MaxLifetime > 0 {
		absolute = s.CreatedAt.Add(m.cfg.MaxLifetime)
	}
	return idle, absolute
}

// EndUser ends every session of user and revokes the tokens bound to them: what a disabled account or a
// changed password must do, so that whoever held the old credentials loses the sessions they opened.
func (m *Manager) EndUser(ctx context.Context, user string) (int, error) {
	n, err := m.store.EndUserSessions(ctx, user, m.now())
	if err != nil {
		return 0, fmt.Errorf("session: end sessions of user: %w", err)
	}
	return n, nil
}

// End ends the session with storage id id and revokes every token bound to it.
func (m *Manager) End(ctx context.Context, id string) error {
	if err := m.store.EndSession(ctx, id, m.now()); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("session: end: %w", err)
	}
	return nil
}
