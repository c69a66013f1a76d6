// Package sqlmap is the mapping layer both SQL backends share: how storage's records sit in columns and rows
// (column lists, one scanner per record), the statements both run alike, a WHERE builder and a row collector.
//
// It imports no driver. What differs between the databases is a Dialect: how arguments are numbered (? in
// SQLite, $1, $2, … in PostgreSQL), and how a time or a list column is read. A statement shared here is written
// with ? and rebound to the dialect's placeholders once, when the backend builds its Statements.
package sqlmap

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Row is one result row: *sql.Row, *sql.Rows, pgx.Row and pgx.Rows all are.
type Row interface {
	Scan(dest ...any) error
}

// Rows is a result set being read: *sql.Rows and pgx.Rows both are.
type Rows interface {
	Row
	Next() bool
	Err() error
}

// Dialect is what one backend tells the shared code about its database.
type Dialect struct {
	// Numbered is set when arguments are written $1, $2, … instead of ?.
	Numbered bool
	// Time returns the scan destination that reads a time column (NULL included) into *t. The zero time is
	// "not set": no expiry, never revoked.
	Time func(t *time.Time) any
	// TimeArg is how a time is written as an argument, and Unset the SQL literal a time column holds when the
	// time is not set (it sorts before every time that is).
	TimeArg func(time.Time) any
	Unset   string
	// List returns the scan destination that reads a list column into *l. SQLite keeps a list as text joined
	// with sep (a character no item holds); PostgreSQL as TEXT[]. The scanners make an empty list nil.
	List func(l *[]string, sep string) any
	// MapErr turns the driver's errors into the storage sentinels (sql.ErrNoRows into storage.ErrNotFound, …).
	MapErr func(error) error
	// Storable, if set, reports whether a string argument can be held in a column at all; a WHERE condition
	// comparing with one that cannot matches nothing (see Where.None).
	Storable func(string) bool
}

// Placeholder is the placeholder of the n-th argument (from 1).
func (d *Dialect) Placeholder(n int) string {
	if d.Numbered {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// SQL rewrites a statement written with ? for each argument into the dialect's placeholders, numbering them
// from 1 in the order they stand. The shared statements hold no ? in a literal or an operator.
func (d *Dialect) SQL(query string) string {
	return d.rebind(query, 0)
}

// rebind numbers the placeholders of query from n+1.
func (d *Dialect) rebind(query string, n int) string {
	if !d.Numbered {
		return query
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(query, '?')
		if i < 0 {
			b.WriteString(query)
			return b.String()
		}
		n++
		b.WriteString(query[:i])
		b.WriteString(d.Placeholder(n))
		query = query[i+1:]
	}
}

// Values is the VALUES list of n arguments: "(?, ?, ?)" or "($1, $2, $3)".
func (d *Dialect) Values(n int) string {
	p := make([]string, n)
	for i := range p {
		p[i] = d.Placeholder(i + 1)
	}
	return "(" + strings.Join(p, ", ") + ")"
}

// Statements returns the shared statements in the dialect's placeholders. A backend calls it once, at init.
func (d *Dialect) Statements() *Statements {
	s := shared
	v := reflect.ValueOf(&s).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() != reflect.String || f.String() == "" {
			panic(fmt.Sprintf("sqlmap: statement %s is not set", v.Type().Field(i).Name))
		}
		f.SetString(d.SQL(f.String()))
	}
	return &s
}

// Collect scans every row of rows with scan: no rows is a nil slice. The caller closes rows.
func Collect[T any](d *Dialect, rows Rows, scan func(Row) (T, error)) ([]T, error) {
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, d.MapErr(rows.Err())
}

// LimitOf is a listing's limit: n, or 1000 when unset.
func LimitOf(n int) int {
	if n <= 0 {
		return 1000
	}
	return n
}

// Where joins conditions into a WHERE clause, numbering their placeholders in the dialect's style.
type Where struct {
	d     *Dialect
	conds []string
	Args  []any
	// None is set when a condition compares with a string no row can hold (see Dialect.Storable): nothing
	// matches, and the caller need not ask.
	None bool
}

// Where starts an empty WHERE clause.
func (d *Dialect) Where() *Where { return &Where{d: d} }

// Add adds a condition, written with ? for each of its arguments.
func (w *Where) Add(cond string, args ...any) {
	for _, a := range args {
		if s, ok := a.(string); ok && w.d.Storable != nil && !w.d.Storable(s) {
			w.None = true
		}
	}
	w.conds = append(w.conds, w.d.rebind(cond, len(w.Args)))
	w.Args = append(w.Args, args...)
}

// Next adds an argument for what follows the clause (a LIMIT) and returns its placeholder.
func (w *Where) Next(arg any) string {
	w.Args = append(w.Args, arg)
	return w.d.Placeholder(len(w.Args))
}

// String is the clause with a leading space, or "" when there are no conditions.
func (w *Where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// ByVendor is query narrowed to one vendor's records when vendor is set, then order, with its arguments.
func (d *Dialect) ByVendor(query, vendor, order string) (string, []any) {
	w := d.Where()
	if vendor != "" {
		w.Add("vendor = ?", vendor)
	}
	return query + w.String() + " " + order, w.Args
}

// Nullable stores "" as NULL (an optional reference).
func Nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// NullableID stores 0 as NULL (an optional reference).
func NullableID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
