package manage

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/storage"
)

// API clients (OAuth 2.0 client credentials, SkyKick style), the operator's only: the same core (package
// apiclient) as `tokenmanager client`. A client's two subscription keys are its secrets: only their hashes are
// kept, and a key is answered once, when it is made.

type clientView struct {
	ID                     string    `json:"id"`
	Description            string    `json:"description,omitempty"`
	Scopes                 []string  `json:"scopes"`
	GrantTypes             []string  `json:"grant_types"`
	Introspect             bool      `json:"introspect"`
	TokenLifetime          int64     `json:"token_lifetime_seconds"`
	TokenFormat            string    `json:"token_format,omitempty"` // "" is the server's default
	RequireSubscriptionKey bool      `json:"require_subscription_key"`
	Disabled               bool      `json:"disabled"`
	PrimaryKeySetAt        time.Time `json:"primary_key_set_at"`
	SecondaryKeySetAt      time.Time `json:"secondary_key_set_at"`
	CreatedAt              time.Time `json:"created_at"`
	UpdatedAt              time.Time `json:"updated_at"`
}

func toClientView(c storage.APIClient) clientView { // never the key hashes
	v := clientView{ID: c.ID, Description: c.Description, Scopes: c.Scopes, GrantTypes: c.GrantTypes, Introspect: c.Introspect,
		TokenLifetime: int64(c.TokenLifetime / time.Second), TokenFormat: c.TokenFormat, RequireSubscriptionKey: c.RequireSubscriptionKey,
		Disabled: c.Disabled, PrimaryKeySetAt: c.PrimaryKeySetAt, SecondaryKeySetAt: c.SecondaryKeySetAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if v.Scopes == nil {
		v.Scopes = []string{}
	}
	if v.GrantTypes == nil {
		v.GrantTypes = []string{}
	}
	return v
}

// clientETag covers the keys' replacement times, not their hashes: a regenerated key is a change a PATCH must
// not race, and a hash in a header would be one more copy of it.
func clientETag(c storage.APIClient) string {
	return etagOf("client", c.ID, c.Description, strings.Join(c.Scopes, " "), strings.Join(c.GrantTypes, " "), c.Introspect,
		int64(c.TokenLifetime), c.TokenFormat, c.RequireSubscriptionKey, c.Disabled,
		c.PrimaryKeySetAt.UnixNano(), c.SecondaryKeySetAt.UnixNano())
}

func clientPath(id string) string { return Path + "/clients/" + urlPathEscape(id) }

// clientList is a page of clients; clients repeats items for the scripts written when this list was one
// unpaged {"clients":[…]}.
type clientList struct {
	Items   []clientView `json:"items"`
	Next    string       `json:"next,omitempty"`
	Clients []clientView `json:"clients"`
}

// listClients: ?prefix= (of the id), ?disabled=true|false; paged by id.
func (a *API) listClients(w http.ResponseWriter, r *http.Request, p principal) {
	pq, err := parsePage(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, err.Error())
		return
	}
	q := r.URL.Query()
	prefix := q.Get("prefix")
	if len(prefix) > 128 {
		Problem(w, http.StatusBadRequest, "prefix: at most 128 bytes")
		return
	}
	disabled, err := optBool(q.Get("disabled"))
	if err != nil {
		Problem(w, http.StatusBadRequest, "disabled: want true or false")
		return
	}
	all, err := a.deps.Clients.List(r.Context())
	if err != nil {
		a.failure(w, r, err)
		return
	}
	var after string
	if pq.cursor != nil {
		var c keyCursor
		if json.Unmarshal(pq.cursor, &c) != nil {
			Problem(w, http.StatusBadRequest, "cursor: not one this API handed out")
			return
		}
		after = c.After
	}
	out := []clientView{}
	next := ""
	for _, c := range all { // ordered by id
		if !strings.HasPrefix(c.ID, prefix) || (disabled != nil && c.Disabled != *disabled) || (pq.cursor != nil && c.ID <= after) {
			continue
		}
		if len(out) == pq.limit {
			next = nextLink(r, keyCursor{After: out[len(out)-1].ID})
			break
		}
		out = append(out, toClientView(c))
	}
	if next != "" {
		w.Header().Set("Link", "<"+next+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, clientList{Items: out, Next: next, Clients: out})
}

type createClientBody struct {
	ID                     string    `json:"id"` // empty: 32 hex digits are made, as SkyKick's are
	Description            string    `json:"description"`
	Scopes                 []string  `json:"scopes"`
	GrantTypes             *[]string `json:"grant_types"` // absent: client_credentials; [] for a resource server
	Introspect             bool      `json:"introspect"`
	TokenLifetime          int64     `json:"token_lifetime_seconds"` // 0: an hour
	TokenFormat            string    `json:"token_format"`
	RequireSubscriptionKey bool      `json:"require_subscription_key"`
	PrimaryKey             string    `json:"primary_key"` // keys brought over from another system; empty ones are made
	SecondaryKey           string    `json:"secondary_key"`
}

type createdClientView struct {
	clientView
	PrimaryKey   string `json:"primary_key"`
	SecondaryKey string `json:"secondary_key"`
}

// lifetimeOf turns seconds into a duration, refusing what the core would refuse before it can overflow.
func lifetimeOf(w http.ResponseWriter, secs int64) (time.Duration, bool) {
	if secs < 0 || secs > int64(apiclient.MaxTokenLifetime/time.Second) {
		Problem(w, http.StatusBadRequest, fmt.Sprintf("token_lifetime_seconds: want %d to %d",
			int64(apiclient.MinTokenLifetime/time.Second), int64(apiclient.MaxTokenLifetime/time.Second)))
		return 0, false
	}
	return time.Duration(secs) * time.Second, true
}

func (a *API) createClient(w http.ResponseWriter, r *http.Request, p principal) {
	var b createClientBody
	if err := a.readJSON(w, r, &b); err != nil {
		badBody(w, err)
		return
	}
	life, ok := lifetimeOf(w, b.TokenLifetime)
	if !ok {
		return
	}
	spec := apiclient.Spec{ID: b.ID, Description: b.Description, Scopes: b.Scopes, Introspect: b.Introspect, TokenLifetime: life,
		TokenFormat: b.TokenFormat, RequireSubscriptionKey: b.RequireSubscriptionKey, PrimaryKey: b.PrimaryKey, SecondaryKey: b.SecondaryKey}
	if b.GrantTypes != nil {
		spec.GrantTypes = append([]string{}, *b.GrantTypes...)
	}
	c, err := a.deps.Clients.Create(r.Context(), spec)
	if err != nil {
		a.clientError(w, r, err)
		return
	}
	a.record(r, p, "admin.client.create", c.Client.ID, fmt.Sprintf("scopes=%q imported_keys=%v", strings.Join(c.Client.Scopes, " "),
		b.PrimaryKey != "" || b.SecondaryKey != ""))
	w.Header().Set("Location", clientPath(c.Client.ID))
	w.Header().Set("ETag", clientETag(c.Client))
	writeJSON(w, http.StatusCreated, createdClientView{clientView: toClientView(c.Client), PrimaryKey: c.PrimaryKey, SecondaryKey: c.SecondaryKey})
}

// client reads the client of the path; 404 for an id no client can have, as for one that is not there.
func (a *API) client(w http.ResponseWriter, r *http.Request) (storage.APIClient, bool) {
	id := r.PathValue("id")
	if apiclient.ValidID(id) != nil {
		Problem(w, http.StatusNotFound, "")
		return storage.APIClient{}, false
	}
	c, err := a.deps.Clients.Get(r.Context(), id)
	if err != nil {
		a.clientError(w, r, err)
		return storage.APIClient{}, false
	}
	return c, true
}

func (a *API) getClient(w http.ResponseWriter, r *http.Request, _ principal) {
	if c, ok := a.client(w, r); ok {
		w.Header().Set("ETag", clientETag(c))
		writeJSON(w, http.StatusOK, toClientView(c))
	}
}

type patchClientBody struct {
	Description            *string   `json:"description"`
	Scopes                 *[]string `json:"scopes"` // the whole set
	TokenLifetime          *int64    `json:"token_lifetime_seconds"`
	TokenFormat            *string   `json:"token_format"`
	RequireSubscriptionKey *bool     `json:"require_subscription_key"`
	Introspect             *bool     `json:"introspect"`
	Disabled               *bool     `json:"disabled"`
}

func (a *API) patchClient(w http.ResponseWriter, r *http.Request, p principal) {
	c, ok := a.client(w, r)
	if !ok {
		return
	}
	match, ok := ifMatch(w, r)
	if !ok {
		return
	}
	var b patchClientBody
	if err := a.readJSON(w, r, &b); err != nil {
		badBody(w, err)
		return
	}
	ch := apiclient.Change{Description: b.Description, Scopes: b.Scopes, TokenFormat: b.TokenFormat,
		RequireSubscriptionKey: b.RequireSubscriptionKey, Introspect: b.Introspect, Disabled: b.Disabled,
		Check: precondition(match, clientETag)}
	if b.TokenLifetime != nil {
		life, ok := lifetimeOf(w, *b.TokenLifetime)
		if !ok {
			return
		}
		ch.TokenLifetime = &life
	}
	c, err := a.deps.Clients.Update(r.Context(), c.ID, ch)
	if err != nil {
		a.clientError(w, r, err)
		return
	}
	var changed []string
	for name, set := range map[string]bool{"description": b.Description != nil, "scopes": b.Scopes != nil, "token_lifetime": b.TokenLifetime != nil,
		"token_format": b.TokenFormat != nil, "require_subscription_key": b.RequireSubscriptionKey != nil, "introspect": b.Introspect != nil,
		"disabled": b.Disabled != nil} {
		if set {
			changed = append(changed, name)
		}
	}
	slices.Sort(changed)
	a.record(r, p, "admin.client.edit", c.ID, fmt.Sprintf("changed=%s scopes=%q disabled=%v", strings.Join(changed, ","),
		strings.Join(c.Scopes, " "), c.Disabled))
	w.Header().Set("ETag", clientETag(c))
	writeJSON(w, http.StatusOK, toClientView(c))
}

// deleteClient removes the client and every access token issued to it, in one transaction.
func (a *API) deleteClient(w http.ResponseWriter, r *http.Request, p principal) {
	c, ok := a.client(w, r)
	if !ok {
		return
	}
	if err := a.deps.Clients.Remove(r.Context(), c.ID); err != nil {
		a.clientError(w, r, err)
		return
	}
	a.record(r, p, "admin.client.remove", c.ID, "")
	w.WriteHeader(http.StatusNoContent)
}

type regenerateBody struct {
	Slot string `json:"slot"` // primary (the default) or secondary
}

type newSecretView struct {
	ID   string `json:"id"`
	Slot string `json:"slot"`
	Key  string `json:"key"`
}

// regenerateClientSecret replaces one of the client's keys (the primary unless the body names the secondary)
// and answers the new one, once. The old key and the tokens obtained with it stop working at once; the other
// key and its tokens are untouched.
func (a *API) regenerateClientSecret(w http.ResponseWriter, r *http.Request, p principal) {
	c, ok := a.client(w, r)
	if !ok {
		return
	}
	b := regenerateBody{Slot: string(apiclient.Primary)}
	if r.ContentLength != 0 {
		if err := a.readJSON(w, r, &b); err != nil {
			badBody(w, err)
			return
		}
	}
	key, err := a.deps.Clients.RegenerateKey(r.Context(), c.ID, apiclient.Slot(b.Slot))
	if err != nil {
		a.clientError(w, r, err)
		return
	}
	a.record(r, p, "admin.client.regenerate_key", c.ID, "slot="+b.Slot)
	if c, err := a.deps.Clients.Get(r.Context(), c.ID); err == nil {
		w.Header().Set("ETag", clientETag(c))
	}
	writeJSON(w, http.StatusOK, newSecretView{ID: c.ID, Slot: b.Slot, Key: key})
}

// setClientDisabled: POST …/disable and …/enable, 204; PATCH {"disabled":…} does the same with If-Match.
func (a *API) setClientDisabled(disabled bool) func(http.ResponseWriter, *http.Request, principal) {
	return func(w http.ResponseWriter, r *http.Request, p principal) {
		id := r.PathValue("id")
		if apiclient.ValidID(id) != nil {
			Problem(w, http.StatusNotFound, "")
			return
		}
		if err := a.deps.Clients.SetDisabled(r.Context(), id, disabled); err != nil {
			a.clientError(w, r, err)
			return
		}
		action := "admin.client.enable"
		if disabled {
			action = "admin.client.disable"
		}
		a.record(r, p, action, id, "")
		w.WriteHeader(http.StatusNoContent)
	}
}

// clientFields name the body member an apiclient refusal is about, by the start of its message.
var clientFields = []fieldPrefix{{"client id", "id"}, {"grant type", "grant_types"}, {"token lifetime", "token_lifetime_seconds"},
	{"token format", "token_format"}, {"scope", "scopes"}, {"more than", "scopes"}, {"description", "description"},
	{"an imported key", "primary_key"}, {"the primary and secondary", "secondary_key"}, {"key slot", "slot"}}

func (a *API) clientError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errStale):
		stale(w)
	case errors.Is(err, apiclient.ErrUnknownClient):
		Problem(w, http.StatusNotFound, "")
	case errors.Is(err, apiclient.ErrExists):
		FieldProblem(w, http.StatusConflict, "id", "id: a client with this id exists")
	case errors.Is(err, apiclient.ErrInvalidSpec):
		msg := strings.TrimPrefix(err.Error(), apiclient.ErrInvalidSpec.Error()+": ")
		FieldProblem(w, http.StatusBadRequest, fieldOf(msg, clientFields), msg)
	default:
		a.failure(w, r, err)
	}
}
