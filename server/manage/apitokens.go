package manage

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

// Licensing API tokens: the access tokens of the Cryptolens-compatible API (/api/) that vendors build into
// their apps, as `tokenmanager apitoken` manages them. A token is shown once, when it is made; only the
// SHA-256 of its secret is kept.

type apiTokenView struct {
	ID          int64      `json:"id"`
	Vendor      string     `json:"vendor"`
	Name        string     `json:"name"`
	Methods     []string   `json:"methods"`
	ProductLock int64      `json:"product_lock"`
	KeyLock     int64      `json:"key_lock"`
	FeatureLock int64      `json:"feature_lock"`
	ParentID    int64      `json:"parent_id,omitempty"` // the token it was derived from (auth/KeyLock, a child token)
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
}

func toAPITokenView(t storage.APIToken) apiTokenView { // never the secret's hash
	methods := t.Permissions
	if methods == nil {
		methods = []string{}
	}
	return apiTokenView{ID: t.ID, Vendor: t.Vendor, Name: t.Name, Methods: methods, ProductLock: t.ProductLock,
		KeyLock: t.KeyLock, FeatureLock: t.FeatureLock, ParentID: t.ParentID, CreatedAt: t.CreatedAt,
		ExpiresAt: optTime(t.ExpiresAt), RevokedAt: optTime(t.RevokedAt)}
}

func apiTokenPath(id int64) string { return Path + "/api-tokens/" + strconv.FormatInt(id, 10) }

// tokenVendor is whose licensing API tokens the principal reaches: a vendor's own, or with the operator's
// ?vendor= one vendor's ("" everyone's). ok is false when a vendor asks for another's: it has none.
func tokenVendor(p principal, asked string) (vendor string, ok bool) {
	if p.vendor == "" {
		return asked, true
	}
	return p.vendor, asked == "" || asked == p.vendor
}

// listAPITokens: ?vendor=, ?name= (a part of the name, any case); paged by id.
func (a *API) listAPITokens(w http.ResponseWriter, r *http.Request, p principal) {
	pq, err := parsePage(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, err.Error())
		return
	}
	q := r.URL.Query()
	if msg := checkText("name", q.Get("name"), license.MaxNameLen, false); msg != "" {
		Problem(w, http.StatusBadRequest, msg)
		return
	}
	vendor, ok := tokenVendor(p, q.Get("vendor"))
	if !ok {
		writeList[apiTokenView](w, nil, "")
		return
	}
	ts, err := a.deps.License.ListAPITokens(r.Context(), vendor)
	if err != nil {
		a.failure(w, r, err)
		return
	}
	name := strings.ToLower(q.Get("name"))
	var sel []storage.APIToken
	for _, t := range ts {
		if strings.Contains(strings.ToLower(t.Name), name) {
			sel = append(sel, t)
		}
	}
	pageByKey(w, r, pq, sel, func(t storage.APIToken) string { return fmt.Sprintf("%020d", t.ID) }, toAPITokenView)
}

type createAPITokenBody struct {
	Vendor      string     `json:"vendor"`
	Name        string     `json:"name"`
	Methods     []string   `json:"methods"`
	ProductLock int64      `json:"product_lock"`
	KeyLock     int64      `json:"key_lock"`
	FeatureLock int64      `json:"feature_lock"`
	ExpiresAt   *time.Time `json:"expires_at"`
	// LifetimeDays is the other way to say when it expires: so many days from now.
	LifetimeDays int `json:"lifetime_days"`
}

type createdAPIToken struct {
	apiTokenView
	Token string `json:"token"` // shown once
}

// createAPIToken makes a token as `tokenmanager apitoken create` does, through the same core call.
func (a *API) createAPIToken(w http.ResponseWriter, r *http.Request, p principal) {
	var b createAPITokenBody
	if err := a.readJSON(w, r, &b); err != nil {
		badBody(w, err)
		return
	}
	spec, msg := a.apiTokenSpec(b)
	if msg != "" {
		Problem(w, http.StatusBadRequest, msg)
		return
	}
	if b.Vendor == "" {
		b.Vendor = p.vendor
	}
	if b.Vendor == "" {
		Problem(w, http.StatusBadRequest, "vendor: whose token it is")
		return
	}
	if !p.sees(b.Vendor) {
		Problem(w, http.StatusNotFound, "no such vendor")
		return
	}
	issued, err := a.deps.License.CreateAPIToken(a.coreContext(r, p), b.Vendor, spec)
	switch {
	case errors.Is(err, license.ErrProductNotFound):
		Problem(w, http.StatusBadRequest, "product_lock: no such product of the vendor")
		return
	case err != nil:
		a.licenseError(w, r, err)
		return
	}
	w.Header().Set("Location", apiTokenPath(issued.Record.ID))
	writeJSON(w, http.StatusCreated, createdAPIToken{apiTokenView: toAPITokenView(issued.Record), Token: issued.Token})
}

// apiTokenSpec checks the body member by member, answering the first problem.
func (a *API) apiTokenSpec(b createAPITokenBody) (license.TokenSpec, string) {
	spec := license.TokenSpec{Name: b.Name, ProductLock: b.ProductLock, KeyLock: b.KeyLock, FeatureLock: b.FeatureLock}
	if msg := checkText("name", b.Name, license.MaxNameLen, false); msg != "" {
		return spec, msg
	}
	if len(b.Methods) == 0 || len(b.Methods) > len(license.Methods) {
		return spec, fmt.Sprintf("methods: 1 to %d permission names", len(license.Methods))
	}
	for _, s := range b.Methods {
		m, err := license.ParseMethod(s)
		if err != nil {
			return spec, fmt.Sprintf("methods: %.64q is not a permission name (see the OpenAPI document's list)", s)
		}
		spec.Methods = append(spec.Methods, m)
	}
	if b.ProductLock < 0 {
		return spec, "product_lock: a product id, or 0 for every product"
	}
	if b.KeyLock < license.KeyLockAny {
		return spec, "key_lock: a key id, 0 for every key, or -1 to allow auth/KeyLock"
	}
	if b.KeyLock > 0 && b.ProductLock == 0 && !containsMethod(spec.Methods, license.MethodGetToken) {
		return spec, "key_lock: needs a product_lock, as key ids are per product"
	}
	if b.FeatureLock < 0 {
		return spec, "feature_lock: 0 or more"
	}
	now := a.env.Now()
	switch {
	case b.ExpiresAt != nil && b.LifetimeDays != 0:
		return spec, "lifetime_days: send expires_at or lifetime_days, not both"
	case b.LifetimeDays < 0 || b.LifetimeDays > license.MaxPeriodDays:
		return spec, fmt.Sprintf("lifetime_days: 1 to %d (0: no expiry)", license.MaxPeriodDays)
	case b.LifetimeDays > 0:
		spec.ExpiresAt = now.Add(time.Duration(b.LifetimeDays) * 24 * time.Hour)
	case b.ExpiresAt != nil:
		if !b.ExpiresAt.After(now) || b.ExpiresAt.After(license.MaxExpiry) {
			return spec, "expires_at: a time in the future, before " + license.MaxExpiry.Format(time.DateOnly)
		}
		spec.ExpiresAt = *b.ExpiresAt
	}
	return spec, ""
}

func containsMethod(ms []license.Method, m license.Method) bool {
	for _, x := range ms {
		if x == m {
			return true
		}
	}
	return false
}

func (a *API) getAPIToken(w http.ResponseWriter, r *http.Request, p principal) {
	id := pathID(w, r)
	if id == 0 {
		return
	}
	t, err := a.deps.License.APIToken(r.Context(), p.vendor, id)
	if err != nil {
		a.apiTokenError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAPITokenView(t))
}

// revokeAPIToken revokes the token and the tokens derived from it.
func (a *API) revokeAPIToken(w http.ResponseWriter, r *http.Request, p principal) {
	id := pathID(w, r)
	if id == 0 {
		return
	}
	if err := a.deps.License.RevokeAPIToken(a.coreContext(r, p), p.vendor, id); err != nil {
		a.apiTokenError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) apiTokenError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, storage.ErrNotFound) { // another vendor's too, as the core answers
		Problem(w, http.StatusNotFound, "")
		return
	}
	a.licenseError(w, r, err)
}
