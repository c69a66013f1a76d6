package manage

import (
	"context"
	"net/http"
	"strconv"

	"github.com/tokenmanager/tokenmanager/license"
)

// pathID is the positive id in the path's {id}, or 0, answered 404, when it is not one: a malformed id is as
// missing as an unknown one.
func pathID(w http.ResponseWriter, r *http.Request) int64 {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		Problem(w, http.StatusNotFound, "")
		return 0
	}
	return id
}

// vendorObject reads the vendor-owned object of the path's {id} through read, as the principal's licensing
// access reaches it, so that another vendor's object answers exactly as a missing one (404); fail answers
// read's errors in the resource's terms.
func vendorObject[T any](a *API, w http.ResponseWriter, r *http.Request, p principal,
	read func(context.Context, *license.Access, int64) (T, error), fail func(http.ResponseWriter, *http.Request, error)) (T, *license.Access, bool) {
	var zero T
	id := pathID(w, r)
	if id == 0 {
		return zero, nil, false
	}
	acc, ok := a.licenseAccess(w, r, p)
	if !ok {
		return zero, nil, false
	}
	v, err := read(r.Context(), acc, id)
	if err != nil {
		fail(w, r, err)
		return zero, nil, false
	}
	return v, acc, true
}

// queryFlag reads the true-or-false query parameter name, false when absent; a value that is neither is
// answered 400 (ok false).
func queryFlag(w http.ResponseWriter, r *http.Request, name string) (v, ok bool) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return false, true
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		Problem(w, http.StatusBadRequest, name+": want true or false")
		return false, false
	}
	return v, true
}
