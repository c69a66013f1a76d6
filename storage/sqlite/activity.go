package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

func (s *Store) CreateMessage(ctx context.Context, m storage.LicenseMessage, max int) (storage.LicenseMessage, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// One writer at a time (BEGIN IMMEDIATE): the count cannot change before the insert.
		var n int
		if err := tx.QueryRowContext(ctx, sqlmap.CountVendorMessages, m.Vendor).Scan(&n); err != nil {
			return mapErr(err)
		}
		if n >= max {
			return storage.ErrLimitReached
		}
		return mapRefErr(tx.QueryRowContext(ctx, sqlmap.InsertMessage, m.Vendor, m.Channel, m.Content, toMicros(m.Created)).Scan(&m.ID))
	})
	return m, err
}

func (s *Store) ListMessages(ctx context.Context, f storage.MessageFilter) ([]storage.LicenseMessage, error) {
	q, args, ok := dialect.ListMessages(f)
	if !ok {
		return nil, nil
	}
	return queryAll(ctx, s.r, q, args, dialect.ScanMessage)
}

func (s *Store) DeleteMessage(ctx context.Context, vendor string, id int64) error {
	res, err := s.w.ExecContext(ctx, sqlmap.DeleteMessage, vendor, id)
	if err != nil {
		return mapErr(err)
	}
	return requireRow(res)
}

func (s *Store) AppendLicenseEvents(ctx context.Context, events []storage.LicenseEvent) error {
	if len(events) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, e := range events {
			if _, err := tx.ExecContext(ctx, sqlmap.InsertLicenseEvent, e.Vendor, sqlmap.NullableID(e.ProductID),
				sqlmap.NullableID(e.KeyGlobalID), e.MachineCode, e.FeatureName, e.EventName, e.Value, e.Currency, e.Metadata,
				toMicros(e.At)); err != nil {
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
	return queryAll(ctx, s.r, q, args, dialect.ScanLicenseEvent)
}

func (s *Store) AppendWebAPILog(ctx context.Context, entries []storage.WebAPILogEntry) error {
	if len(entries) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		insert, err := tx.PrepareContext(ctx, sqlmap.InsertWebAPILog)
		if err != nil {
			return mapErr(err)
		}
		defer insert.Close()
		for _, e := range entries {
			if _, err := insert.ExecContext(ctx, e.Vendor, e.Method, e.ProductID, e.Key, e.KeyHash, e.MachineCode,
				e.FriendlyName, e.IP, e.Result, e.State, toMicros(e.At)); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}

func (s *Store) ListWebAPILog(ctx context.Context, f storage.WebAPILogFilter) ([]storage.WebAPILogEntry, error) {
	q, args, ok := dialect.ListWebAPILog(f)
	if !ok {
		return nil, nil
	}
	return queryAll(ctx, s.r, q, args, dialect.ScanWebAPILog)
}

func (s *Store) PruneLicenseActivity(ctx context.Context, cutoff time.Time, keep, limit int) (int, error) {
	total := 0
	for _, table := range sqlmap.ActivityTables {
		n, err := rowsAffected(s.w.ExecContext(ctx, `DELETE FROM `+table+` WHERE id IN (SELECT id FROM `+table+` WHERE at < ? LIMIT ?)`,
			toMicros(cutoff), limit))
		if total += n; err != nil {
			return total, err
		}
		if keep > 0 {
			n, err = rowsAffected(s.w.ExecContext(ctx, `DELETE FROM `+table+` WHERE id IN (SELECT id FROM `+table+`
				WHERE id <= (SELECT max(id) FROM `+table+`) - ? LIMIT ?)`, keep, limit))
			if total += n; err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

func (s *Store) AddKeyUsage(ctx context.Context, keyGlobalID, amount int64, at time.Time) (int64, error) {
	var total int64
	err := s.w.QueryRowContext(ctx, sqlmap.AddKeyUsage, keyGlobalID, amount, toMicros(at), amount, toMicros(at), amount).Scan(&total)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, storage.ErrLimitReached
	}
	return total, mapRefErr(err)
}

func (s *Store) KeyUsage(ctx context.Context, keyGlobalID int64) (int64, error) {
	var total int64
	err := s.r.QueryRowContext(ctx, sqlmap.SelectKeyUsage, keyGlobalID).Scan(&total)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return total, mapErr(err)
}
