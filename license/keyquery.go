package license

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Cryptolens' GetKeys takes a SearchQuery, a C#-like (Dynamic LINQ) predicate over the license key model. This
// is the part of it that vendors write: comparisons of the key's fields with literals, string Contains /
// StartsWith / EndsWith, feature flags on their own, and the combinators && || ! (or and, or, not) with
// parentheses. Anything else is refused with a message naming what was not understood, never guessed at.
//
//	Key == "ABCDE-FGHIJ-KLMNO-PQRST"     Notes.Contains("trial")     F1 == true && !Block
//	Expires < DateTime(2030, 1, 1)      Created >= "2024-06-01"     Customer.Email == "a@example.com"
//	Customer != null                    MaxNoOfMachines > 1 || ResellerId == 3
//
// String comparisons ignore case, as Cryptolens' (SQL Server's) do. Input is bounded in length, tokens and
// nesting before it is parsed.

// Bounds on a SearchQuery.
const (
	MaxSearchQueryLen    = 1000
	maxSearchQueryTokens = 200
	maxSearchQueryDepth  = 16
)

// KeyRecord is what a search query looks at: a key with its customer and reseller (nil when none).
type KeyRecord struct {
	Key      storage.LicenseKey
	Customer *storage.Customer
	Reseller *storage.Reseller
}

// KeyQuery is a parsed SearchQuery; the zero query (from an empty string) matches every key.
type KeyQuery struct{ root qnode }

// Match reports whether the key satisfies the query.
func (q *KeyQuery) Match(r KeyRecord) bool { return q.root == nil || q.root.eval(r) }

type qkind int

const (
	qString qkind = iota
	qInt
	qBool
	qTime
	qObject // Customer, Reseller: only == null / != null
)

// qfield is a field a query may name.
type qfield struct {
	kind qkind
	get  func(KeyRecord) any // string, int64, bool, time.Time, or bool "present" for objects
}

func custStr(f func(*storage.Customer) string) func(KeyRecord) any {
	return func(r KeyRecord) any {
		if r.Customer == nil {
			return ""
		}
		return f(r.Customer)
	}
}

func resStr(f func(*storage.Reseller) string) func(KeyRecord) any {
	return func(r KeyRecord) any {
		if r.Reseller == nil {
			return ""
		}
		return f(r.Reseller)
	}
}

// qfields are the fields by lower-case name.
var qfields = func() map[string]qfield {
	m := map[string]qfield{
		"key":             {kind: qString, get: func(r KeyRecord) any { return r.Key.Key }},
		"notes":           {kind: qString, get: func(r KeyRecord) any { return r.Key.Notes }},
		"allowedmachines": {kind: qString, get: func(r KeyRecord) any { return r.Key.AllowedMachines }},
		"id":              {kind: qInt, get: func(r KeyRecord) any { return r.Key.ID }},
		"globalid":        {kind: qInt, get: func(r KeyRecord) any { return r.Key.GlobalID }},
		"period":          {kind: qInt, get: func(r KeyRecord) any { return int64(r.Key.Period) }},
		"maxnoofmachines": {kind: qInt, get: func(r KeyRecord) any { return int64(r.Key.MaxNoOfMachines) }},
		"customerid":      {kind: qInt, get: func(r KeyRecord) any { return r.Key.CustomerID }},
		"resellerid":      {kind: qInt, get: func(r KeyRecord) any { return r.Key.ResellerID }},
		"block":           {kind: qBool, get: func(r KeyRecord) any { return r.Key.Blocked }},
		"trialactivation": {kind: qBool, get: func(r KeyRecord) any { return r.Key.TrialActivation }},
		"created":         {kind: qTime, get: func(r KeyRecord) any { return r.Key.CreatedAt }},
		"expires":         {kind: qTime, get: func(r KeyRecord) any { return r.Key.ExpiresAt }},
		"customer":        {kind: qObject, get: func(r KeyRecord) any { return r.Customer != nil }},
		"customer.id":     {kind: qInt, get: func(r KeyRecord) any { return r.Key.CustomerID }},
		"customer.name":   {kind: qString, get: custStr(func(c *storage.Customer) string { return c.Name })},
		"customer.email":  {kind: qString, get: custStr(func(c *storage.Customer) string { return c.Email })},
		"customer.companyname": {kind: qString,
			get: custStr(func(c *storage.Customer) string { return c.Company })},
		"reseller":      {kind: qObject, get: func(r KeyRecord) any { return r.Reseller != nil }},
		"reseller.id":   {kind: qInt, get: func(r KeyRecord) any { return r.Key.ResellerID }},
		"reseller.name": {kind: qString, get: resStr(func(x *storage.Reseller) string { return x.Name })},
		"reseller.email": {kind: qString,
			get: resStr(func(x *storage.Reseller) string { return x.Email })},
	}
	for i := range 8 {
		m["f"+strconv.Itoa(i+1)] = qfield{kind: qBool, get: func(r KeyRecord) any { return r.Key.Features[i] }}
	}
	return m
}()

// qnode is a node of a parsed query.
type qnode interface{ eval(KeyRecord) bool }

type qand struct{ l, r qnode }
type qor struct{ l, r qnode }
type qnot struct{ x qnode }

func (n qand) eval(r KeyRecord) bool { return n.l.eval(r) && n.r.eval(r) }
func (n qor) eval(r KeyRecord) bool  { return n.l.eval(r) || n.r.eval(r) }
func (n qnot) eval(r KeyRecord) bool { return !n.x.eval(r) }

// qcmp compares a field with a literal of the field's kind.
type qcmp struct {
	f  qfield
	op string // == != < <= > >= contains startswith endswith
	v  any
}

func (n qcmp) eval(r KeyRecord) bool {
	got := n.f.get(r)
	var c int // got compared with v: -1, 0, 1
	switch v := n.v.(type) {
	case string:
		g := strings.ToLower(got.(string))
		w := strings.ToLower(v)
		switch n.op {
		case "contains":
			return strings.Contains(g, w)
		case "startswith":
			return strings.HasPrefix(g, w)
		case "endswith":
			return strings.HasSuffix(g, w)
		}
		c = strings.Compare(g, w)
	case int64:
		g := got.(int64)
		c = cmpOrdered(g, v)
	case bool:
		if got.(bool) == v {
			c = 0
		} else {
			c = 1
		}
	case time.Time:
		c = got.(time.Time).Compare(v)
	}
	switch n.op {
	case "==":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

func cmpOrdered(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// qtoken is a lexical token: an identifier, a string, a number or punctuation.
type qtoken struct {
	kind byte // 'i' identifier (dots allowed), 's' string, 'n' number, 'p' punctuation
	text string
	pos  int
}

func badQuery(format string, args ...any) error {
	return invalid("SearchQuery: "+format, args...)
}

// lexQuery splits s into tokens.
func lexQuery(s string) ([]qtoken, error) {
	var out []qtoken
	for i := 0; i < len(s); {
		if len(out) > maxSearchQueryTokens {
			return nil, badQuery("more than %d tokens", maxSearchQueryTokens)
		}
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, badQuery("unterminated string at %d", i)
			}
			out = append(out, qtoken{'s', b.String(), i})
			i = j + 1
		case c == '-' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			out = append(out, qtoken{'n', s[i:j], i})
			i = j
		case c < 0x80 && (unicode.IsLetter(rune(c)) || c == '_'):
			j := i + 1
			for j < len(s) && s[j] < 0x80 && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])) || s[j] == '_' || s[j] == '.') {
				j++
			}
			out = append(out, qtoken{'i', s[i:j], i})
			i = j
		default:
			two := ""
			if i+1 < len(s) {
				two = s[i : i+2]
			}
			switch two {
			case "==", "!=", "<=", ">=", "&&", "||":
				out = append(out, qtoken{'p', two, i})
				i += 2
				continue
			}
			switch c {
			case '=', '<', '>', '!', '(', ')', ',':
				out = append(out, qtoken{'p', string(c), i})
				i++
			default:
				return nil, badQuery("unexpected %q at %d", c, i)
			}
		}
	}
	return out, nil
}

// ParseKeyQuery parses a SearchQuery; an empty one matches every key. Errors wrap ErrInvalidInput.
func ParseKeyQuery(s string) (*KeyQuery, error) {
	if len(s) > MaxSearchQueryLen {
		return nil, badQuery("longer than %d bytes", MaxSearchQueryLen)
	}
	toks, err := lexQuery(s)
	if err != nil {
		return nil, err
	}
	q := &KeyQuery{}
	if len(toks) == 0 {
		return q, nil
	}
	p := &qparser{toks: toks}
	root, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, badQuery("unexpected %q at %d", p.toks[p.i].text, p.toks[p.i].pos)
	}
	q.root = root
	return q, nil
}

type qparser struct {
	toks []qtoken
	i    int
}

func (p *qparser) peek() (qtoken, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return qtoken{}, false
}

// word reports whether the next token is punctuation p or the keyword w (any case), and takes it.
func (p *qparser) word(punct, kw string) bool {
	t, ok := p.peek()
	if ok && ((t.kind == 'p' && t.text == punct) || (kw != "" && t.kind == 'i' && strings.EqualFold(t.text, kw))) {
		p.i++
		return true
	}
	return false
}

func (p *qparser) expect(punct string) error {
	if !p.word(punct, "") {
		return p.unexpected("expected " + punct)
	}
	return nil
}

func (p *qparser) unexpected(what string) error {
	t, ok := p.peek()
	if !ok {
		return badQuery("%s at the end", what)
	}
	return badQuery("%s, found %q at %d", what, t.text, t.pos)
}

func (p *qparser) or(depth int) (qnode, error) {
	l, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.word("||", "or") {
		r, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		l = qor{l, r}
	}
	return l, nil
}

func (p *qparser) and(depth int) (qnode, error) {
	l, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for p.word("&&", "and") {
		r, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		l = qand{l, r}
	}
	return l, nil
}

func (p *qparser) unary(depth int) (qnode, error) {
	if depth > maxSearchQueryDepth {
		return nil, badQuery("nested more than %d deep", maxSearchQueryDepth)
	}
	if p.word("!", "not") {
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return qnot{x}, nil
	}
	if p.word("(", "") {
		x, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		return x, p.expect(")")
	}
	return p.comparison()
}

var qmethods = map[string]string{"contains": "contains", "startswith": "startswith", "endswith": "endswith"}

func (p *qparser) comparison() (qnode, error) {
	t, ok := p.peek()
	if !ok || t.kind != 'i' {
		return nil, p.unexpected("expected a field")
	}
	p.i++
	name := strings.ToLower(t.text)
	// Notes.Contains("x"): the method is the last part of the dotted name.
	if dot := strings.LastIndexByte(name, '.'); dot > 0 {
		if m, ok := qmethods[name[dot+1:]]; ok {
			f, err := p.field(name[:dot], t)
			if err != nil {
				return nil, err
			}
			if f.kind != qString {
				return nil, badQuery("%s is not text", t.text[:dot])
			}
			if err := p.expect("("); err != nil {
				return nil, err
			}
			arg, ok := p.peek()
			if !ok || arg.kind != 's' {
				return nil, p.unexpected("expected a string")
			}
			p.i++
			return qcmp{f: f, op: m, v: arg.text}, p.expect(")")
		}
	}
	f, err := p.field(name, t)
	if err != nil {
		return nil, err
	}
	op, ok := p.peek()
	if !ok || op.kind != 'p' || !strings.Contains(" == = != < <= > >= ", " "+op.text+" ") {
		if f.kind == qBool { // F1 on its own: F1 == true
			return qcmp{f: f, op: "==", v: true}, nil
		}
		return nil, p.unexpected("expected a comparison after " + t.text)
	}
	p.i++
	cmp := op.text
	if cmp == "=" {
		cmp = "=="
	}
	v, err := p.value(f, t.text)
	if err != nil {
		return nil, err
	}
	if f.kind == qObject {
		if cmp != "==" && cmp != "!=" {
			return nil, badQuery("%s can only be compared with null", t.text)
		}
		return qcmp{f: f, op: map[string]string{"==": "!=", "!=": "=="}[cmp], v: true}, nil
	}
	if (f.kind == qBool) && cmp != "==" && cmp != "!=" {
		return nil, badQuery("%s is true or false: use == or !=", t.text)
	}
	return qcmp{f: f, op: cmp, v: v}, nil
}

func (p *qparser) field(name string, t qtoken) (qfield, error) {
	f, ok := qfields[name]
	if !ok {
		return qfield{}, badQuery("unknown field %q at %d", t.text, t.pos)
	}
	return f, nil
}

// value reads a literal of the field's kind.
func (p *qparser) value(f qfield, name string) (any, error) {
	t, ok := p.peek()
	if !ok {
		return nil, p.unexpected("expected a value")
	}
	p.i++
	switch f.kind {
	case qObject:
		if t.kind == 'i' && strings.EqualFold(t.text, "null") {
			return nil, nil
		}
	case qString:
		if t.kind == 's' {
			return t.text, nil
		}
	case qInt:
		if t.kind == 'n' {
			n, err := strconv.ParseInt(t.text, 10, 64)
			if err != nil {
				return nil, badQuery("number %q", t.text)
			}
			return n, nil
		}
	case qBool:
		if t.kind == 'i' && (strings.EqualFold(t.text, "true") || strings.EqualFold(t.text, "false")) {
			return strings.EqualFold(t.text, "true"), nil
		}
	case qTime:
		if t.kind == 's' {
			for _, layout := range []string{time.DateOnly, time.DateTime, "2006-01-02T15:04:05", time.RFC3339} {
				if at, err := time.Parse(layout, t.text); err == nil {
					return at, nil
				}
			}
			return nil, badQuery("date %q: write 2006-01-02 or DateTime(2006, 1, 2)", t.text)
		}
		if t.kind == 'i' && strings.EqualFold(t.text, "DateTime") {
			return p.dateTime()
		}
	}
	p.i--
	return nil, p.unexpected(fmt.Sprintf("expected a value for %s", name))
}

// dateTime reads (year, month, day[, hour, minute, second]) in UTC.
func (p *qparser) dateTime() (any, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	var parts []int
	for {
		t, ok := p.peek()
		if !ok || t.kind != 'n' || len(parts) == 6 {
			return nil, p.unexpected("expected DateTime(year, month, day[, hour, minute, second])")
		}
		p.i++
		n, err := strconv.Atoi(t.text)
		if err != nil {
			return nil, badQuery("number %q", t.text)
		}
		parts = append(parts, n)
		if p.word(")", "") {
			break
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
	}
	if len(parts) != 3 && len(parts) != 6 {
		return nil, badQuery("DateTime takes a date, or a date and a time")
	}
	parts = append(parts, 0, 0, 0)
	y, mo, d, h, mi, s := parts[0], parts[1], parts[2], parts[3], parts[4], parts[5]
	if y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 || h < 0 || mi < 0 || s < 0 {
		return nil, badQuery("DateTime(%d, %d, %d, %d, %d, %d) is not a date", y, mo, d, h, mi, s)
	}
	at := time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC)
	if at.Day() != d {
		return nil, badQuery("DateTime(%d, %d, %d) is not a date", y, mo, d)
	}
	return at, nil
}
