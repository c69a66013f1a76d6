package server

import (
	"net/http"
	"time"

	"github.com/tokenmanager/tokenmanager/server/manage"
	"github.com/tokenmanager/tokenmanager/storage"
)

// Paging of the operator's lists (tokens, sessions, OAuth and PowerAuth tokens, activations, app authorizations
// and devices), in the shape of /admin/v1/users: {"items":[…],"next":"…"} and a Link header, ?limit= 1 to 500
// (50 unless given), an opaque ?cursor=. Each page is one keyset query bounded by LIMIT: the storage answers
// limit+1 rows after the cursor's position, the extra one only saying that a next page exists.

// timeCursor is the position in a list ordered by a time (Unix microseconds, the stores' precision) and an id.
type timeCursor struct {
	At int64  `json:"at"`
	ID string `json:"id"`
}

func timeCursorOf(at time.Time, id string) any { return timeCursor{At: at.UnixMicro(), ID: id} }

// page reads ?limit= and ?cursor= of a list ordered by a time and an id, answering 400 for either malformed.
func page(w http.ResponseWriter, r *http.Request) (manage.Page, storage.PageAfter, bool) {
	p, err := manage.ParsePage(r)
	if err != nil {
		manage.Problem(w, http.StatusBadRequest, err.Error())
		return p, storage.PageAfter{}, false
	}
	var c timeCursor
	switch ok, err := p.Cursor(&c); {
	case err != nil, ok && c.ID == "":
		manage.Problem(w, http.StatusBadRequest, manage.ErrBadCursor.Error())
		return p, storage.PageAfter{}, false
	case ok:
		return p, storage.PageAfter{At: time.UnixMicro(c.At).UTC(), ID: c.ID}, true
	}
	return p, storage.PageAfter{}, true
}

// maxFilterLen bounds a filter's value: every one names a user, a client, an id or a machine.
const maxFilterLen = 256

// filters reads the query parameters names, answering 400 for one longer than any stored value can be.
func filters(w http.ResponseWriter, r *http.Request, names ...string) (map[string]string, bool) {
	q := r.URL.Query()
	out := make(map[string]string, len(names))
	for _, n := range names {
		v := q.Get(n)
		if len(v) > maxFilterLen {
			manage.FieldProblem(w, http.StatusBadRequest, n, n+": too long")
			return nil, false
		}
		out[n] = v
	}
	return out, true
}
