// Package dbcopy moves a deployment from its SQLite file to a PostgreSQL database: every table, in one pass,
// with each table's rows counted and checksummed on both sides at the end.
//
// The copy is driven by Tables; the columns of each table and how each is converted (times, booleans, lists)
// are read from the two schemas themselves, which must hold the same tables and columns.
//
// A run that fails part way can be run again. Before the first row is written the target gets a marker row in
// its settings (MarkerSetting); a run that finds that marker knows the target holds only what an unfinished copy
// wrote, empties it and copies again. The marker goes once every table has been verified.
package dbcopy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tokenmanager/tokenmanager/storage/postgres"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

// MarkerSetting is the setting a copy in progress keeps in the target. Nodes must not be started on a target
// that has it.
const MarkerSetting = "migrate_db_in_progress"

// ErrNotEmpty is returned when the target already holds data and Options.Force is not set.
var ErrNotEmpty = errors.New("the target database is not empty")

// Options tune a copy.
type Options struct {
	// Force empties a target that holds data of its own (a node was started on it, or a finished copy).
	Force bool
	// Progress, if set, is told how the copy goes: at the start and end of each table and every Every rows.
	Progress func(Progress)
	// Every is how many rows pass between progress reports within a table (10000 when 0).
	Every int
	// Now is the time rows are judged live by (time.Now when zero).
	Now time.Time
	// Fingerprint, if set, is the fingerprint of the server key the cluster will run with: a source set up with
	// another key is refused, since none of its tokens or sealed secrets would open under this one.
	Fingerprint string
}

// fingerprintSetting is the setting that holds the fingerprint of the server key a database was set up with.
const fingerprintSetting = "server_key_fingerprint"

// ErrWrongKey is returned when Options.Fingerprint is not the source's.
var ErrWrongKey = errors.New("the server key is not the one the source database was set up with")

// Progress is one report of a copy's progress.
type Progress struct {
	Table       string
	Done, Total int64
	Finished    bool // the table is copied
}

// Report is what a copy did.
type Report struct {
	Resumed bool // an unfinished copy was found and done again
	Emptied bool // the target held data and Force emptied it
	Tables  []TableReport
}

// TableReport is one table's figures, the same on both sides.
type TableReport struct {
	Name   string
	Rows   int64
	SHA256 string // hex
}

// failDuring, when set by a test, makes the copy of that table fail after its first row has been sent.
var failDuring string

// Copy copies the SQLite database at srcPath into the PostgreSQL database dstDSN. Both are brought to the
// current schema first. The source should not be written while it runs (stop the service): it is read in one
// snapshot, and anything written after is not copied.
func Copy(ctx context.Context, srcPath, dstDSN string, opt Options) (*Report, error) {
	if opt.Every <= 0 {
		opt.Every = 10000
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if _, err := os.Stat(srcPath); err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	// Opening through the backends applies their migrations: both sides have the same schema after.
	s, err := sqlite.Open(ctx, srcPath)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	s.Close()
	d, err := postgres.Open(ctx, dstDSN)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	d.Close()

	src, err := sql.Open("sqlite3", "file:"+srcPath+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	defer src.Close()
	src.SetMaxOpenConns(1)
	// One read transaction: every table comes from the same snapshot.
	stx, err := src.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	defer stx.Rollback()

	cfg, err := pgxpool.ParseConfig(dstDSN) // takes pool parameters too, as the service's DSN may hold them
	if err != nil {
		return nil, errors.New("target: the DSN is not a valid connection URL")
	}
	dst, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	defer dst.Close(context.Background())

	c := &copier{src: stx, dst: dst, opt: opt}
	if err := c.plan(ctx); err != nil {
		return nil, err
	}
	return c.run(ctx)
}

type copier struct {
	src  *sql.Tx
	dst  *pgx.Conn
	opt  Options
	cols map[string][]column // by table
	pk   map[string][]string // primary-key columns, in key order
}

// plan checks that both schemas hold exactly the tables of Tables, with the same columns, and reads how each
// column is converted.
func (c *copier) plan(ctx context.Context) error {
	var sv, dv int
	if err := c.src.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&sv); err != nil {
		return fmt.Errorf("source: %w", err)
	}
	if err := c.dst.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&dv); err != nil {
		return fmt.Errorf("target: %w", err)
	}
	if sv != dv {
		return fmt.Errorf("the source's schema is at version %d and the target's at %d: run both with the same tokenmanager", sv, dv)
	}
	if c.opt.Fingerprint != "" {
		var fp string
		err := c.src.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, fingerprintSetting).Scan(&fp)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("source: %w", err)
		}
		if err == nil && fp != c.opt.Fingerprint { // fingerprints reveal nothing of the key: a plain comparison will do
			return fmt.Errorf("%w (its fingerprint %.12s, the source's %.12s)", ErrWrongKey, c.opt.Fingerprint, fp)
		}
	}
	srcTables, err := c.sqliteTables(ctx)
	if err != nil {
		return err
	}
	dstTables, err := c.pgTables(ctx)
	if err != nil {
		return err
	}
	if err := sameTables("source", srcTables); err != nil {
		return err
	}
	if err := sameTables("target", dstTables); err != nil {
		return err
	}
	c.cols, c.pk = map[string][]column{}, map[string][]string{}
	for _, t := range Tables {
		srcCols, pk, err := c.sqliteColumns(ctx, t.Name)
		if err != nil {
			return err
		}
		types, err := c.pgColumns(ctx, t.Name)
		if err != nil {
			return err
		}
		if len(srcCols) != len(types) {
			return fmt.Errorf("table %s has %d columns in the source and %d in the target", t.Name, len(srcCols), len(types))
		}
		var cols []column
		for _, name := range srcCols {
			pt, ok := types[name]
			if !ok {
				return fmt.Errorf("column %s.%s is in the source but not in the target", t.Name, name)
			}
			k, err := kindOf(pt[0], pt[1])
			if err != nil {
				return fmt.Errorf("column %s.%s: %w", t.Name, name, err)
			}
			col := column{name: name, kind: k, sep: t.Lists[name]}
			if (k == kList) != (col.sep != "") {
				return fmt.Errorf("column %s.%s: a list in exactly one of PostgreSQL and the table list (dbcopy.Tables)", t.Name, name)
			}
			cols = append(cols, col)
		}
		if len(pk) == 0 {
			return fmt.Errorf("table %s has no primary key to order its rows by", t.Name)
		}
		c.cols[t.Name], c.pk[t.Name] = cols, pk
	}
	return nil
}

// sameTables fails unless tables are exactly those of Tables.
func sameTables(side string, tables []string) error {
	have := map[string]bool{}
	for _, t := range tables {
		have[t] = true
	}
	var missing, extra []string
	for _, t := range Tables {
		if !have[t.Name] {
			missing = append(missing, t.Name)
		}
		delete(have, t.Name)
	}
	for t := range have {
		extra = append(extra, t)
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		return fmt.Errorf("the %s holds tables this version does not know how to copy: %s", side, strings.Join(extra, ", "))
	}
	if len(missing) > 0 {
		return fmt.Errorf("the %s lacks tables: %s", side, strings.Join(missing, ", "))
	}
	return nil
}

func (c *copier) sqliteTables(ctx context.Context) ([]string, error) {
	return SQLiteTables(ctx, c.src)
}

// SQLiteTables lists the tables of a SQLite database that hold the service's data.
func SQLiteTables(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table'
		AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name <> ? ORDER BY name`, schemaTable)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func (c *copier) pgTables(ctx context.Context) ([]string, error) {
	rows, err := c.dst.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> $1`, schemaTable)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// sqliteColumns are a table's columns in their order, and its primary key's columns in key order.
func (c *copier) sqliteColumns(ctx context.Context, table string) (cols, pk []string, err error) {
	rows, err := c.src.QueryContext(ctx, `SELECT name, pk FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return nil, nil, fmt.Errorf("source: %w", err)
	}
	defer rows.Close()
	order := map[int]string{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			return nil, nil, err
		}
		cols = append(cols, name)
		if n > 0 {
			order[n] = name
		}
	}
	for i := 1; i <= len(order); i++ {
		pk = append(pk, order[i])
	}
	return cols, pk, rows.Err()
}

// pgColumns maps a table's columns to their data_type and udt_name.
func (c *copier) pgColumns(ctx context.Context, table string) (map[string][2]string, error) {
	rows, err := c.dst.Query(ctx, `SELECT column_name, data_type, udt_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1`, table)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	defer rows.Close()
	out := map[string][2]string{}
	for rows.Next() {
		var name, dt, udt string
		if err := rows.Scan(&name, &dt, &udt); err != nil {
			return nil, err
		}
		out[name] = [2]string{dt, udt}
	}
	return out, rows.Err()
}

func (c *copier) run(ctx context.Context) (*Report, error) {
	rep := &Report{}
	var marker string
	err := c.dst.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, MarkerSetting).Scan(&marker)
	switch {
	case err == nil:
		rep.Resumed = true // only an unfinished copy wrote here: start it over
	case errors.Is(err, pgx.ErrNoRows):
		held, err := c.targetRows(ctx)
		if err != nil {
			return nil, err
		}
		if held != "" && !c.opt.Force {
			return nil, fmt.Errorf("%w (%s)", ErrNotEmpty, held)
		}
		rep.Emptied = held != ""
	default:
		return nil, fmt.Errorf("target: %w", err)
	}
	if err := c.empty(ctx); err != nil {
		return nil, err
	}

	sums := map[string]TableReport{}
	for _, t := range Tables {
		tr, err := c.copyTable(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("copying %s (run the same command again to start over): %w", t.Name, err)
		}
		sums[t.Name] = tr
	}
	for _, t := range Tables {
		got, err := c.targetSum(ctx, t.Name)
		if err != nil {
			return nil, fmt.Errorf("verifying %s: %w", t.Name, err)
		}
		want := sums[t.Name]
		if got != want {
			return nil, fmt.Errorf("verifying %s: the source has %d rows (SHA-256 %.16s…), the target %d (%.16s…)",
				t.Name, want.Rows, want.SHA256, got.Rows, got.SHA256)
		}
		rep.Tables = append(rep.Tables, want)
	}
	if _, err := c.dst.Exec(ctx, `DELETE FROM settings WHERE name = $1`, MarkerSetting); err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	return rep, nil
}

// targetRows says which tables of the target hold rows ("" when none does).
func (c *copier) targetRows(ctx context.Context) (string, error) {
	var held []string
	for _, t := range Tables {
		var n int64
		if err := c.dst.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{t.Name}.Sanitize()).Scan(&n); err != nil {
			return "", fmt.Errorf("target: %w", err)
		}
		if n > 0 {
			held = append(held, fmt.Sprintf("%d rows in %s", n, t.Name))
		}
	}
	return strings.Join(held, ", "), nil
}

// empty truncates every table of the target (identities restarted) and sets the marker, in one transaction.
func (c *copier) empty(ctx context.Context) error {
	names := make([]string, len(Tables))
	for i, t := range Tables {
		names[i] = pgx.Identifier{t.Name}.Sanitize()
	}
	return pgx.BeginFunc(ctx, c.dst, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `TRUNCATE `+strings.Join(names, ", ")+` RESTART IDENTITY`); err != nil {
			return fmt.Errorf("target: emptying: %w", err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2)`, MarkerSetting,
			"copy from SQLite started "+time.Now().UTC().Format(time.RFC3339))
		return err
	})
}

func (c *copier) selectList(table string) string {
	names := make([]string, len(c.cols[table]))
	for i, col := range c.cols[table] {
		names[i] = `"` + col.name + `"`
	}
	return strings.Join(names, ", ")
}

func (c *copier) orderBy(table string) string {
	names := make([]string, len(c.pk[table]))
	for i, n := range c.pk[table] {
		names[i] = `"` + n + `"`
	}
	return " ORDER BY " + strings.Join(names, ", ")
}

// copyTable copies one table's live rows in one transaction of the target and advances its identity past
// them. It returns the count and checksum of what it read.
func (c *copier) copyTable(ctx context.Context, t Table) (TableReport, error) {
	where, args := "", []any(nil)
	if t.Live != "" {
		where = " WHERE " + t.Live
		for range strings.Count(t.Live, "?") {
			args = append(args, c.opt.Now.UnixMicro())
		}
	}
	var total int64
	if err := c.src.QueryRowContext(ctx, `SELECT count(*) FROM "`+t.Name+`"`+where, args...).Scan(&total); err != nil {
		return TableReport{}, fmt.Errorf("source: %w", err)
	}
	rows, err := c.src.QueryContext(ctx, `SELECT `+c.selectList(t.Name)+` FROM "`+t.Name+`"`+where+c.orderBy(t.Name), args...)
	if err != nil {
		return TableReport{}, fmt.Errorf("source: %w", err)
	}
	defer rows.Close()
	rs := &rowSource{c: c, table: t.Name, cols: c.cols[t.Name], rows: rows, sum: newSum(), total: total}
	c.report(Progress{Table: t.Name, Total: total})
	err = pgx.BeginFunc(ctx, c.dst, func(tx pgx.Tx) error {
		names := make([]string, len(rs.cols))
		for i, col := range rs.cols {
			names[i] = col.name
		}
		if t.Refill {
			if _, err := tx.Exec(ctx, `TRUNCATE `+pgx.Identifier{t.Name}.Sanitize()+` RESTART IDENTITY`); err != nil {
				return err
			}
		}
		// COPY writes identity columns' values as given (as OVERRIDING SYSTEM VALUE would).
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.Name}, names, rs); err != nil {
			return err
		}
		return advanceIdentities(ctx, tx, t.Name)
	})
	if err != nil {
		return TableReport{}, err
	}
	if rs.n != total {
		return TableReport{}, fmt.Errorf("source: counted %d rows, read %d", total, rs.n)
	}
	c.report(Progress{Table: t.Name, Done: rs.n, Total: total, Finished: true})
	return TableReport{Name: t.Name, Rows: rs.n, SHA256: rs.sum.hex()}, nil
}

func (c *copier) report(p Progress) {
	if c.opt.Progress != nil {
		c.opt.Progress(p)
	}
}

// advanceIdentities sets the sequence behind each identity or serial column of table past the largest id in it,
// so that the next row the service inserts does not take an id that was copied.
func advanceIdentities(ctx context.Context, tx pgx.Tx, table string) error {
	rows, err := tx.Query(ctx, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1
		AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')`, table)
	if err != nil {
		return err
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, col := range cols {
		// setval(seq, max, true): the next value is max+1; an empty table leaves the sequence at its start.
		q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence($1, $2), max(%s)) FROM %s HAVING max(%s) IS NOT NULL`,
			pgx.Identifier{col}.Sanitize(), pgx.Identifier{table}.Sanitize(), pgx.Identifier{col}.Sanitize())
		if _, err := tx.Exec(ctx, q, pgx.Identifier{table}.Sanitize(), col); err != nil {
			return fmt.Errorf("advancing %s.%s: %w", table, col, err)
		}
	}
	return nil
}

// rowSource feeds COPY with the SQLite rows, converted, checksumming and reporting progress as it goes.
type rowSource struct {
	c      *copier
	table  string
	cols   []column
	rows   *sql.Rows
	sum    *rowSum
	n      int64
	total  int64
	values []any
	err    error
}

func (r *rowSource) Next() bool {
	if r.err != nil || !r.rows.Next() {
		return false
	}
	raw := make([]any, len(r.cols))
	ptrs := make([]any, len(r.cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	if r.err = r.rows.Scan(ptrs...); r.err != nil {
		return false
	}
	r.sum.row()
	r.values = make([]any, len(r.cols))
	for i, col := range r.cols {
		v, err := col.convert(raw[i], r.sum)
		if err != nil {
			r.err = fmt.Errorf("column %s of row %d: %w", col.name, r.n+1, err)
			return false
		}
		r.values[i] = v
	}
	r.n++
	if r.table == failDuring && r.n == 2 {
		r.err = errors.New("failing as the test asked")
		return false
	}
	if r.n%int64(r.c.opt.Every) == 0 {
		r.c.report(Progress{Table: r.table, Done: r.n, Total: r.total})
	}
	return true
}

func (r *rowSource) Values() ([]any, error) { return r.values, nil }

func (r *rowSource) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.rows.Err()
}

// targetSum counts and checksums a table of the target as copyTable did its source rows.
func (c *copier) targetSum(ctx context.Context, table string) (TableReport, error) {
	where, args := "", []any(nil)
	if table == "settings" {
		where, args = " WHERE name <> $1", []any{MarkerSetting}
	}
	rows, err := c.dst.Query(ctx, `SELECT `+c.selectList(table)+` FROM `+pgx.Identifier{table}.Sanitize()+where+c.orderBy(table), args...)
	if err != nil {
		return TableReport{}, err
	}
	defer rows.Close()
	cols := c.cols[table]
	dests := make([]any, len(cols))
	sum := newSum()
	var n int64
	for rows.Next() {
		for i, col := range cols {
			dests[i] = col.dest()
		}
		if err := rows.Scan(dests...); err != nil {
			return TableReport{}, err
		}
		sum.row()
		for i, col := range cols {
			if err := col.sumDest(dests[i], sum); err != nil {
				return TableReport{}, fmt.Errorf("column %s: %w", col.name, err)
			}
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return TableReport{}, err
	}
	return TableReport{Name: table, Rows: n, SHA256: sum.hex()}, nil
}

// SourceFingerprint is the fingerprint of the server key the SQLite database at path was set up with, or ""
// when no node or command has used a key on it yet. The file is only read.
func SourceFingerprint(ctx context.Context, path string) (string, error) {
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("source: %w", err)
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return "", fmt.Errorf("source: %w", err)
	}
	defer db.Close()
	var fp string
	err = db.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, fingerprintSetting).Scan(&fp)
	if errors.Is(err, sql.ErrNoRows) || (err != nil && strings.Contains(err.Error(), "no such table")) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("source: %w", err)
	}
	return fp, nil
}
