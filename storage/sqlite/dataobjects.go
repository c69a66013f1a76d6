package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

var dataStmt = dialect.DataStatements()

// AddDataObject counts and inserts in one transaction of the single writer (begun IMMEDIATE), so no other add
// runs between the count and the insert.
func (s *Store) AddDataObject(ctx context.Context, o storage.DataObject, max int, unique bool) (storage.DataObject, error) {
	owner := sqlmap.OwnerArgs(o.Owner)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if max > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, dataStmt.CountDataObjects, owner...).Scan(&n); err != nil {
				return mapErr(err)
			}
			if n >= max {
				return storage.ErrDataObjectLimit
			}
		}
		if unique {
			var n int
			if err := tx.QueryRowContext(ctx, dataStmt.CountNamedDataObjects, append(owner, o.Name)...).Scan(&n); err != nil {
				return mapErr(err)
			}
			if n > 0 {
				return storage.ErrConflict
			}
		}
		res, err := tx.ExecContext(ctx, dataStmt.InsertDataObject, o.Owner.Vendor, int64(o.Owner.Type), o.Owner.ID,
			o.Owner.MachineCode, o.Name, o.StringValue, o.IntValue, toMicros(o.CreatedAt))
		if err != nil {
			return mapRefErr(err)
		}
		o.ID, err = res.LastInsertId()
		return mapErr(err)
	})
	s.onChange.Run(ctx, err) // the cached license key, its activations and data objects
	if err != nil {
		return storage.DataObject{}, err
	}
	return o, nil
}

func (s *Store) GetDataObject(ctx context.Context, id int64) (storage.DataObject, error) {
	return dialect.ScanDataObject(s.r.QueryRowContext(ctx, dataStmt.SelectDataObject, id))
}

func (s *Store) FindDataObject(ctx context.Context, owner storage.DataOwner, name string) (storage.DataObject, error) {
	return dialect.ScanDataObject(s.r.QueryRowContext(ctx, dataStmt.FindDataObject, append(sqlmap.OwnerArgs(owner), name)...))
}

func (s *Store) ListDataObjects(ctx context.Context, f storage.DataObjectFilter) ([]storage.DataObject, error) {
	q, args, ok := dialect.ListDataObjects(f)
	if !ok {
		return nil, nil
	}
	return queryAll(ctx, s.r, q, args, dialect.ScanDataObject)
}

func (s *Store) SetDataObjectInt(ctx context.Context, id int64, v int64) error {
	return s.changeOne(ctx, dataStmt.SetDataObjectInt, v, id)
}

func (s *Store) SetDataObjectString(ctx context.Context, id int64, v string) error {
	return s.changeOne(ctx, dataStmt.SetDataObjectString, v, id)
}

func (s *Store) RemoveDataObject(ctx context.Context, id int64) error {
	return s.changeOne(ctx, dataStmt.DeleteDataObject, id)
}

// changeOne runs a statement that changes the one row it names; ErrNotFound when there is none.
func (s *Store) changeOne(ctx context.Context, query string, args ...any) (err error) {
	defer func() { s.onChange.Run(ctx, err) }() // the cached license key, its activations and data objects
	res, err := s.w.ExecContext(ctx, query, args...)
	if err != nil {
		return mapErr(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return mapErr(err)
	} else if n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

func (s *Store) AddDataObjectInt(ctx context.Context, id int64, delta int64, bound *int64) (_ int64, err error) {
	defer func() { s.onChange.Run(ctx, err) }() // the cached license key, its activations and data objects
	var v int64
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		v, err = addDataInt(ctx, tx, id, delta, bound)
		return err
	})
	return v, err
}

func (s *Store) AddDataObjectInts(ctx context.Context, deltas []storage.DataDelta) (err error) {
	defer func() { s.onChange.Run(ctx, err) }() // the cached license key, its activations and data objects
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, d := range deltas {
			if _, err := addDataInt(ctx, tx, d.ID, d.Delta, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// addDataInt is the one conditional UPDATE that adds delta; when it changes no row, the object is either
// absent or the change would leave the allowed range.
func addDataInt(ctx context.Context, tx *sql.Tx, id, delta int64, bound *int64) (int64, error) {
	var v int64
	err := tx.QueryRowContext(ctx, dataStmt.AddDataObjectInt, sqlmap.AddIntArgs(id, delta, bound)...).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		var n int
		if err := tx.QueryRowContext(ctx, dataStmt.ExistsDataObject, id).Scan(&n); err != nil {
			return 0, mapErr(err)
		}
		if n == 0 {
			return 0, storage.ErrNotFound
		}
		return 0, storage.ErrOutOfRange
	}
	return v, mapErr(err)
}
