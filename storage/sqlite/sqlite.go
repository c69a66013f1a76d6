// Package sqlite is the embedded default backend: one SQLite file in WAL mode.
//
// SQLite allows one writer at a time, and in WAL mode a deferred transaction that upgrades from read to write
// fails with SQLITE_BUSY without waiting. So every write goes through a single connection whose transactions
// begin IMMEDIATE, and reads use a separate read-only pool that never blocks on the writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/hooks"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

// Store implements storage.Store on one SQLite file.
type Store struct {
	w *sql.DB // the single writer connection
	r *sql.DB // read-only pool

	onChange hooks.Changes // see OnChange
	group    groupCommit   // see execGrouped
	ckpt     *checkpointer // see checkpoint.go
}

var _ storage.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path and applies pending migrations. The file, its WAL
// and its shared-memory index are readable by the owner only (0600), wherever path is.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := makePrivate(path); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	common := url.Values{
		"_journal_mode": {"WAL"},
		"_synchronous":  {"NORMAL"},
		"_busy_timeout": {"5000"},
		"_foreign_keys": {"on"},
		// Each connection keeps its prepared statements: the hot queries are parsed once, not per call.
		"_stmt_cache_size": {"64"},
	}
	wq := cloneValues(common)
	wq.Set("_txlock", "immediate")
	w, err := sql.Open(writerDriverName(), "file:"+path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}

	rq := cloneValues(common)
	rq.Set("mode", "ro")
	r, err := sql.Open("sqlite3", "file:"+path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s read-only: %w", path, err)
	}
	readers := 2 * runtime.GOMAXPROCS(0)
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: ping %s: %w", path, err)
	}
	c, err := sql.Open("sqlite3", "file:"+path+"?"+common.Encode())
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s for checkpoints: %w", path, err)
	}
	s := &Store{w: w, r: r}
	s.startCheckpointer(c)
	return s, nil
}

// privateMode is the mode of every database file: they hold license keys, password hashes and the audit log.
const privateMode = 0o600

// makePrivate creates the database file at path with mode 0600 if it does not exist, and takes group and other
// access away from an existing one and from its -wal and -shm files. SQLite's unix VFS creates the -wal,
// -shm and -journal files with the mode of the database file, whatever the umask, so creating that file
// ourselves is what keeps them private too. An empty file is an empty database to SQLite.
func makePrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, privateMode)
	if err != nil {
		return err
	}
	// OpenFile's mode is subject to the umask and does not change an existing file (one an older version
	// created 0644, or a copy put in place by hand), so set it.
	err = chmodPrivate(f.Name())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if err := chmodPrivate(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// chmodPrivate sets path's mode to 0600 unless it is that already (so that a file that is private but owned
// by another user, which only its owner or root could chmod, is left alone).
func chmodPrivate(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Mode().Perm() == privateMode {
		return nil
	}
	return os.Chmod(path, privateMode)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// Close stops the checkpoints and closes the pools.
func (s *Store) Close() error {
	return errors.Join(s.ckpt.close(), s.r.Close(), s.w.Close())
}

// Ping checks both pools.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return mapErr(err)
	}
	return mapErr(s.r.PingContext(ctx))
}

// tx runs fn in one write transaction (BEGIN IMMEDIATE) and commits only if fn succeeds.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	t, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(fmt.Errorf("begin: %w", err))
	}
	if err := fn(t); err != nil {
		t.Rollback()
		return err
	}
	if err := t.Commit(); err != nil {
		return mapErr(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// mapErr turns driver errors into the storage sentinels.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrUnavailable) {
		return err // mapped already
	}
	if unavailable(err) {
		return fmt.Errorf("%w: sqlite: %w", storage.ErrUnavailable, err)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return storage.ErrNotFound
	}
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrConstraint &&
		(se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey || se.ExtendedCode == sqlite3.ErrConstraintUnique) {
		return fmt.Errorf("%w: %v", storage.ErrConflict, err)
	}
	return fmt.Errorf("sqlite: %w", err)
}

// mapRefErr is mapErr, except that a foreign-key violation (a vendor, product, customer, user or parent token
// that does not exist) is ErrNotFound.
func mapRefErr(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrConstraint && se.ExtendedCode == sqlite3.ErrConstraintForeignKey {
		return fmt.Errorf("%w: %v", storage.ErrNotFound, err)
	}
	return mapErr(err)
}

// Times are stored as Unix microseconds (0 = zero time), the precision PostgreSQL keeps too.
func toMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// microsDest scans a time column (Unix microseconds; 0 or NULL is the zero time) into a time.Time.
type microsDest struct{ p *time.Time }

func (d microsDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.p = time.Time{}
	case int64:
		*d.p = fromMicros(v)
	default:
		return fmt.Errorf("sqlite: a time column holds %T, not Unix microseconds", src)
	}
	return nil
}

// joinedDest scans a list column (its items joined with sep; "" is no items) into a []string.
type joinedDest struct {
	p   *[]string
	sep string
}

func (d joinedDest) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("sqlite: a list column holds %T, not text", src)
	}
	*d.p = nil
	if s != "" {
		*d.p = strings.Split(s, d.sep)
	}
	return nil
}

// joinList is how a list is written: its items joined with sep (see joinedDest).
func joinList(l []string, sep string) string { return strings.Join(l, sep) }

// dialect is how the shared mapping reads this database, and stmt its shared statements.
var (
	dialect = &sqlmap.Dialect{
		Time:    func(t *time.Time) any { return microsDest{t} },
		TimeArg: func(t time.Time) any { return toMicros(t) },
		Unset:   "0",
		List:    func(l *[]string, sep string) any { return joinedDest{l, sep} },
		MapErr:  mapErr,
	}
	stmt = dialect.Statements()
)

// queryAll runs a query and scans every row with scan; no rows is a nil slice.
func queryAll[T any](ctx context.Context, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args []any, scan func(sqlmap.Row) (T, error)) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	return sqlmap.Collect(dialect, rows, scan)
}

func requireRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// rowsAffected is how many rows a statement changed, for the methods that return it.
func rowsAffected(res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err)
}
