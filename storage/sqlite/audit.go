package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

func (s *Store) AppendAudit(ctx context.Context, events []storage.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		insert, err := tx.PrepareContext(ctx, `INSERT INTO audit_events (at, action, outcome, actor, subject, client_host, detail)
			VALUES (?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return mapErr(err)
		}
		defer insert.Close()
		for _, e := range events {
			if _, err := insert.ExecContext(ctx, toMicros(e.At), e.Action, e.Outcome, e.Actor, e.Subject, e.ClientHost, e.Detail); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}

func (s *Store) ListAudit(ctx context.Context, f storage.AuditFilter) ([]storage.AuditEvent, error) {
	q, args, ok := dialect.ListAudit(f)
	if !ok {
		return nil, nil
	}
	return queryAll(ctx, s.r, q, args, dialect.ScanAuditEvent)
}

func (s *Store) DeleteAudit(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return rowsAffected(s.w.ExecContext(ctx, `DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < ? LIMIT ?)`,
		toMicros(cutoff), limit))
}
