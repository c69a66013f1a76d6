package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

var dataStmt = dialect.DataStatements()

// AddDataObject locks the vendor's row first (FOR NO KEY UPDATE, which foreign-key checks do not wait for), so
// that adds of one vendor, on any node, count and insert in turn: racing adds never pass the limit.
func (s *Store) AddDataObject(ctx context.Context, o storage.DataObject, max int, unique bool) (storage.DataObject, error) {
	if !storable(o.Owner.Vendor) || !storable(o.Owner.MachineCode) || !storable(o.Name) || !storable(o.StringValue) {
		return storage.DataObject{}, storage.ErrNotFound
	}
	owner := sqlmap.OwnerArgs(o.Owner)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM license_vendors WHERE user_name = $1 FOR NO KEY UPDATE`, o.Owner.Vendor).Scan(&one); err != nil {
			return mapErr(err)
		}
		if max > 0 {
			var n int
			if err := tx.QueryRow(ctx, dataStmt.CountDataObjects, owner...).Scan(&n); err != nil {
				return mapErr(err)
			}
			if n >= max {
				return storage.ErrDataObjectLimit
			}
		}
		if unique {
			var n int
			if err := tx.QueryRow(ctx, dataStmt.CountNamedDataObjects, append(owner, o.Name)...).Scan(&n); err != nil {
				return mapErr(err)
			}
			if n > 0 {
				return storage.ErrConflict
			}
		}
		err := tx.QueryRow(ctx, dataStmt.InsertDataObject+` RETURNING id`, o.Owner.Vendor, int64(o.Owner.Type), o.Owner.ID,
			o.Owner.MachineCode, o.Name, o.StringValue, o.IntValue, ts(o.CreatedAt)).Scan(&o.ID)
		return mapRefErr(err)
	})
	s.onChange.Run(ctx, err) // the cached license key, its activations and data objects
	if err != nil {
		return storage.DataObject{}, err
	}
	return o, nil
}

func (s *Store) GetDataObject(ctx context.Context, id int64) (storage.DataObject, error) {
	return dialect.ScanDataObject(s.pool.QueryRow(ctx, dataStmt.SelectDataObject, id))
}

func (s *Store) FindDataObject(ctx context.Context, owner storage.DataOwner, name string) (storage.DataObject, error) {
	if !storable(owner.Vendor) || !storable(owner.MachineCode) || !storable(name) {
		return storage.DataObject{}, storage.ErrNotFound
	}
	return dialect.ScanDataObject(s.pool.QueryRow(ctx, dataStmt.FindDataObject, append(sqlmap.OwnerArgs(owner), name)...))
}

func (s *Store) ListDataObjects(ctx context.Context, f storage.DataObjectFilter) ([]storage.DataObject, error) {
	q, args, ok := dialect.ListDataObjects(f)
	if !ok {
		return nil, nil
	}
	return queryAll(ctx, s.pool, q, args, dialect.ScanDataObject)
}

func (s *Store) SetDataObjectInt(ctx context.Context, id int64, v int64) error {
	return s.changeOne(ctx, dataStmt.SetDataObjectInt, v, id)
}

func (s *Store) SetDataObjectString(ctx context.Context, id int64, v string) error {
	if !storable(v) {
		return errors.New("postgres: a string value must be valid UTF-8 without NUL")
	}
	return s.changeOne(ctx, dataStmt.SetDataObjectString, v, id)
}

func (s *Store) RemoveDataObject(ctx context.Context, id int64) error {
	return s.changeOne(ctx, dataStmt.DeleteDataObject, id)
}

// changeOne runs a statement that changes the one row it names; ErrNotFound when there is none.
func (s *Store) changeOne(ctx context.Context, query string, args ...any) (err error) {
	defer func() { s.onChange.Run(ctx, err) }() // the cached license key, its activations and data objects
	tag, err := s.pool.Exec(ctx, query, args...)
	if err != nil {
		return mapErr(err)
	}
	if tag.RowsAffected() == 0 {
		return storage.ErrNotFound
	}
	return nil
}

func (s *Store) AddDataObjectInt(ctx context.Context, id int64, delta int64, bound *int64) (_ int64, err error) {
	defer func() { s.onChange.Run(ctx, err) }() // the cached license key, its activations and data objects
	return addDataInt(ctx, s.pool, id, delta, bound)
}

func (s *Store) AddDataObjectInts(ctx context.Context, deltas []storage.DataDelta) (err error) {
	defer func() { s.onChange.Run(ctx, err) }() // the cached license key, its activations and data objects
	return s.tx(ctx, func(tx pgx.Tx) error {
		for _, d := range deltas {
			if _, err := addDataInt(ctx, tx, d.ID, d.Delta, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// addDataInt is the one conditional UPDATE that adds delta. Under READ COMMITTED a racing UPDATE of the row
// waits for the other to commit and re-evaluates its condition on the new value, so no increment is lost and
// no bound is crossed. When it changes no row, the object is either absent or the change would leave the range.
func addDataInt(ctx context.Context, q querier, id, delta int64, bound *int64) (int64, error) {
	var v int64
	err := q.QueryRow(ctx, dataStmt.AddDataObjectInt, sqlmap.AddIntArgs(id, delta, bound)...).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		var n int
		if err := q.QueryRow(ctx, dataStmt.ExistsDataObject, id).Scan(&n); err != nil {
			return 0, mapErr(err)
		}
		if n == 0 {
			return 0, storage.ErrNotFound
		}
		return 0, storage.ErrOutOfRange
	}
	return v, mapErr(err)
}
