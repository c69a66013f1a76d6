package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

func (s *Store) AppendAudit(ctx context.Context, events []storage.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO audit_events (at, action, outcome, actor, subject, client_host, detail)
			VALUES (?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return mapErr(err)
		}
		defer stmt.Close()
		for _, e := range events {
			if _, err := stmt.ExecContext(ctx, toMicros(e.At), e.Action, e.Outcome, e.Actor, e.Subject, e.ClientHost, e.Detail); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}

func (s *Store) ListAudit(ctx context.Context, f storage.AuditFilter) ([]storage.AuditEvent, error) {
	var where []string
	var args []any
	if !f.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, toMicros(f.Since))
	}
	if !f.Until.IsZero() {
		where, args = append(where, "at < ?"), append(args, toMicros(f.Until))
	}
	if f.Subject != "" {
		where, args = append(where, "(subject = ? OR actor = ?)"), append(args, f.Subject, f.Subject)
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			// A prefix: compare as a range, so that LIKE's wildcards in the input mean nothing.
			where, args = append(where, "action >= ? AND action < ?"), append(args, f.Action, f.Action[:len(f.Action)-1]+"/")
		} else {
			where, args = append(where, "action = ?"), append(args, f.Action)
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	q := `SELECT id, at, action, outcome, actor, subject, client_host, detail FROM audit_events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY at DESC, id DESC LIMIT ?"
	rows, err := s.r.QueryContext(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []storage.AuditEvent
	for rows.Next() {
		var e storage.AuditEvent
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Action, &e.Outcome, &e.Actor, &e.Subject, &e.ClientHost, &e.Detail); err != nil {
			return nil, mapErr(err)
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	return out, mapErr(rows.Err())
}

func (s *Store) DeleteAudit(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < ? LIMIT ?)`,
		toMicros(cutoff), limit)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err)
}
