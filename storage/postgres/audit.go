package postgres

import (
	"context"
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
	q, args, ok := dialect.ListAudit(f)
	if !ok {
		return nil, nil
	}
	return queryAll(ctx, s.pool, q, args, dialect.ScanAuditEvent)
}

func (s *Store) DeleteAudit(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return rowsAffected(s.pool.Exec(ctx, `DELETE FROM audit_events WHERE id IN (
		SELECT id FROM audit_events WHERE at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, ts(cutoff), limit))
}
