// Package postgres is the scale-out backend: every node of a cluster keeps its state in one PostgreSQL database.
//
// It has the SQLite backend's semantics, checked by the same storage/conformance suite. Where SQLite gets its
// guarantees from having one writer at a time, this package takes them explicitly: a read-modify-write locks
// the row it reads (SELECT … FOR UPDATE), and the few operations whose invariant spans rows (rotating the token
// key ring, revoking a tree of API tokens) lock their table against other writers. Transactions run at the
// database's isolation level (READ COMMITTED by default) and are retried on serialization failures and
// deadlocks, so a callback passed to an Update method may run more than once.
//
// Locks are always taken sessions before tokens, so that ending sessions and revoking tokens on several nodes at
// once cannot deadlock one another.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/hooks"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

// Store implements storage.Store on a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool

	onChange hooks.Changes // see OnChange
}

var _ storage.Store = (*Store)(nil)

// IsDSN reports whether dsn names a PostgreSQL database (postgres://… or postgresql://…).
func IsDSN(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// defaultMaxConns is the least number of connections a store's pool may open, unless the DSN says otherwise.
const defaultMaxConns = 16

// defaultConnectTimeout bounds a connection attempt, unless the DSN sets connect_timeout.
const defaultConnectTimeout = 5 * time.Second

// Open connects to the database dsn names and applies pending migrations (under an advisory lock, so that nodes
// starting at once take turns). Besides libpq's parameters the DSN takes pgxpool's (pool_max_conns=…) and
// runtime parameters such as search_path.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The parser's message quotes the DSN, password and all (redacted only on a best-effort basis).
		return nil, errors.New("postgres: the DSN is not a valid connection URL (postgres://USER:PASSWORD@HOST:5432/DATABASE?sslmode=…)")
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		// pgxpool's default, max(4, CPUs), serializes commits on a small machine: each waits for its WAL flush
		// alone, where more connections share one (group commit). Issuance nearly doubles with 16 on two cores.
		cfg.MaxConns = max(cfg.MaxConns, defaultMaxConns)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// Without connect_timeout a connection attempt to a host that drops packets waits for the kernel's TCP
		// timeout, minutes, and so does every request meanwhile; this way they are answered 503 in seconds.
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool}, nil
}

// Close closes every connection.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return markUnavailable(s.pool.Ping(ctx))
}

// querier is what a pool and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// maxAttempts bounds how often tx runs a transaction that failed on a serialization failure or deadlock.
const maxAttempts = 5

// tx runs fn in one transaction and commits only if fn succeeds. A transaction PostgreSQL aborted to resolve a
// deadlock or a serialization failure is run again, after a short random pause, up to maxAttempts times; one
// that failed before anything was sent (SafeToRetry) is run again at once. A connection lost after COMMIT was
// sent is never retried: whether it committed is unknown, and the caller answers 503 without the result.
func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginFunc(ctx, s.pool, fn)
		if err == nil || attempt == maxAttempts || !(retryable(err) || pgconn.SafeToRetry(err)) || ctx.Err() != nil {
			return mapErr(err)
		}
		if pgconn.SafeToRetry(err) {
			// Nothing reached the server: a connection that broke while it sat in the pool (the database
			// restarted). The pool has dropped it; the next attempt gets another or opens a new one.
			continue
		}
		pause := time.Duration(attempt) * time.Duration(1+rand.IntN(10)) * time.Millisecond
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

// PostgreSQL error codes this package acts on.
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func retryable(err error) bool {
	c := pgCode(err)
	return c == codeSerializationFailure || c == codeDeadlockDetected
}

// mapErr turns driver errors into the storage sentinels; errors already mapped pass unchanged.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrConflict), errors.Is(err, storage.ErrUnavailable):
		return err
	case unavailable(err):
		return markUnavailable(err)
	case errors.Is(err, pgx.ErrNoRows):
		return storage.ErrNotFound
	case pgCode(err) == codeUniqueViolation:
		return fmt.Errorf("%w: %v", storage.ErrConflict, err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Errorf("postgres: %w", err)
	}
	return err // context errors, the callers' own errors: as they are
}

// mapRefErr is mapErr, except that a foreign-key violation (a user, vendor, product, customer, client or parent
// token that does not exist) is ErrNotFound.
func mapRefErr(err error) error {
	if pgCode(err) == codeForeignKeyViolation {
		return fmt.Errorf("%w: %v", storage.ErrNotFound, err)
	}
	return mapErr(err)
}

// text makes s storable, replacing what PostgreSQL cannot hold with U+FFFD: for free text recorded from
// requests (the audit log), where losing the record would be worse than a changed byte.
func text(s string) string {
	if storable(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// storable reports whether PostgreSQL can hold s in a TEXT column: valid UTF-8 without NUL bytes. A lookup by a
// key that is not storable finds nothing (SQLite would say the same) instead of failing on the encoding.
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

func requireRow(tag pgconn.CommandTag) error {
	if tag.RowsAffected() == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// rowsAffected is how many rows a statement changed, for the methods that return it.
func rowsAffected(tag pgconn.CommandTag, err error) (int, error) {
	if err != nil {
		return 0, mapErr(err)
	}
	return int(tag.RowsAffected()), nil
}

// --- times ---

// ts is how a time is written: to the microsecond, and Go's zero time (not set: no expiry, never revoked) as
// '-infinity', which sorts before every real time just as SQLite's 0 does.
func ts(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
	}
	return pgtype.Timestamptz{Time: t, Valid: true}
}

// timeDest scans a TIMESTAMPTZ column into a time.Time, in UTC, '-infinity' (or NULL) as the zero time.
type timeDest struct{ p *time.Time }

func at(p *time.Time) timeDest { return timeDest{p} }

func (d timeDest) ScanTimestamptz(v pgtype.Timestamptz) error {
	switch {
	case !v.Valid || v.InfinityModifier == pgtype.NegativeInfinity:
		*d.p = time.Time{}
	case v.InfinityModifier != pgtype.Finite:
		return errors.New("postgres: 'infinity' is not a time this service writes")
	default:
		*d.p = v.Time.UTC()
	}
	return nil
}

// --- mapping ---

// dialect is how the shared mapping reads this database, and stmt its shared statements with $n placeholders.
var (
	dialect = &sqlmap.Dialect{
		Numbered: true,
		Time:     func(t *time.Time) any { return at(t) },
		TimeArg:  func(t time.Time) any { return ts(t) },
		Unset:    "'-infinity'",
		List:     func(l *[]string, _ string) any { return l }, // TEXT[]
		MapErr:   mapErr,
		Storable: storable,
	}
	stmt = dialect.Statements()
)

// queryAll runs a query and scans every row with scan; no rows is a nil slice.
func queryAll[T any](ctx context.Context, q querier, query string, args []any, scan func(sqlmap.Row) (T, error)) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	return sqlmap.Collect(dialect, rows, scan)
}

// list is a TEXT[] column's value: a nil or empty slice as '{}'.
func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
