package manage

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
)

// Paging: a list answers at most limit items (default 50, at most 500) and, when there are more, a "next"
// link (also sent as Link: <…>; rel="next") that carries an opaque cursor: the position after the last item
// answered, so that items added or removed meanwhile neither repeat nor shift the pages.
const (
	defaultPageSize = 50
	maxPageSize     = 500
	maxCursorLen    = 512
)

type pageQuery struct {
	limit  int
	cursor []byte // the decoded cursor, nil for the first page
}

// parsePage reads ?limit= and ?cursor=.
func parsePage(r *http.Request) (pageQuery, error) {
	q := r.URL.Query()
	pq := pageQuery{limit: defaultPageSize}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return pq, errors.New("limit: want 1 to " + strconv.Itoa(maxPageSize))
		}
		pq.limit = n
	}
	if v := q.Get("cursor"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(v) > maxCursorLen || !json.Valid(b) {
			return pq, errors.New("cursor: not one this API handed out")
		}
		pq.cursor = b
	}
	return pq, nil
}

// nextLink is the URL of the page after the one answered: the request's own query with the cursor c.
func nextLink(r *http.Request, c any) string {
	b, _ := json.Marshal(c)
	q := r.URL.Query()
	q.Set("cursor", base64.RawURLEncoding.EncodeToString(b))
	return (&url.URL{Path: r.URL.Path, RawQuery: q.Encode()}).String()
}

// list is the body of every collection answer.
type list[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// writeList answers a page of items, with next when there are more.
func writeList[T any](w http.ResponseWriter, items []T, next string) {
	if items == nil {
		items = []T{}
	}
	if next != "" {
		w.Header().Set("Link", "<"+next+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, list[T]{Items: items, Next: next})
}

// keyCursor is the cursor of the lists paged over an increasing string key.
type keyCursor struct {
	After string `json:"after"`
}

// pageByKey answers the page of all (already filtered and ordered by increasing key) after the cursor.
func pageByKey[S any, T any](w http.ResponseWriter, r *http.Request, pq pageQuery, all []S, key func(S) string, view func(S) T) {
	var after string
	if pq.cursor != nil {
		var c keyCursor
		if json.Unmarshal(pq.cursor, &c) != nil {
			Problem(w, http.StatusBadRequest, "cursor: not one this API handed out")
			return
		}
		after = c.After
	}
	var out []T
	next, last := "", ""
	for _, s := range all {
		k := key(s)
		if pq.cursor != nil && k <= after {
			continue
		}
		if len(out) == pq.limit {
			next = nextLink(r, keyCursor{After: last})
			break
		}
		out = append(out, view(s))
		last = k
	}
	writeList(w, out, next)
}

// urlPathEscape makes a name one path segment of a Location.
func urlPathEscape(s string) string { return url.PathEscape(s) }

// Page is a list request's ?limit= and ?cursor=, for the operator routes of the server package, which page over
// their storage with keyset cursors of their own.
type Page struct{ pq pageQuery }

// ParsePage reads ?limit= (default 50, at most 500) and ?cursor=; its error is the 400's detail.
func ParsePage(r *http.Request) (Page, error) {
	pq, err := parsePage(r)
	return Page{pq}, err
}

// Limit is the page's size.
func (p Page) Limit() int { return p.pq.limit }

// Cursor decodes the request's cursor into c and reports whether there was one; ErrBadCursor when it is not
// one this API handed out (the caller answers 400).
func (p Page) Cursor(c any) (bool, error) {
	if p.pq.cursor == nil {
		return false, nil
	}
	if err := json.Unmarshal(p.pq.cursor, c); err != nil {
		return false, ErrBadCursor
	}
	return true, nil
}

// ErrBadCursor: the cursor does not decode to the route's position.
var ErrBadCursor = errors.New("cursor: not one this API handed out")

// WriteList answers a page: rows holds up to one row more than the limit (the query asks for limit+1), which,
// when present, says there is a next page; its cursor is the position of the last row answered.
func WriteList[S, T any](w http.ResponseWriter, r *http.Request, p Page, rows []S, view func(S) T, cursor func(S) any) {
	next := ""
	if len(rows) > p.pq.limit {
		rows = rows[:p.pq.limit]
		next = nextLink(r, cursor(rows[len(rows)-1]))
	}
	out := make([]T, 0, len(rows))
	for _, s := range rows {
		out = append(out, view(s))
	}
	writeList(w, out, next)
}

// PageByKey answers the page after the cursor of all, a list already bounded, filtered and ordered by
// increasing key.
func PageByKey[S, T any](w http.ResponseWriter, r *http.Request, p Page, all []S, key func(S) string, view func(S) T) {
	pageByKey(w, r, p.pq, all, key, view)
}
