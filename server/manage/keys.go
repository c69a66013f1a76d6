package manage

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

// License keys of a product. The key strings are the customers' secrets, shown here because the vendor owns
// them; the server's request log names these routes by their pattern, never by the path that carries a key.

type keyView struct {
	ID              int64      `json:"id"`
	Key             string     `json:"key"`
	ProductID       int64      `json:"product_id"`
	CreatedAt       time.Time  `json:"created_at"`
	Period          int        `json:"period"`
	ExpiresAt       *time.Time `json:"expires_at"`
	Features        []int      `json:"features"`
	Notes           string     `json:"notes"`
	Blocked         bool       `json:"blocked"`
	CustomerID      int64      `json:"customer_id"`
	MaxMachines     int        `json:"max_machines"`
	TrialActivation bool       `json:"trial_activation"`
}

func toKeyView(k storage.LicenseKey) keyView {
	v := keyView{ID: k.ID, Key: k.Key, ProductID: k.ProductID, CreatedAt: k.CreatedAt, Period: k.Period,
		Features: []int{}, Notes: k.Notes, Blocked: k.Blocked, CustomerID: k.CustomerID, MaxMachines: k.MaxNoOfMachines,
		TrialActivation: k.TrialActivation}
	if !k.ExpiresAt.IsZero() {
		e := k.ExpiresAt
		v.ExpiresAt = &e
	}
	for i, on := range k.Features {
		if on {
			v.Features = append(v.Features, i+1)
		}
	}
	return v
}

type activationView struct {
	MachineCode       string     `json:"machine_code"`
	Floating          bool       `json:"floating"`
	FriendlyName      string     `json:"friendly_name"`
	IP                string     `json:"ip"`
	ActivatedAt       time.Time  `json:"activated_at"`
	FloatingExpiresAt *time.Time `json:"floating_expires_at,omitempty"`
}

func toActivationView(x storage.Activation) activationView {
	v := activationView{MachineCode: x.MachineCode, Floating: x.Floating, FriendlyName: x.FriendlyName, IP: x.IP, ActivatedAt: x.ActivatedAt}
	if !x.FloatingExpiresAt.IsZero() {
		e := x.FloatingExpiresAt
		v.FloatingExpiresAt = &e
	}
	return v
}

type keyDetailsView struct {
	keyView
	Activations []activationView `json:"activations"`
}

func toKeyDetails(d license.KeyDetails) keyDetailsView {
	v := keyDetailsView{keyView: toKeyView(d.Key), Activations: []activationView{}}
	for _, x := range d.Activations {
		v.Activations = append(v.Activations, toActivationView(x))
	}
	return v
}

// keyETag covers every field a PATCH, a block or an extension changes.
func keyETag(k storage.LicenseKey) string {
	return etagOf("key", k.GlobalID, k.Features, k.Notes, k.ExpiresAt.UnixNano(), k.MaxNoOfMachines, k.CustomerID, k.Blocked, k.Period)
}

func keyPath(productID int64, key string) string { return productPath(productID) + "/keys/" + key }

// listKeys: ?key-prefix= (the start of the key, any case), ?customer= (a customer id); paged by id.
func (a *API) listKeys(w http.ResponseWriter, r *http.Request, p principal) {
	pq, err := parsePage(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, err.Error())
		return
	}
	q := r.URL.Query()
	prefix := strings.ToUpper(strings.TrimSpace(q.Get("key-prefix")))
	if len(prefix) > license.MaxKeyLen {
		Problem(w, http.StatusBadRequest, "key-prefix: too long")
		return
	}
	var customer int64
	if v := q.Get("customer"); v != "" {
		if customer, err = strconv.ParseInt(v, 10, 64); err != nil || customer <= 0 {
			Problem(w, http.StatusBadRequest, "customer: want a customer id")
			return
		}
	}
	pr, acc, ok := a.product(w, r, p)
	if !ok {
		return
	}
	ks, err := a.deps.License.ListKeys(r.Context(), acc, pr.ID)
	if err != nil {
		a.licenseError(w, r, err)
		return
	}
	var sel []storage.LicenseKey
	for _, k := range ks {
		if strings.HasPrefix(k.Key, prefix) && (customer == 0 || k.CustomerID == customer) {
			sel = append(sel, k)
		}
	}
	pageByKey(w, r, pq, sel, func(k storage.LicenseKey) string { return fmt.Sprintf("%020d", k.ID) }, toKeyView)
}

type createKeysBody struct {
	Count           int    `json:"count"`
	Period          int    `json:"period"`
	Features        []int  `json:"features"`
	Notes           string `json:"notes"`
	MaxMachines     int    `json:"max_machines"`
	CustomerID      int64  `json:"customer_id"`
	Blocked         bool   `json:"blocked"`
	TrialActivation bool   `json:"trial_activation"`
}

// features turns feature numbers (1 to 8) into the key's flags.
func features(ns []int) ([8]bool, error) {
	var f [8]bool
	if len(ns) > 8 {
		return f, fmt.Errorf("features: at most 8")
	}
	for _, n := range ns {
		if n < 1 || n > 8 {
			return f, fmt.Errorf("features: %d is not 1 to 8", n)
		}
		f[n-1] = true
	}
	return f, nil
}

// createKeys makes one key (201, Location) or, with count above 1, that many alike in one transaction (201, a
// list).
func (a *API) createKeys(w http.ResponseWriter, r *http.Request, p principal) {
	pr, acc, ok := a.product(w, r, p)
	if !ok {
		return
	}
	var b createKeysBody
	if err := a.readJSON(w, r, &b); err != nil {
		badBody(w, err)
		return
	}
	f, err := features(b.Features)
	if err != nil {
		Problem(w, http.StatusBadRequest, err.Error())
		return
	}
	if b.Count < 0 || b.Count > license.MaxKeysPerCall {
		Problem(w, http.StatusBadRequest, fmt.Sprintf("count: 1 to %d", license.MaxKeysPerCall))
		return
	}
	// Checked here as well as in the core, so that the problem names the member a form shows it beside.
	if b.MaxMachines < 0 || b.MaxMachines > license.MaxMachines {
		Problem(w, http.StatusBadRequest, fmt.Sprintf("max_machines: 0 to %d", license.MaxMachines))
		return
	}
	if b.CustomerID < 0 {
		Problem(w, http.StatusBadRequest, "customer_id: a customer id, or 0 for none")
		return
	}
	ck, err := a.deps.License.CreateKey(a.coreContext(r, p), acc, pr.ID, license.KeySpec{Period: b.Period, Features: f,
		Notes: b.Notes, Blocked: b.Blocked, CustomerID: b.CustomerID, TrialActivation: b.TrialActivation,
		MaxNoOfMachines: b.MaxMachines, NoOfKeys: b.Count})
	if err != nil {
		a.licenseError(w, r, err)
		return
	}
	if len(ck.Keys) == 1 {
		w.Header().Set("Location", keyPath(pr.ID, ck.Key.Key))
		w.Header().Set("ETag", keyETag(ck.Key))
		writeJSON(w, http.StatusCreated, toKeyView(ck.Key))
		return
	}
	out := make([]keyView, 0, len(ck.Keys))
	for _, k := range ck.Keys {
		out = append(out, toKeyView(k))
	}
	writeJSON(w, http.StatusCreated, list[keyView]{Items: out})
}

// key reads the key of the path, with its activations, in a product the principal reaches.
func (a *API) key(w http.ResponseWriter, r *http.Request, p principal) (license.KeyDetails, *license.Access, bool) {
	pr, acc, ok := a.product(w, r, p)
	if !ok {
		return license.KeyDetails{}, nil, false
	}
	d, err := a.deps.License.ShowKey(r.Context(), acc, pr.ID, r.PathValue("key"))
	if err != nil {
		a.licenseError(w, r, err)
		return license.KeyDetails{}, nil, false
	}
	return d, acc, true
}

func (a *API) getKey(w http.ResponseWriter, r *http.Request, p principal) {
	d, _, ok := a.key(w, r, p)
	if !ok {
		return
	}
	w.Header().Set("ETag", keyETag(d.Key))
	writeJSON(w, http.StatusOK, toKeyDetails(d))
}

type patchKeyBody struct {
	Features    *[]int  `json:"features"` // the whole set
	Notes       *string `json:"notes"`
	MaxMachines *int    `json:"max_machines"`
	CustomerID  *int64  `json:"customer_id"`
	Blocked     *bool   `json:"blocked"`
	Expires     *string `json:"expires"` // RFC 3339
}

// patchKey applies the whole body with one core call: one transaction, If-Match checked inside it, each field
// that changed audited as the command line's single change is. Nothing is written on any refusal.
func (a *API) patchKey(w http.ResponseWriter, r *http.Request, p principal) {
	d, acc, ok := a.key(w, r, p)
	if !ok {
		return
	}
	match, ok := ifMatch(w, r)
	if !ok {
		return
	}
	var b patchKeyBody
	if err := a.readJSON(w, r, &b); err != nil {
		badBody(w, err)
		return
	}
	e := license.KeyEdit{Notes: b.Notes, MaxMachines: b.MaxMachines, CustomerID: b.CustomerID, Blocked: b.Blocked}
	if b.Features != nil {
		f, err := features(*b.Features)
		if err != nil {
			FieldProblem(w, http.StatusBadRequest, "features", err.Error())
			return
		}
		e.Features = &f
	}
	if b.MaxMachines != nil && (*b.MaxMachines < 0 || *b.MaxMachines > license.MaxMachines) {
		FieldProblem(w, http.StatusBadRequest, "max_machines", fmt.Sprintf("max_machines: 0 to %d", license.MaxMachines))
		return
	}
	if b.CustomerID != nil && *b.CustomerID < 0 {
		FieldProblem(w, http.StatusBadRequest, "customer_id", "customer_id: a customer id, or 0 for none")
		return
	}
	if b.Expires != nil {
		t, err := time.Parse(time.RFC3339, *b.Expires)
		if err != nil || t.After(license.MaxExpiry) || t.Before(time.Unix(0, 0)) {
			FieldProblem(w, http.StatusBadRequest, "expires", "expires: want an RFC 3339 time from 1970 to "+license.MaxExpiry.Format(time.RFC3339))
			return
		}
		e.ExpiresAt = &t
	}
	if _, err := a.deps.License.EditKey(a.coreContext(r, p), acc, d.Key.ProductID, d.Key.Key, e, precondition(match, keyETag)); err != nil {
		a.licenseError(w, r, err)
		return
	}
	a.answerKey(w, r, acc, d.Key.ProductID, d.Key.Key)
}

// answerKey answers the key as it is now.
func (a *API) answerKey(w http.ResponseWriter, r *http.Request, acc *license.Access, productID int64, key string) {
	d, err := a.deps.License.ShowKey(r.Context(), acc, productID, key)
	if err != nil {
		a.licenseError(w, r, err)
		return
	}
	w.Header().Set("ETag", keyETag(d.Key))
	writeJSON(w, http.StatusOK, toKeyDetails(d))
}

type extendBody struct {
	Days int `json:"days"`
}

// extendKey moves the expiry days later.
func (a *API) extendKey(w http.ResponseWriter, r *http.Request, p principal) {
	d, acc, ok := a.key(w, r, p)
	if !ok {
		return
	}
	var b extendBody
	if err := a.readJSON(w, r, &b); err != nil {
		badBody(w, err)
		return
	}
	if b.Days < 1 || b.Days > license.MaxPeriodDays {
		Problem(w, http.StatusBadRequest, fmt.Sprintf("days: 1 to %d", license.MaxPeriodDays))
		return
	}
	if err := a.deps.License.ExtendLicense(a.coreContext(r, p), acc, d.Key.ProductID, d.Key.Key, b.Days); err != nil {
		a.licenseError(w, r, err)
		return
	}
	a.answerKey(w, r, acc, d.Key.ProductID, d.Key.Key)
}

func (a *API) listActivations(w http.ResponseWriter, r *http.Request, p principal) {
	pq, err := parsePage(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, err.Error())
		return
	}
	d, _, ok := a.key(w, r, p)
	if !ok {
		return
	}
	// A key has at most MaxMachines activations (and its floating ones), so the list is bounded. The store
	// answers them by activation time; paging by key needs them in the key's order.
	order := func(x storage.Activation) string { return fmt.Sprintf("%t/%s", x.Floating, x.MachineCode) }
	acts := slices.SortedFunc(slices.Values(d.Activations), func(x, y storage.Activation) int { return strings.Compare(order(x), order(y)) })
	pageByKey(w, r, pq, acts, order, toActivationView)
}

// removeActivation frees a seat: ?floating=true for a floating activation.
func (a *API) removeActivation(w http.ResponseWriter, r *http.Request, p principal) {
	floating, ok := queryFlag(w, r, "floating")
	if !ok {
		return
	}
	d, acc, ok := a.key(w, r, p)
	if !ok {
		return
	}
	err := a.deps.License.RemoveActivation(a.coreContext(r, p), acc, d.Key.ProductID, d.Key.Key, r.PathValue("machine"), floating)
	if err != nil {
		a.licenseError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type keyRemovalView struct {
	Activations int `json:"activations"`
}

// deleteKey: 409 while machines are activated, unless ?force=true, which removes them in the same transaction.
func (a *API) deleteKey(w http.ResponseWriter, r *http.Request, p principal) {
	force, ok := queryFlag(w, r, "force")
	if !ok {
		return
	}
	pr, acc, ok := a.product(w, r, p)
	if !ok {
		return
	}
	n, err := a.deps.License.DeleteKey(a.coreContext(r, p), acc, pr.ID, r.PathValue("key"), force)
	if err != nil {
		a.licenseError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, keyRemovalView{Activations: n})
}
