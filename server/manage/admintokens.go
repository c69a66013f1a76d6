package manage

import (
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/tokenmanager/tokenmanager/admin"
	"github.com/tokenmanager/tokenmanager/storage"
)

// Admin API tokens over the API: each account manages its own (the operator sees everyone's with ?user=).
// A token made with a token is no wider than it: the same vendor, and never read-write from read-only (which
// cannot POST anyway).

type adminTokenView struct {
	ID         string     `json:"id"`
	User       string     `json:"user"`
	Name       string     `json:"name"`
	ReadOnly   bool       `json:"read_only"`
	Vendor     string     `json:"vendor,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

func toAdminTokenView(t storage.AdminToken) adminTokenView {
	return adminTokenView{ID: t.ID, User: t.User, Name: t.Name, ReadOnly: t.ReadOnly, Vendor: t.Vendor, CreatedAt: t.CreatedAt,
		ExpiresAt: t.ExpiresAt, LastUsedAt: optTime(t.LastUsedAt), RevokedAt: optTime(t.RevokedAt)}
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// tokenOwner is whose tokens the principal manages: its own, or with the operator's ?user= anyone's. ok is
// false when anyone else asks for another user's: they have none.
func tokenOwner(r *http.Request, p principal) (owner string, ok bool) {
	asked := r.URL.Query().Get("user")
	if p.operator && p.vendor == "" {
		return asked, true // "" lists everyone's
	}
	return p.user, asked == "" || asked == p.user
}

// ownerOf is the owner check of one token: the operator reaches every token, anyone else only their own.
func ownerOf(p principal) string {
	if p.operator && p.vendor == "" {
		return ""
	}
	return p.user
}

// reachesToken reports whether p manages t: the operator every token; anyone else only its own, and, narrowed to
// a vendor, only those narrowed to the same vendor (or, for a vendor account, not narrowed, which act as its
// vendor anyway). So an operator's token narrowed to one vendor neither sees nor revokes the operator's other
// tokens, which reach further than it does.
func reachesToken(p principal, t storage.AdminToken) bool {
	switch {
	case p.operator && p.vendor == "":
		return true
	case t.User != p.user:
		return false
	case t.Vendor == "":
		return !p.operator
	}
	return t.Vendor == p.vendor
}

func (a *API) listAdminTokens(w http.ResponseWriter, r *http.Request, p principal) {
	pq, err := parsePage(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, err.Error())
		return
	}
	live, err := optBool(r.URL.Query().Get("live"))
	if err != nil {
		Problem(w, http.StatusBadRequest, "live: want true or false")
		return
	}
	owner, ok := tokenOwner(r, p)
	if !ok {
		writeList[adminTokenView](w, nil, "")
		return
	}
	all, err := a.deps.Admin.ListTokens(r.Context(), owner, 0)
	if err != nil {
		a.failure(w, r, err)
		return
	}
	now := a.env.Now()
	var sel []storage.AdminToken
	for _, t := range all {
		if (live == nil || *live == t.Live(now)) && reachesToken(p, t) {
			sel = append(sel, t)
		}
	}
	// Newest first: the key grows as creation times fall.
	key := func(t storage.AdminToken) string {
		return fmt.Sprintf("%020d/%s", math.MaxInt64-t.CreatedAt.UnixMicro(), t.ID)
	}
	pageByKey(w, r, pq, sel, key, toAdminTokenView)
}

type createAdminTokenBody struct {
	Name         string `json:"name"`
	ReadOnly     bool   `json:"read_only"`
	Vendor       string `json:"vendor"`
	LifetimeDays int    `json:"lifetime_days"`
}

type createdAdminToken struct {
	adminTokenView
	Token string `json:"token"` // shown once
}

func (a *API) createAdminToken(w http.ResponseWriter, r *http.Request, p principal) {
	var b createAdminTokenBody
	if err := a.readJSON(w, r, &b); err != nil {
		badBody(w, err)
		return
	}
	if b.LifetimeDays < 0 || b.LifetimeDays > int(admin.MaxTokenLifetime.Hours()/24) {
		Problem(w, http.StatusBadRequest, fmt.Sprintf("lifetime_days: want 1 to %d (0: %d)",
			int(admin.MaxTokenLifetime.Hours()/24), int(admin.DefaultTokenLifetime.Hours()/24)))
		return
	}
	switch {
	case p.vendor != "" && b.Vendor == "":
		b.Vendor = p.vendor // a narrowed caller makes narrowed tokens
	case b.Vendor != "" && !p.sees(b.Vendor):
		Problem(w, http.StatusNotFound, "no such vendor")
		return
	case b.Vendor != "" && a.deps.License != nil:
		if _, err := a.deps.License.Vendor(r.Context(), b.Vendor); err != nil {
			Problem(w, http.StatusNotFound, "no such vendor")
			return
		}
	}
	tok, t, err := a.deps.Admin.CreateToken(r.Context(), p.actor(r, a), p.user,
		admin.TokenSpec{Name: b.Name, ReadOnly: b.ReadOnly || p.readOnly, Vendor: b.Vendor, Lifetime: time.Duration(b.LifetimeDays) * 24 * time.Hour})
	if err != nil {
		a.adminError(w, r, err)
		return
	}
	w.Header().Set("Location", Path+"/admin-tokens/"+t.ID)
	writeJSON(w, http.StatusCreated, createdAdminToken{adminTokenView: toAdminTokenView(t), Token: tok})
}

// adminToken reads the token of the path that p manages; 404 for one it does not, as for none.
func (a *API) adminToken(w http.ResponseWriter, r *http.Request, p principal) (storage.AdminToken, bool) {
	t, err := a.deps.Admin.GetToken(r.Context(), ownerOf(p), r.PathValue("id"))
	if err == nil && !reachesToken(p, t) {
		err = admin.ErrNotFound
	}
	if err != nil {
		a.adminError(w, r, err)
		return t, false
	}
	return t, true
}

func (a *API) getAdminToken(w http.ResponseWriter, r *http.Request, p principal) {
	if t, ok := a.adminToken(w, r, p); ok {
		writeJSON(w, http.StatusOK, toAdminTokenView(t))
	}
}

func (a *API) revokeAdminToken(w http.ResponseWriter, r *http.Request, p principal) {
	if _, ok := a.adminToken(w, r, p); !ok {
		return
	}
	if err := a.deps.Admin.RevokeToken(r.Context(), p.actor(r, a), ownerOf(p), r.PathValue("id")); err != nil {
		a.adminError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
