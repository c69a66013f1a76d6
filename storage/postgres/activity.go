package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

// The shared statements, in this dialect's placeholders.
var (
	countVendorMessages = dialect.SQL(sqlmap.CountVendorMessages)
	insertMessage       = dialect.SQL(sqlmap.InsertMessage)
	deleteMessage       = dialect.SQL(sqlmap.DeleteMessage)
	insertLicenseEvent  = dialect.SQL(sqlmap.InsertLicenseEvent)
	selectKeyUsage      = dialect.SQL(sqlmap.SelectKeyUsage)
	addKeyUsage         = dialect.SQL(sqlmap.AddKeyUsage)
)

func (s *Store) CreateMessage(ctx context.Context, m storage.LicenseMessage, max int) (storage.LicenseMessage, error) {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// The vendor's row is locked, so racing creators count one after another.
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM license_vendors WHERE user_name = $1 FOR UPDATE`, m.Vendor).Scan(&one); err != nil {
			return mapErr(err)
		}
		var n int
		if err := tx.QueryRow(ctx, countVendorMessages, m.Vendor).Scan(&n); err != nil {
			return mapErr(err)
		}
		if n >= max {
			return storage.ErrLimitReached
		}
		return mapRefErr(tx.QueryRow(ctx, insertMessage, m.Vendor, text(m.Channel), text(m.Content), ts(m.Created)).Scan(&m.ID))
	})
	return m, err
}

func (s *Store) ListMessages(ctx context.Context, f storage.MessageFilter) ([]storage.LicenseMessage, error) {
	q, args, ok := dialect.ListMessages(f)
	if !ok {
		return nil, nil
	}
	return queryAll(ctx, s.pool, q, args, dialect.ScanMessage)
}

func (s *Store) DeleteMessage(ctx context.Context, vendor string, id int64) error {
	if !storable(vendor) {
		return storage.ErrNotFound
	}
	tag, err := s.pool.Exec(ctx, deleteMessage, vendor, id)
	if err != nil {
		return mapErr(err)
	}
	return requireRow(tag)
}

func (s *Store) AppendLicenseEvents(ctx context.Context, events []storage.LicenseEvent) error {
	if len(events) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		for _, e := range events {
			if _, err := tx.Exec(ctx, insertLicenseEvent, text(e.Vendor), sqlmap.NullableID(e.ProductID), sqlmap.NullableID(e.KeyGlobalID),
				text(e.MachineCode), text(e.FeatureName), text(e.EventName), e.Value, text(e.Currency), text(e.Metadata), ts(e.At)); err != nil {
				return mapRefErr(err)
			}
		}
		return nil
	})
}

func (s *Store) ListLicenseEvents(ctx context.Context, f storage.EventFilter) ([]storage.LicenseEvent, error) {
	q, args, ok := dialect.ListLicenseEvents(f)
	if !ok {
		return nil, nil
	}
	return queryAll(ctx, s.pool, q, args, dialect.ScanLicenseEvent)
}

// AppendWebAPILog writes the entries with one COPY, in one transaction.
func (s *Store) AppendWebAPILog(ctx context.Context, entries []storage.WebAPILogEntry) error {
	if len(entries) == 0 {
		return nil
	}
	_, err := s.pool.CopyFrom(ctx, pgx.Identifier{"license_api_log"},
		[]string{"vendor", "method", "product_id", "key_prefix", "key_hash", "machine_code", "friendly_name", "ip", "result", "state", "at"},
		pgx.CopyFromSlice(len(entries), func(i int) ([]any, error) {
			e := entries[i]
			return []any{text(e.Vendor), text(e.Method), e.ProductID, text(e.Key), e.KeyHash, text(e.MachineCode), text(e.FriendlyName),
				text(e.IP), text(e.Result), int32(e.State), ts(e.At)}, nil
		}))
	return mapErr(err)
}

func (s *Store) ListWebAPILog(ctx context.Context, f storage.WebAPILogFilter) ([]storage.WebAPILogEntry, error) {
	q, args, ok := dialect.ListWebAPILog(f)
	if !ok {
		return nil, nil
	}
	return queryAll(ctx, s.pool, q, args, dialect.ScanWebAPILog)
}

func (s *Store) PruneLicenseActivity(ctx context.Context, cutoff time.Time, keep, limit int) (int, error) {
	total := 0
	for _, table := range sqlmap.ActivityTables {
		n, err := rowsAffected(s.pool.Exec(ctx, `DELETE FROM `+table+` WHERE id IN (
			SELECT id FROM `+table+` WHERE at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, ts(cutoff), limit))
		if total += n; err != nil {
			return total, err
		}
		if keep > 0 {
			n, err = rowsAffected(s.pool.Exec(ctx, `DELETE FROM `+table+` WHERE id IN (
				SELECT id FROM `+table+` WHERE id <= (SELECT max(id) FROM `+table+`) - $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, keep, limit))
			if total += n; err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

func (s *Store) AddKeyUsage(ctx context.Context, keyGlobalID, amount int64, at time.Time) (int64, error) {
	var total int64
	err := s.pool.QueryRow(ctx, addKeyUsage, keyGlobalID, amount, ts(at), amount, ts(at), amount).Scan(&total)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, storage.ErrLimitReached
	}
	return total, mapRefErr(err)
}

func (s *Store) KeyUsage(ctx context.Context, keyGlobalID int64) (int64, error) {
	var total int64
	err := s.pool.QueryRow(ctx, selectKeyUsage, keyGlobalID).Scan(&total)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return total, mapErr(err)
}
