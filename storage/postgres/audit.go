package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
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
	w := dialect.AuditFilter(f, ts(f.Since), ts(f.Until)) // action ranges compare in byte order: the column is COLLATE "C"
	if w.None {
		return nil, nil
	}
	q := `SELECT ` + sqlmap.AuditColumns + ` FROM audit_events` + w.String() + ` ORDER BY at DESC, id DESC LIMIT `
	return queryAll(ctx, s.pool, q+w.Next(sqlmap.LimitOf(f.Limit)), w.Args, dialect.ScanAuditEvent)
}

func (s *Store) DeleteAudit(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return rowsAffected(s.pool.Exec(ctx, `DELETE FROM audit_events WHERE id IN (
		SELECT id FROM audit_events WHERE at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, ts(cutoff), limit))
}
