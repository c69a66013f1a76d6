package manage

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/admin"
	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/storage"
)

type userView struct {
	Name       string    `json:"name"`
	Admin      bool      `json:"admin"`
	Disabled   bool      `json:"disabled"`
	WSSEDigest bool      `json:"wsse_digest"` // a sealed password copy is kept for WS-Security PasswordDigest
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func toUserView(u storage.User) userView { // never the password hash or its sealed copy
	return userView{Name: u.Name, Admin: u.Admin, Disabled: u.Disabled, WSSEDigest: len(u.DigestSecret) > 0,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

func userETag(u storage.User) string {
	return etagOf("user", u.Name, u.Admin, u.Disabled, u.UpdatedAt.UnixMicro(), u.PasswordHash)
}

func userPath(name string) string { return Path + "/users/" + urlPathEscape(name) }

// listUsers: ?prefix= (name prefix), ?admin=, ?disabled=; paged by name.
func (a *API) listUsers(w http.ResponseWriter, r *http.Request, _ principal) {
	pq, err := parsePage(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, err.Error())
		return
	}
	q := r.URL.Query()
	adminF, err1 := optBool(q.Get("admin"))
	disabledF, err2 := optBool(q.Get("disabled"))
	if err := errors.Join(err1, err2); err != nil {
		Problem(w, http.StatusBadRequest, "admin, disabled: want true or false")
		return
	}
	users, err := a.deps.Admin.ListUsers(r.Context())
	if err != nil {
		a.failure(w, r, err)
		return
	}
	var sel []storage.User
	for _, u := range users {
		if strings.HasPrefix(u.Name, q.Get("prefix")) && (adminF == nil || *adminF == u.Admin) && (disabledF == nil || *disabledF == u.Disabled) {
			sel = append(sel, u)
		}
	}
	pageByKey(w, r, pq, sel, func(u storage.User) string { return u.Name }, toUserView)
}

type createUserBody struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	Admin    bool   `json:"admin"`
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request, p principal) {
	var b createUserBody
	if err := a.readJSON(w, r, &b); err != nil {
		badBody(w, err)
		return
	}
	u, err := a.deps.Admin.CreateUser(r.Context(), p.actor(r, a), admin.UserSpec{Name: b.Name, Password: b.Password, Admin: b.Admin})
	if err != nil {
		a.adminError(w, r, err)
		return
	}
	w.Header().Set("Location", userPath(u.Name))
	w.Header().Set("ETag", userETag(u))
	writeJSON(w, http.StatusCreated, toUserView(u))
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request, _ principal) {
	u, err := a.deps.Admin.GetUser(r.Context(), r.PathValue("name"))
	if err != nil {
		a.adminError(w, r, err)
		return
	}
	w.Header().Set("ETag", userETag(u))
	writeJSON(w, http.StatusOK, toUserView(u))
}

type patchUserBody struct {
	Admin    *bool `json:"admin"`
	Disabled *bool `json:"disabled"`
}

// patchUser promotes, demotes, disables or enables (disabling ends every token and session of the user).
func (a *API) patchUser(w http.ResponseWriter, r *http.Request, p principal) {
	name := r.PathValue("name")
	if _, err := a.deps.Admin.GetUser(r.Context(), name); err != nil {
		a.adminError(w, r, err)
		return
	}
	match, ok := ifMatch(w, r)
	if !ok {
		return
	}
	var b patchUserBody
	if err := a.readJSON(w, r, &b); err != nil {
		badBody(w, err)
		return
	}
	if name == p.user && ((b.Disabled != nil && *b.Disabled) || (b.Admin != nil && !*b.Admin)) {
		Problem(w, http.StatusConflict, "you may not disable or demote yourself; ask another administrator")
		return
	}
	u, err := a.deps.Admin.UpdateUser(r.Context(), p.actor(r, a), name, admin.UserChange{Admin: b.Admin, Disabled: b.Disabled},
		precondition(match, userETag))
	if err != nil {
		a.adminError(w, r, err)
		return
	}
	w.Header().Set("ETag", userETag(u))
	writeJSON(w, http.StatusOK, toUserView(u))
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request, p principal) {
	name := r.PathValue("name")
	if name == p.user {
		Problem(w, http.StatusConflict, "you may not delete yourself")
		return
	}
	if err := a.deps.Admin.DeleteUser(r.Context(), p.actor(r, a), name); err != nil {
		a.adminError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type passwordBody struct {
	Password string `json:"password"`
}

type passwordResult struct {
	SessionsEnded int `json:"sessions_ended"`
}

// setPassword sets a new password and ends the user's sessions. A PUT of the whole secret: no If-Match, the
// last one set wins. The sealed copy for WS-Security digests is removed (the CLI's --wsse-digest keeps one).
func (a *API) setPassword(w http.ResponseWriter, r *http.Request, p principal) {
	name := r.PathValue("name")
	if _, err := a.deps.Admin.GetUser(r.Context(), name); err != nil {
		a.adminError(w, r, err)
		return
	}
	var b passwordBody
	if err := a.readJSON(w, r, &b); err != nil {
		badBody(w, err)
		return
	}
	n, err := a.deps.Admin.SetPassword(r.Context(), p.actor(r, a), name, b.Password, nil)
	if err != nil {
		a.adminError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, passwordResult{SessionsEnded: n})
}

// adminError answers the admin core's errors.
func (a *API) adminError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errStale):
		stale(w)
	case errors.Is(err, admin.ErrInvalid):
		detail := strings.TrimPrefix(err.Error(), admin.ErrInvalid.Error()+": ")
		switch {
		case errors.Is(err, auth.ErrInvalidUserName):
			FieldProblem(w, http.StatusBadRequest, "name", detail)
		case errors.Is(err, auth.ErrWeakPassword):
			FieldProblem(w, http.StatusBadRequest, "password", detail)
		default:
			Problem(w, http.StatusBadRequest, detail)
		}
	case errors.Is(err, admin.ErrNotFound):
		Problem(w, http.StatusNotFound, "")
	case errors.Is(err, admin.ErrInUse):
		Problem(w, http.StatusConflict, "the user is a vendor, a licensing customer's account or holds app authorizations; remove those first")
	case errors.Is(err, admin.ErrConflict):
		Problem(w, http.StatusConflict, strings.TrimPrefix(err.Error(), admin.ErrConflict.Error()+": "))
	default:
		a.failure(w, r, err)
	}
}

func optBool(v string) (*bool, error) {
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, err
	}
	return &b, nil
}
