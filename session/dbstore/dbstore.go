// Package dbstore is a gorilla/sessions Store whose sessions live in tokenmanager's storage (SQLite, or any
// backend that passes storage/conformance), behind Spectrum's SESSION cookie.
//
// The cookie carries the session id as a plain UUID, the form Spectrum clients send back; it is not signed,
// because it is not data: it is a 122-bit random name for a server-side record, and the database keeps only
// its SHA-256. A session is a sign-in record (user, client host, created, last seen), not a bag of values:
// Save persists a new session's user and ignores other Values.
package dbstore

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/sessions"

	"github.com/tokenmanager/tokenmanager/session"
)

// Keys of the Values a loaded session carries.
const (
	KeyUser       = "user"        // string: whose session it is
	KeyClientHost = "client_host" // string: the host that signed in
	KeyCreated    = "created"     // time.Time
	KeyLastSeen   = "last_seen"   // time.Time
)

// Store implements sessions.Store over a session.Manager.
type Store struct {
	m       *session.Manager
	options sessions.Options
	host    func(*http.Request) string
}

var _ sessions.Store = (*Store)(nil)

// New returns a Store. options is the cookie template (Path, SameSite, HttpOnly, Secure, MaxAge); Secure is
// added on every request that arrived over TLS. clientHost names the client of a request (the server's
// trusted-proxy-aware view of it).
func New(m *session.Manager, options sessions.Options, clientHost func(*http.Request) string) *Store {
	return &Store{m: m, options: options, host: clientHost}
}

// Get returns the request's session, loading it once per request (gorilla's registry).
func (s *Store) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New returns the live session the request's cookie names, or a new, unsaved session with no id when the
// cookie is missing, unknown, ended, idle or too old. An id is never taken from the request for a new session.
func (s *Store) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := s.fresh(name)
	c, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	rec, err := s.m.Check(r.Context(), c.Value)
	if err != nil {
		if errors.Is(err, session.ErrNotUsable) {
			return sess, nil
		}
		return sess, err
	}
	sess.ID, sess.IsNew = c.Value, false
	sess.Values[KeyUser] = rec.User
	sess.Values[KeyClientHost] = rec.ClientHost
	sess.Values[KeyCreated] = rec.CreatedAt
	sess.Values[KeyLastSeen] = rec.LastSeenAt
	return sess, nil
}

func (s *Store) fresh(name string) *sessions.Session {
	sess := sessions.NewSession(s, name)
	opts := s.options
	sess.Options = &opts
	sess.IsNew = true
	return sess
}

// Save writes the session's cookie. A session without an id is created first (Values[KeyUser] names its
// user); Options.MaxAge < 0 ends the session, with every token bound to it, and expires the cookie.
func (s *Store) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	if sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := s.m.End(r.Context(), session.ID(sess.ID)); err != nil {
				return err
			}
		}
		http.SetCookie(w, s.cookie(r, sess.Name(), "", sess.Options))
		return nil
	}
	if sess.ID == "" {
		user, _ := sess.Values[KeyUser].(string)
		if user == "" {
			return fmt.Errorf("dbstore: a new session needs Values[%q]", KeyUser)
		}
		value, rec, err := s.m.Create(r.Context(), user, s.host(r))
		if err != nil {
			return err
		}
		sess.ID = value
		sess.Values[KeyClientHost] = rec.ClientHost
		sess.Values[KeyCreated] = rec.CreatedAt
		sess.Values[KeyLastSeen] = rec.LastSeenAt
	}
	http.SetCookie(w, s.cookie(r, sess.Name(), sess.ID, sess.Options))
	return nil
}

// Login returns the session a successful sign-in of user is to use, already saved, with its cookie set on w:
// the request's own session when it is live and already belongs to user, otherwise a new one under a fresh,
// server-chosen id. A cookie value the client made up, or a session of another user, is never adopted, so an
// attacker cannot plant a session id and wait for the victim to sign in to it (session fixation).
func (s *Store) Login(r *http.Request, w http.ResponseWriter, user string) (*sessions.Session, error) {
	sess, err := s.Get(r, session.CookieName)
	if err != nil {
		return nil, err
	}
	if sess.IsNew || sess.Values[KeyUser] != user {
		sess = s.fresh(session.CookieName)
		sess.Values[KeyUser] = user
	}
	if err := s.Save(r, w, sess); err != nil {
		return nil, err
	}
	return sess, nil
}

// Forget expires the SESSION cookie in the browser (after a logout ended the session server-side).
func (s *Store) Forget(r *http.Request, w http.ResponseWriter) {
	opts := s.options
	opts.MaxAge = -1
	http.SetCookie(w, s.cookie(r, session.CookieName, "", &opts))
}

// StorageID is the id under which sess is stored, the one tokens bound to it carry.
func StorageID(sess *sessions.Session) string { return session.ID(sess.ID) }

func (s *Store) cookie(r *http.Request, name, value string, opts *sessions.Options) *http.Cookie {
	o := *opts
	o.Secure = o.Secure || r.TLS != nil
	c := sessions.NewCookie(name, value, &o)
	if o.MaxAge < 0 {
		c.Expires = time.Unix(0, 0) // gorilla's past date; Max-Age=0 is what browsers act on
	}
	return c
}
