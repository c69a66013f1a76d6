package dbcopy

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"
)

// kind is how a column's values are converted and compared, told by its PostgreSQL type.
type kind int

const (
	kText  kind = iota // TEXT in both
	kBytes             // BLOB / BYTEA
	kInt               // INTEGER / SMALLINT, INTEGER, BIGINT
	kBool              // INTEGER 0 or 1 / BOOLEAN
	kTime              // INTEGER Unix microseconds, 0 not set / TIMESTAMPTZ, '-infinity' not set
	kList              // TEXT items joined with a separator / TEXT[]
	kFloat             // REAL / DOUBLE PRECISION
)

// kindOf maps a column's PostgreSQL type (information_schema's data_type and udt_name) to its kind.
func kindOf(dataType, udt string) (kind, error) {
	switch dataType {
	case "text":
		return kText, nil
	case "bytea":
		return kBytes, nil
	case "smallint", "integer", "bigint":
		return kInt, nil
	case "boolean":
		return kBool, nil
	case "double precision":
		return kFloat, nil
	case "timestamp with time zone":
		return kTime, nil
	case "ARRAY":
		if udt == "_text" {
			return kList, nil
		}
	}
	return 0, fmt.Errorf("PostgreSQL type %s (%s) is not one the copy knows how to convert", dataType, udt)
}

type column struct {
	name string
	kind kind
	sep  string // kList: the SQLite separator
}

// convert turns a value read from SQLite into what PostgreSQL's column takes, and appends its normal form to
// sum. The normal form is taken from the SQLite value itself, so that a conversion gone wrong shows as a
// checksum that does not match the one read back from PostgreSQL.
func (c column) convert(v any, sum *rowSum) (any, error) {
	if v == nil {
		if c.kind == kList {
			return nil, errors.New("NULL in a list column")
		}
		sum.null()
		return nil, nil
	}
	switch c.kind {
	case kText:
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case []byte:
			s = string(v)
		default:
			return nil, fmt.Errorf("holds %T, not text", v)
		}
		// PostgreSQL's TEXT holds valid UTF-8 without NUL; the service never writes anything else.
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return nil, errors.New("holds text PostgreSQL cannot store (invalid UTF-8 or a NUL byte)")
		}
		sum.text('S', s)
		return s, nil
	case kBytes:
		var b []byte
		switch v := v.(type) {
		case []byte:
			b = v
		case string:
			b = []byte(v)
		default:
			return nil, fmt.Errorf("holds %T, not bytes", v)
		}
		b = append([]byte{}, b...) // the driver may reuse its buffer
		sum.text('X', string(b))
		return b, nil
	case kInt:
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("holds %T, not an integer", v)
		}
		sum.int('I', n)
		return n, nil
	case kBool:
		n, ok := v.(int64)
		if !ok || (n != 0 && n != 1) {
			return nil, fmt.Errorf("holds %v, not a boolean 0 or 1", v)
		}
		sum.int('B', n)
		return n == 1, nil
	case kFloat:
		f, ok := v.(float64)
		if !ok {
			return nil, fmt.Errorf("holds %T, not a real number", v)
		}
		sum.int('F', int64(math.Float64bits(f)))
		return f, nil
	case kTime:
		us, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("holds %T, not Unix microseconds", v)
		}
		sum.int('T', us)
		if us == 0 {
			return pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}, nil
		}
		return pgtype.Timestamptz{Time: time.UnixMicro(us).UTC(), Valid: true}, nil
	case kList:
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case []byte:
			s = string(v)
		default:
			return nil, fmt.Errorf("holds %T, not a list in text", v)
		}
		items := []string{}
		if s != "" {
			items = strings.Split(s, c.sep)
		}
		sum.list(items)
		return items, nil
	}
	return nil, errors.New("unknown kind")
}

// dest is where a value of the column is scanned from PostgreSQL.
func (c column) dest() any {
	switch c.kind {
	case kText:
		return new(pgtype.Text)
	case kBytes:
		return new([]byte)
	case kInt:
		return new(pgtype.Int8)
	case kBool:
		return new(pgtype.Bool)
	case kTime:
		return new(pgtype.Timestamptz)
	case kFloat:
		return new(pgtype.Float8)
	default:
		return new([]string)
	}
}

// sumDest appends the normal form of a value scanned into dest() to sum: the same form convert gives the
// SQLite value it came from.
func (c column) sumDest(d any, sum *rowSum) error {
	switch d := d.(type) {
	case *pgtype.Text:
		if !d.Valid {
			sum.null()
		} else {
			sum.text('S', d.String)
		}
	case *[]byte:
		if *d == nil {
			sum.null()
		} else {
			sum.text('X', string(*d))
		}
	case *pgtype.Int8:
		if !d.Valid {
			sum.null()
		} else {
			sum.int('I', d.Int64)
		}
	case *pgtype.Bool:
		switch {
		case !d.Valid:
			sum.null()
		case d.Bool:
			sum.int('B', 1)
		default:
			sum.int('B', 0)
		}
	case *pgtype.Float8:
		if !d.Valid {
			sum.null()
		} else {
			sum.int('F', int64(math.Float64bits(d.Float64)))
		}
	case *pgtype.Timestamptz:
		switch {
		case !d.Valid:
			sum.null()
		case d.InfinityModifier == pgtype.NegativeInfinity:
			sum.int('T', 0)
		case d.InfinityModifier != pgtype.Finite:
			return errors.New("holds 'infinity', which the service never writes")
		default:
			sum.int('T', d.Time.UnixMicro())
		}
	case *[]string:
		sum.list(*d)
	}
	return nil
}

// rowSum is the SHA-256 of a table's rows in primary-key order, each value in a normal form that does not depend
// on the database: a tag for its kind, then its length and bytes or its 64-bit value.
type rowSum struct {
	h   hash.Hash
	buf [9]byte
}

func newSum() *rowSum { return &rowSum{h: sha256.New()} }

func (s *rowSum) row()  { s.h.Write([]byte{'R'}) }
func (s *rowSum) null() { s.h.Write([]byte{'N'}) }

func (s *rowSum) int(tag byte, n int64) {
	s.buf[0] = tag
	binary.BigEndian.PutUint64(s.buf[1:], uint64(n))
	s.h.Write(s.buf[:])
}

func (s *rowSum) text(tag byte, v string) {
	s.int(tag, int64(len(v)))
	s.h.Write([]byte(v))
}

func (s *rowSum) list(items []string) {
	s.int('L', int64(len(items)))
	for _, it := range items {
		s.text('S', it)
	}
}

func (s *rowSum) hex() string { return fmt.Sprintf("%x", s.h.Sum(nil)) }
