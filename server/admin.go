package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/tokenmanager/tokenmanager/server/internal/reply"
	"github.com/tokenmanager/tokenmanager/server/manage"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/token"
)

// The admin API: every user's tokens and sessions, for accounts with the admin flag (Spectrum itself cannot list
// or revoke other users' tokens), mounted under /admin/v1 by the management API's package (server/manage).

// AdminStore is what the admin API reads and changes.
type AdminStore interface {
	GetUser(ctx context.Context, name string) (storage.User, error)
	GetToken(ctx context.Context, id string) (storage.Token, error)
	ListTokens(ctx context.Context, f storage.TokenFilter) ([]storage.Token, error)
	RevokeToken(ctx context.Context, id string, at time.Time) error
	RevokeUserTokens(ctx context.Context, user string, at time.Time) (int, error)
	ListSessions(ctx context.Context, f storage.SessionFilter) ([]storage.Session, error)
	EndSession(ctx context.Context, id string, at time.Time) error
	GetAccessToken(ctx context.Context, id string) (storage.AccessToken, error)
	ListAccessTokens(ctx context.Context, f storage.AccessTokenFilter) ([]storage.AccessToken, error)
	RevokeAccessToken(ctx context.Context, id string, at time.Time) error
	DeletePowerAuthUserTokens(ctx context.Context, user string) (int, error)
	// the management API's audit log listing
	ListAudit(ctx context.Context, f storage.AuditFilter) ([]storage.AuditEvent, error)
	// the operator's paged lists of PowerAuth activations and tokens and app devices (admin_paging.go)
	storage.AdminPages
}

func (s *Server) routeAdmin() {
	if s.deps.Admin == nil {
		return
	}
	s.manage.Handle(s.mux, "GET /tokens", s.admin(s.adminListTokens))
	s.manage.Handle(s.mux, "GET /tokens/{id}", s.admin(s.adminGetToken))
	s.manage.Handle(s.mux, "DELETE /tokens/{id}", s.admin(s.adminRevokeToken))
	s.manage.Handle(s.mux, "POST /users/{name}/revoke-tokens", s.admin(s.adminRevokeUser))
	s.manage.Handle(s.mux, "GET /sessions", s.admin(s.adminListSessions))
	s.manage.Handle(s.mux, "DELETE /sessions/{id}", s.admin(s.adminEndSession))
}

// admin wraps h with authentication and the admin check (package manage: HTTP Basic, an admin API token, or
// a Spectrum token of an administrator); h gets the admin's name.
func (s *Server) admin(h func(w http.ResponseWriter, r *http.Request, admin string)) http.HandlerFunc {
	return s.manage.Operator(h)
}

// verifyAdminToken checks a Spectrum token presented to the admin API, as the token operations do.
func (s *Server) verifyAdminToken(r *http.Request) (string, error) {
	p := s.presented(r)
	v, err := s.deps.Tokens.Verify(r.Context(), p)
	s.used(r, "admin", v, err)
	if err != nil && errors.Is(err, token.ErrInvalid) {
		s.logRefusal(r.Context(), err)
	}
	return v.User, err
}

type adminToken struct {
	ID         string     `json:"id"`
	User       string     `json:"user"`
	Kind       string     `json:"kind"`
	SessionID  string     `json:"session_id,omitempty"`
	ClientHost string     `json:"client_host"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt time.Time  `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

func toAdminToken(t storage.Token) adminToken {
	return adminToken{ID: t.ID, User: t.User, Kind: string(t.Kind), SessionID: t.SessionID, ClientHost: t.ClientHost,
		CreatedAt: t.CreatedAt, ExpiresAt: optionalTime(t.ExpiresAt), LastUsedAt: t.LastUsedAt, RevokedAt: optionalTime(t.RevokedAt)}
}

type adminSession struct {
	ID         string     `json:"id"`
	User       string     `json:"user"`
	ClientHost string     `json:"client_host"`
	CreatedAt  time.Time  `json:"created_at"`
	LastSeenAt time.Time  `json:"last_seen_at"`
	EndedAt    *time.Time `json:"ended_at,omitempty"`
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// adminQuery reads the filters shared by tokens and sessions.
type adminQuery struct {
	user, client string
	olderThan    time.Duration
	live         bool
}

func parseAdminQuery(w http.ResponseWriter, r *http.Request) (adminQuery, bool) {
	f, ok := filters(w, r, "user", "client")
	if !ok {
		return adminQuery{}, false
	}
	q := r.URL.Query()
	a := adminQuery{user: f["user"], client: f["client"]}
	var err error
	if v := q.Get("older_than"); v != "" {
		if a.olderThan, err = time.ParseDuration(v); err != nil || a.olderThan < 0 {
			manage.FieldProblem(w, http.StatusBadRequest, "older_than", "older_than: want a duration such as 24h")
			return a, false
		}
	}
	if v := q.Get("live"); v != "" {
		if a.live, err = strconv.ParseBool(v); err != nil {
			manage.FieldProblem(w, http.StatusBadRequest, "live", "live: want true or false")
			return a, false
		}
	}
	return a, true
}

// adminListTokens: newest first; ?user=, ?kind=, ?client= (the address it was issued to), ?older_than=,
// ?live=true.
func (s *Server) adminListTokens(w http.ResponseWriter, r *http.Request, _ string) {
	pg, after, ok := page(w, r)
	if !ok {
		return
	}
	q, ok := parseAdminQuery(w, r)
	if !ok {
		return
	}
	kind := storage.TokenKind(r.URL.Query().Get("kind"))
	switch kind {
	case "", storage.KindOpen, storage.KindSession, storage.KindExpiring:
	default:
		manage.FieldProblem(w, http.StatusBadRequest, "kind", "kind: want open, session or expiring")
		return
	}
	now := s.deps.Now()
	f := storage.TokenFilter{User: q.user, Kind: kind, ClientHost: q.client, Limit: pg.Limit() + 1, After: after}
	if q.olderThan > 0 {
		f.CreatedBefore = now.Add(-q.olderThan)
	}
	if q.live {
		f.LiveAt = now
	}
	list, err := s.deps.Admin.ListTokens(r.Context(), f)
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	manage.WriteList(w, r, pg, list, toAdminToken, func(t storage.Token) any { return timeCursorOf(t.CreatedAt, t.ID) })
}

func (s *Server) adminGetToken(w http.ResponseWriter, r *http.Request, _ string) {
	t, err := s.deps.Admin.GetToken(r.Context(), r.PathValue("id"))
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, toAdminToken(t))
}

func (s *Server) adminRevokeToken(w http.ResponseWriter, r *http.Request, admin string) {
	id := r.PathValue("id")
	t, err := s.deps.Admin.GetToken(r.Context(), id)
	if err == nil {
		err = s.deps.Admin.RevokeToken(r.Context(), id, s.deps.Now())
	}
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	s.deps.Audit.Record(storage.AuditEvent{Action: "admin.token.revoke", Outcome: "ok", Actor: admin, Subject: t.User,
		ClientHost: s.clients.Host(r), Detail: "kind=" + string(t.Kind) + " id=" + t.ID})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) adminRevokeUser(w http.ResponseWriter, r *http.Request, admin string) {
	user := r.PathValue("name")
	if _, err := s.deps.Admin.GetUser(r.Context(), user); err != nil {
		s.adminError(w, r, err)
		return
	}
	n, err := s.deps.Admin.RevokeUserTokens(r.Context(), user, s.deps.Now())
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	pa, err := s.deps.Admin.DeletePowerAuthUserTokens(r.Context(), user)
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	s.deps.Audit.Record(storage.AuditEvent{Action: "admin.user.revoke", Outcome: "ok", Actor: admin, Subject: user,
		ClientHost: s.clients.Host(r), Detail: "tokens=" + strconv.Itoa(n) + " powerauth_tokens=" + strconv.Itoa(pa)})
	reply.JSON(w, http.StatusOK, map[string]int{"revoked": n, "powerauth_tokens_removed": pa})
}

// adminListSessions: newest first; ?user=, ?client=, ?live=true (not ended, seen within the idle timeout).
func (s *Server) adminListSessions(w http.ResponseWriter, r *http.Request, _ string) {
	pg, after, ok := page(w, r)
	if !ok {
		return
	}
	q, ok := parseAdminQuery(w, r)
	if !ok {
		return
	}
	f := storage.SessionFilter{User: q.user, ClientHost: q.client, Limit: pg.Limit() + 1, After: after}
	if q.live {
		f.SeenSince = s.deps.Now().Add(-s.deps.Sessions.Config().IdleTimeout)
	}
	list, err := s.deps.Admin.ListSessions(r.Context(), f)
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	manage.WriteList(w, r, pg, list, func(ss storage.Session) adminSession {
		return adminSession{ID: ss.ID, User: ss.User, ClientHost: ss.ClientHost, CreatedAt: ss.CreatedAt,
			LastSeenAt: ss.LastSeenAt, EndedAt: optionalTime(ss.EndedAt)}
	}, func(ss storage.Session) any { return timeCursorOf(ss.CreatedAt, ss.ID) })
}

func (s *Server) adminEndSession(w http.ResponseWriter, r *http.Request, admin string) {
	id := r.PathValue("id")
	if err := s.deps.Admin.EndSession(r.Context(), id, s.deps.Now()); err != nil {
		s.adminError(w, r, err)
		return
	}
	s.deps.Audit.Record(storage.AuditEvent{Action: "admin.session.end", Outcome: "ok", Actor: admin,
		ClientHost: s.clients.Host(r), Detail: "session=" + id})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) adminError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, storage.ErrNotFound) || unknownClient(err) {
		manage.Problem(w, http.StatusNotFound, "")
		return
	}
	s.manage.Failure(w, r, err)
}
