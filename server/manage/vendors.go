package manage

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

type vendorView struct {
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

func toVendorView(v storage.Vendor) vendorView {
	return vendorView{Name: v.Name, CreatedAt: v.CreatedAt}
}

// listVendors: ?prefix=; a vendor account sees itself.
func (a *API) listVendors(w http.ResponseWriter, r *http.Request, p principal) {
	pq, err := parsePage(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, err.Error())
		return
	}
	vs, err := a.deps.License.ListVendors(r.Context())
	if err != nil {
		a.failure(w, r, err)
		return
	}
	var sel []storage.Vendor
	for _, v := range vs {
		if p.sees(v.Name) && strings.HasPrefix(v.Name, r.URL.Query().Get("prefix")) {
			sel = append(sel, v)
		}
	}
	pageByKey(w, r, pq, sel, func(v storage.Vendor) string { return v.Name }, toVendorView)
}

func (a *API) getVendor(w http.ResponseWriter, r *http.Request, p principal) {
	name := r.PathValue("name")
	if !p.sees(name) {
		Problem(w, http.StatusNotFound, "")
		return
	}
	vs, err := a.deps.License.ListVendors(r.Context())
	if err != nil {
		a.failure(w, r, err)
		return
	}
	for _, v := range vs {
		if v.Name == name {
			writeJSON(w, http.StatusOK, toVendorView(v))
			return
		}
	}
	Problem(w, http.StatusNotFound, "")
}

type createVendorBody struct {
	User string `json:"user"`
}

// createVendor gives an existing user the vendor role.
func (a *API) createVendor(w http.ResponseWriter, r *http.Request, p principal) {
	var b createVendorBody
	if err := a.readJSON(w, r, &b); err != nil {
		badBody(w, err)
		return
	}
	if b.User == "" {
		Problem(w, http.StatusBadRequest, "user: the user to make a vendor")
		return
	}
	err := a.deps.License.AddVendor(a.coreContext(r, p), b.User)
	switch {
	case errors.Is(err, license.ErrNotVendor):
		Problem(w, http.StatusBadRequest, "user: no such enabled user")
		return
	case errors.Is(err, storage.ErrConflict):
		Problem(w, http.StatusConflict, "the user is a vendor already")
		return
	case err != nil:
		a.failure(w, r, err)
		return
	}
	w.Header().Set("Location", Path+"/vendors/"+urlPathEscape(b.User))
	writeJSON(w, http.StatusCreated, vendorView{Name: b.User, CreatedAt: a.env.Now()})
}
