package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
)

// AppendAudit writes the events with one COPY, in one transaction.
func (s *Store) AppendAudit(ctx context.Context, events []storage.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	_, err := s.pool.CopyFrom(ctx, pgx.Identifier{"audit_events"},
		[]string{"at", "action", "outcome", "actor", "subject", "client_host", "detail"},
		pgx.CopyFromSlice(len(events), func(i int) ([]any, error) {
			e := events[i]
			return []any{ts(e.At), text(e.Action), text(e.Outcome), text(e.Actor), text(e.Subject), text(e.ClientHost), text(e.Detail)}, nil
		}))
	return mapErr(err)
}

func (s *Store) ListAudit(ctx context.Context, f storage.AuditFilter) ([]storage.AuditEvent, error) {
	var w where
	if !f.Since.IsZero() {
		w.add("at >= ?", ts(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("at < ?", ts(f.Until))
	}
	if f.Subject != "" {
		w.add("(subject = ? OR actor = ?)", f.Subject, f.Subject)
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			// A prefix: compare as a range (byte order, COLLATE "C"), so that LIKE's wildcards in the input mean nothing.
			w.add("action >= ? AND action < ?", f.Action, f.Action[:len(f.Action)-1]+"/")
		} else {
			w.add("action = ?", f.Action)
		}
	}
	if w.none {
		return nil, nil
	}
	q := `SELECT id, at, action, outcome, actor, subject, client_host, detail FROM audit_events` + w.String() +
		` ORDER BY at DESC, id DESC LIMIT `
	return queryAll(ctx, s.pool, q+w.next(limitOf(f.Limit)), w.args, func(row scanner) (storage.AuditEvent, error) {
		var e storage.AuditEvent
		err := row.Scan(&e.ID, at(&e.At), &e.Action, &e.Outcome, &e.Actor, &e.Subject, &e.ClientHost, &e.Detail)
		return e, err
	})
}

func (s *Store) DeleteAudit(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM audit_events WHERE id IN (
		SELECT id FROM audit_events WHERE at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, ts(cutoff), limit)
	if err != nil {
		return 0, mapErr(err)
	}
	return int(tag.RowsAffected()), nil
}
