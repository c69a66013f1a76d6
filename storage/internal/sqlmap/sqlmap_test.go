package sqlmap

import (
	"reflect"
	"strings"
	"testing"
)

var (
	question = &Dialect{MapErr: func(err error) error { return err }}
	dollar   = &Dialect{Numbered: true, MapErr: func(err error) error { return err },
		Storable: func(s string) bool { return !strings.ContainsRune(s, 0) }}
)

func TestSQLRebindsPlaceholdersInOrder(t *testing.T) {
	const q = `UPDATE t SET a = ?, b = ? WHERE id = ?`
	if got := question.SQL(q); got != q {
		t.Errorf("? dialect rewrote %q to %q", q, got)
	}
	if got, want := dollar.SQL(q), `UPDATE t SET a = $1, b = $2 WHERE id = $3`; got != want {
		t.Errorf("$n dialect: %q, want %q", got, want)
	}
}

func TestWhereNumbersAcrossConditionsAndLimit(t *testing.T) {
	w := dollar.Where()
	if w.String() != "" {
		t.Fatalf("empty clause = %q", w.String())
	}
	w.Add("a = ?", 1)
	w.Add("(b = ? OR c = ?)", "x", "x")
	limit := w.Next(10)
	if got, want := w.String()+" LIMIT "+limit, " WHERE a = $1 AND (b = $2 OR c = $3) LIMIT $4"; got != want {
		t.Errorf("clause %q, want %q", got, want)
	}
	if !reflect.DeepEqual(w.Args, []any{1, "x", "x", 10}) || w.None {
		t.Errorf("args %v, none %v", w.Args, w.None)
	}
	w.Add("d = ?", "nul\x00")
	if !w.None {
		t.Error("a condition on an unstorable string must match nothing")
	}

	q := question.Where()
	q.Add("a = ?", 1)
	if got := q.String() + " LIMIT " + q.Next(5); got != " WHERE a = ? LIMIT ?" {
		t.Errorf("? clause %q", got)
	}
}

// Every shared statement is set, and rebinding leaves no ? behind and numbers as many arguments as it found.
func TestStatements(t *testing.T) {
	q, d := question.Statements(), dollar.Statements()
	qv, dv := reflect.ValueOf(q).Elem(), reflect.ValueOf(d).Elem()
	for i := range qv.NumField() {
		name, text, rebound := qv.Type().Field(i).Name, qv.Field(i).String(), dv.Field(i).String()
		n := strings.Count(text, "?")
		if strings.Contains(rebound, "?") || (n > 0 && !strings.Contains(rebound, dollar.Placeholder(n))) ||
			strings.Contains(rebound, dollar.Placeholder(n+1)) {
			t.Errorf("%s: %q rebound to %q", name, text, rebound)
		}
	}
}

func TestByVendor(t *testing.T) {
	q, args := dollar.ByVendor(`SELECT id FROM p`, "", `ORDER BY id`)
	if q != `SELECT id FROM p ORDER BY id` || args != nil {
		t.Errorf("all vendors: %q %v", q, args)
	}
	q, args = dollar.ByVendor(`SELECT id FROM p`, "acme", `ORDER BY id`)
	if q != `SELECT id FROM p WHERE vendor = $1 ORDER BY id` || !reflect.DeepEqual(args, []any{"acme"}) {
		t.Errorf("one vendor: %q %v", q, args)
	}
}
