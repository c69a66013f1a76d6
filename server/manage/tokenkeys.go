package manage

import (
	"net/http"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

type tokenKeyView struct {
	ID        string     `json:"id"`
	State     string     `json:"state"` // primary, verify, retired
	CreatedAt *time.Time `json:"created_at,omitempty"`
	RetiredAt *time.Time `json:"retired_at,omitempty"`
}

func toTokenKeyView(k storage.TokenKey) tokenKeyView { // never the sealed key
	return tokenKeyView{ID: k.ID, State: string(k.State), CreatedAt: optTime(k.CreatedAt), RetiredAt: optTime(k.RetiredAt)}
}

// listTokenKeys: the ring is a handful of keys, answered whole, oldest first.
func (a *API) listTokenKeys(w http.ResponseWriter, r *http.Request, _ principal) {
	keys, err := a.deps.Admin.ListTokenKeys(r.Context())
	if err != nil {
		a.failure(w, r, err)
		return
	}
	out := make([]tokenKeyView, 0, len(keys))
	for _, k := range keys {
		out = append(out, toTokenKeyView(k))
	}
	writeList(w, out, "")
}

// rotateTokenKey adds a new primary key: 201 with the new key.
func (a *API) rotateTokenKey(w http.ResponseWriter, r *http.Request, p principal) {
	id, err := a.deps.Admin.RotateTokenKey(r.Context(), p.actor(r, a), a.deps.Keyring)
	if err != nil {
		a.adminError(w, r, err)
		return
	}
	w.Header().Set("Location", Path+"/token-keys")
	now := a.env.Now()
	writeJSON(w, http.StatusCreated, tokenKeyView{ID: id, State: string(storage.KeyPrimary), CreatedAt: &now})
}

func (a *API) retireTokenKey(w http.ResponseWriter, r *http.Request, p principal) {
	if err := a.deps.Admin.RetireTokenKey(r.Context(), p.actor(r, a), r.PathValue("id")); err != nil {
		a.adminError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
