package manage

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/storage"
)

// WooCommerce License Keys stores and their SKUs, vendor-owned: the same core (package license/woo) as
// `tokenmanager woo`. A store's code is its secret: only its hash is kept, a code made here is answered once,
// and neither the code nor its hash is in a representation or its ETag (an ETag over the hash would let anyone
// who reads it test guesses of a short code offline).

type wooStoreView struct {
	ID           int64     `json:"id"`
	Vendor       string    `json:"vendor"`
	Name         string    `json:"name"`
	RequireToken bool      `json:"require_token"`
	ErrorsByCode bool      `json:"errors_by_code"`
	CreatedAt    time.Time `json:"created_at"`
	// Code is the store code made for a store created without one: shown in the creation's answer only.
	Code string `json:"code,omitempty"`
}

func toWooStoreView(s storage.WooStore) wooStoreView {
	return wooStoreView{ID: s.ID, Vendor: s.Vendor, Name: s.Name, RequireToken: s.RequireToken, ErrorsByCode: s.ErrorsByCode, CreatedAt: s.CreatedAt}
}

func wooStoreETag(s storage.WooStore) string {
	return etagOf("woostore", s.ID, s.Vendor, s.Name, s.RequireToken, s.ErrorsByCode)
}

func wooStorePath(id int64) string { return Path + "/woocommerce/stores/" + strconv.FormatInt(id, 10) }

type wooSKUView struct {
	SKU     string `json:"sku"`
	Product int64  `json:"product"`
	Desktop bool   `json:"desktop"`
}

func toWooSKUView(k storage.WooSKU) wooSKUView {
	return wooSKUView{SKU: k.SKU, Product: k.ProductID, Desktop: k.Desktop}
}

// listWooStores: ?vendor=; paged by id. A vendor account sees its own stores.
func (a *API) listWooStores(w http.ResponseWriter, r *http.Request, p principal) {
	pq, err := parsePage(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, err.Error())
		return
	}
	acc, ok := a.licenseAccess(w, r, p)
	if !ok {
		return
	}
	stores, err := a.deps.Woo.ListStores(r.Context(), acc)
	if err != nil {
		a.wooError(w, r, err)
		return
	}
	vendor := r.URL.Query().Get("vendor")
	var sel []storage.WooStore
	for _, s := range stores {
		if vendor == "" || s.Vendor == vendor {
			sel = append(sel, s)
		}
	}
	pageByKey(w, r, pq, sel, func(s storage.WooStore) string { return fmt.Sprintf("%020d", s.ID) }, toWooStoreView)
}

type createWooStoreBody struct {
	Vendor       string  `json:"vendor"`
	Name         string  `json:"name"`
	Code         *string `json:"code"` // absent: one is made and answered once
	RequireToken bool    `json:"require_token"`
	ErrorsByCode bool    `json:"errors_by_code"`
}

func (a *API) createWooStore(w http.ResponseWriter, r *http.Request, p principal) {
	var b createWooStoreBody
	if err := a.readJSON(w, r, &b); err != nil {
		badBody(w, err)
		return
	}
	if b.Code != nil && !codeChooser(p) {
		refuseChosenCode(w)
		return
	}
	if b.Vendor == "" {
		b.Vendor = p.vendor
	}
	if b.Vendor == "" {
		Problem(w, http.StatusBadRequest, "vendor: whose store it is")
		return
	}
	if !p.sees(b.Vendor) {
		Problem(w, http.StatusNotFound, "no such vendor")
		return
	}
	acc, ok := a.licenseAccess(w, r, p)
	if !ok {
		return
	}
	code, made := woo.NewStoreCode(), true
	if b.Code != nil {
		code, made = *b.Code, false
	}
	st, err := a.deps.Woo.CreateStore(a.coreContext(r, p), acc, b.Vendor,
		woo.StoreSpec{Name: b.Name, Code: code, RequireToken: b.RequireToken, ErrorsByCode: b.ErrorsByCode})
	if err != nil {
		a.wooError(w, r, err)
		return
	}
	v := toWooStoreView(st)
	if made {
		v.Code = code
	}
	w.Header().Set("Location", wooStorePath(st.ID))
	w.Header().Set("ETag", wooStoreETag(st))
	writeJSON(w, http.StatusCreated, v)
}

// wooStore reads the store of the path that the principal reaches; 404 for another vendor's, as for none.
func (a *API) wooStore(w http.ResponseWriter, r *http.Request, p principal) (storage.WooStore, *license.Access, bool) {
	return vendorObject(a, w, r, p, a.deps.Woo.Store, a.wooError)
}

func (a *API) getWooStore(w http.ResponseWriter, r *http.Request, p principal) {
	st, _, ok := a.wooStore(w, r, p)
	if !ok {
		return
	}
	w.Header().Set("ETag", wooStoreETag(st))
	writeJSON(w, http.StatusOK, toWooStoreView(st))
}

type patchWooStoreBody struct {
	Name         *string `json:"name"`
	Code         *string `json:"code"`
	RequireToken *bool   `json:"require_token"`
	ErrorsByCode *bool   `json:"errors_by_code"`
}

func (a *API) patchWooStore(w http.ResponseWriter, r *http.Request, p principal) {
	st, acc, ok := a.wooStore(w, r, p)
	if !ok {
		return
	}
	match, ok := ifMatch(w, r)
	if !ok {
		return
	}
	var b patchWooStoreBody
	if err := a.readJSON(w, r, &b); err != nil {
		badBody(w, err)
		return
	}
	if b.Code != nil && !codeChooser(p) {
		refuseChosenCode(w)
		return
	}
	st, err := a.deps.Woo.UpdateStore(a.coreContext(r, p), acc, st.ID, woo.StoreChange{Name: b.Name, Code: b.Code,
		RequireToken: b.RequireToken, ErrorsByCode: b.ErrorsByCode, Check: precondition(match, wooStoreETag)})
	if err != nil {
		a.wooError(w, r, err)
		return
	}
	w.Header().Set("ETag", wooStoreETag(st))
	writeJSON(w, http.StatusOK, toWooStoreView(st))
}

// Store codes are credentials and globally unique, so a code already taken is refused (409); were a vendor
// free to choose one, that refusal would tell it another vendor's code. Only the operator chooses codes (to
// move an existing WooCommerce setup over); vendor accounts and tokens narrowed to a vendor get codes the server
// makes (POST /woocommerce/stores, POST …/code), which no one can guess.

// codeChooser reports whether p may choose a store's code: the operator with every vendor in sight.
func codeChooser(p principal) bool { return p.operator && p.vendor == "" }

func refuseChosenCode(w http.ResponseWriter) {
	FieldProblem(w, http.StatusForbidden, "code",
		"code: only the operator chooses a store code; leave code out and the server makes one (POST …/code makes a new one)")
}

// newWooStoreCode replaces the store's code with one the server makes, answered this once; the old code stops
// working at once.
func (a *API) newWooStoreCode(w http.ResponseWriter, r *http.Request, p principal) {
	st, acc, ok := a.wooStore(w, r, p)
	if !ok {
		return
	}
	code := woo.NewStoreCode()
	st, err := a.deps.Woo.UpdateStore(a.coreContext(r, p), acc, st.ID, woo.StoreChange{Code: &code})
	if err != nil {
		a.wooError(w, r, err)
		return
	}
	v := toWooStoreView(st)
	v.Code = code
	w.Header().Set("ETag", wooStoreETag(st))
	writeJSON(w, http.StatusOK, v)
}

type wooStoreRemovalView struct {
	SKUs int `json:"skus"`
}

// deleteWooStore: 409 while the store sells SKUs, unless ?force=true, which removes them in the same transaction.
func (a *API) deleteWooStore(w http.ResponseWriter, r *http.Request, p principal) {
	st, acc, ok := a.wooStore(w, r, p)
	if !ok {
		return
	}
	force, ok := queryFlag(w, r, "force")
	if !ok {
		return
	}
	n, err := a.deps.Woo.DeleteStore(a.coreContext(r, p), acc, st.ID, force)
	if err != nil {
		a.wooError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wooStoreRemovalView{SKUs: n})
}

// listWooSKUs: the store's SKUs, paged by SKU.
func (a *API) listWooSKUs(w http.ResponseWriter, r *http.Request, p principal) {
	pq, err := parsePage(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, err.Error())
		return
	}
	st, acc, ok := a.wooStore(w, r, p)
	if !ok {
		return
	}
	skus, err := a.deps.Woo.ListSKUs(r.Context(), acc, st.ID)
	if err != nil {
		a.wooError(w, r, err)
		return
	}
	pageByKey(w, r, pq, skus, func(k storage.WooSKU) string { return k.SKU }, toWooSKUView)
}

// createWooSKU makes the store sell a product of its vendor under a SKU (replacing what the SKU named before).
// A product that is not the store's vendor's is refused exactly as one that does not exist.
func (a *API) createWooSKU(w http.ResponseWriter, r *http.Request, p principal) {
	st, acc, ok := a.wooStore(w, r, p)
	if !ok {
		return
	}
	var b wooSKUView
	if err := a.readJSON(w, r, &b); err != nil {
		badBody(w, err)
		return
	}
	if b.Product <= 0 {
		Problem(w, http.StatusBadRequest, "product: the id of one of the store's vendor's products")
		return
	}
	err := a.deps.Woo.SetSKU(a.coreContext(r, p), acc, st.ID, b.SKU, b.Product, b.Desktop)
	if errors.Is(err, license.ErrProductNotFound) {
		Problem(w, http.StatusBadRequest, "product: no such product of the store's vendor")
		return
	}
	if err != nil {
		a.wooError(w, r, err)
		return
	}
	w.Header().Set("Location", wooStorePath(st.ID)+"/skus/"+url.PathEscape(b.SKU))
	writeJSON(w, http.StatusCreated, b)
}

// wooSKUOf reads the SKU of the path; 404 for one too long to be a SKU.
func (a *API) wooSKUOf(w http.ResponseWriter, r *http.Request, p principal) (storage.WooSKU, *license.Access, bool) {
	st, acc, ok := a.wooStore(w, r, p)
	if !ok {
		return storage.WooSKU{}, nil, false
	}
	sku := r.PathValue("sku")
	if len(sku) > license.MaxNameLen {
		Problem(w, http.StatusNotFound, "")
		return storage.WooSKU{}, nil, false
	}
	k, err := a.deps.Woo.SKU(r.Context(), acc, st.ID, sku)
	if err != nil {
		a.wooError(w, r, err)
		return storage.WooSKU{}, nil, false
	}
	return k, acc, true
}

func (a *API) getWooSKU(w http.ResponseWriter, r *http.Request, p principal) {
	if k, _, ok := a.wooSKUOf(w, r, p); ok {
		writeJSON(w, http.StatusOK, toWooSKUView(k))
	}
}

func (a *API) deleteWooSKU(w http.ResponseWriter, r *http.Request, p principal) {
	k, acc, ok := a.wooSKUOf(w, r, p)
	if !ok {
		return
	}
	if err := a.deps.Woo.RemoveSKU(a.coreContext(r, p), acc, k.StoreID, k.SKU); err != nil {
		a.wooError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// wooFields name the body member a WooCommerce core refusal is about, by the start of its message.
var wooFields = []fieldPrefix{{"store name", "name"}, {"store code", "code"}, {"a store code", "code"}, {"SKU", "sku"}, {"a SKU", "sku"}}

// wooError answers the WooCommerce core's errors: another vendor's store is 404, as one that is not.
func (a *API) wooError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errStale):
		stale(w)
	case errors.Is(err, storage.ErrNotFound):
		Problem(w, http.StatusNotFound, "")
	case errors.Is(err, storage.ErrInUse):
		_, msg, _ := strings.Cut(err.Error(), storage.ErrInUse.Error()+": ")
		Problem(w, http.StatusConflict, msg+" (?force=true)")
	case errors.Is(err, storage.ErrConflict):
		FieldProblem(w, http.StatusConflict, "code", "code: another store has this code; choose another")
	case errors.Is(err, license.ErrInvalidInput):
		msg := strings.TrimPrefix(err.Error(), license.ErrInvalidInput.Error()+": ")
		FieldProblem(w, http.StatusBadRequest, fieldOf(msg, wooFields), msg)
	default:
		a.licenseError(w, r, err)
	}
}

// fieldPrefix maps the start of a core's message to the body member it is about.
type fieldPrefix struct{ prefix, field string }

func fieldOf(msg string, table []fieldPrefix) string {
	for _, f := range table {
		if strings.HasPrefix(msg, f.prefix+" ") || strings.HasPrefix(msg, f.prefix+":") {
			return f.field
		}
	}
	return ""
}
