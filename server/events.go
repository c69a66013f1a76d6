package server

import (
	"net/http"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/token"
)

// What the handlers report after the fact, to metrics and to the audit log, in one place each. None of these
// is given a token, password or secret: only user names, kinds, record ids and reasons.

// issued records a Spectrum token handed out.
func (s *Server) issued(r *http.Request, iss token.Issued) {
	s.recordIssue(r, string(iss.Kind), iss.User, "id="+iss.ID)
}

// recordIssue records a token of any kind handed out to who (a user or an API client); detail names the
// record, never the token.
func (s *Server) recordIssue(r *http.Request, kind, who, detail string) {
	s.metrics.issued.WithLabelValues(kind).Inc()
	s.deps.Usage.Issued(kind) // one atomic increment: the usage history's count, flushed by the counter
	s.deps.Audit.Record(storage.AuditEvent{Action: "token.issue", Outcome: "ok", Actor: who, Subject: who,
		ClientHost: s.clients.Host(r), Detail: "kind=" + kind + " " + detail})
}

// used records the outcome of presenting a token to action ("verify" or "logout"): v on success, err on refusal.
// Successful checks are counted but not audited: they are the normal traffic, thousands a second.
func (s *Server) used(r *http.Request, action string, v token.Verified, err error) {
	result := "ok"
	if err != nil {
		result = token.Reason(err)
	}
	s.metrics.checks.WithLabelValues(result).Inc()
	switch {
	case err != nil:
		s.deps.Audit.Record(storage.AuditEvent{Action: "token.refuse", Outcome: result, ClientHost: s.clients.Host(r), Detail: "on=" + action})
	case action == "logout":
		s.deps.Audit.Record(storage.AuditEvent{Action: "token.logout", Outcome: "ok", Actor: v.User, Subject: v.User,
			ClientHost: s.clients.Host(r), Detail: "kind=" + string(v.Kind) + " id=" + v.TokenID})
	}
}
