package manage

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

type auditView struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	Action     string    `json:"action"`
	Outcome    string    `json:"outcome"`
	Actor      string    `json:"actor,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	ClientHost string    `json:"client_host,omitempty"`
	Detail     string    `json:"detail,omitempty"`
}

type auditCursor struct {
	At int64 `json:"at"` // Unix microseconds
	ID int64 `json:"id"`
}

// listAudit: newest first; ?action= (exact, or a prefix ending in "."), ?subject= (subject or actor),
// ?since=, ?until= (RFC 3339). A vendor account sees the events it made or that concern it.
func (a *API) listAudit(w http.ResponseWriter, r *http.Request, p principal) {
	pq, err := parsePage(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, err.Error())
		return
	}
	q := r.URL.Query()
	f := storage.AuditFilter{Action: q.Get("action"), Subject: q.Get("subject"), Limit: pq.limit + 1}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				Problem(w, http.StatusBadRequest, name+": want an RFC 3339 time such as 2026-01-02T15:04:05Z")
				return
			}
			*dst = t
		}
	}
	if len(f.Action) > 200 || len(f.Subject) > 200 {
		Problem(w, http.StatusBadRequest, "action, subject: at most 200 bytes")
		return
	}
	if p.vendor != "" {
		if f.Subject != "" && f.Subject != p.vendor {
			writeList[auditView](w, nil, "") // nothing of anyone else's
			return
		}
		f.Subject = p.vendor
	}
	if pq.cursor != nil {
		var c auditCursor
		if json.Unmarshal(pq.cursor, &c) != nil || c.ID <= 0 {
			Problem(w, http.StatusBadRequest, "cursor: not one this API handed out")
			return
		}
		f.BeforeAt, f.BeforeID = time.UnixMicro(c.At), c.ID
	}
	// The log is written in batches off the request path; what this node recorded before the request is
	// written first, so that a script reading the log after a change sees it.
	if a.env.Audit != nil {
		a.env.Audit.Flush(r.Context())
	}
	events, err := a.deps.Audit.ListAudit(r.Context(), f)
	if err != nil {
		a.failure(w, r, err)
		return
	}
	next := ""
	if len(events) > pq.limit {
		events = events[:pq.limit]
		last := events[len(events)-1]
		next = nextLink(r, auditCursor{At: last.At.UnixMicro(), ID: last.ID})
	}
	out := make([]auditView, 0, len(events))
	for _, e := range events {
		out = append(out, auditView{ID: e.ID, At: e.At, Action: e.Action, Outcome: e.Outcome, Actor: e.Actor, Subject: e.Subject,
			ClientHost: e.ClientHost, Detail: strings.ToValidUTF8(e.Detail, "\uFFFD")})
	}
	writeList(w, out, next)
}
