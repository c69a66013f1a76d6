package manage

import (
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/storage"
)

// The applications of Wultra's mobile SDK and the activation codes handed to users: operator only, as the
// command line's `powerauth app` and `powerauth activation init`, over the same core methods.

type paAppView struct {
	ID              string    `json:"id"`
	ApplicationKey  string    `json:"application_key"`
	MasterPublicKey string    `json:"master_public_key"` // Base64 of the P-256 point, as the SDK is configured with it
	CreatedAt       time.Time `json:"created_at"`
}

func toPAAppView(a storage.PowerAuthApp) paAppView { // never the sealed secret and master private key
	return paAppView{ID: a.ID, ApplicationKey: a.Key, MasterPublicKey: base64.StdEncoding.EncodeToString(a.MasterPublic), CreatedAt: a.CreatedAt}
}

// paCreatedAppView is the answer to a create: the only one that carries the application secret.
type paCreatedAppView struct {
	paAppView
	ApplicationSecret string `json:"application_secret"`
}

func paAppPath(id string) string { return Path + "/powerauth/apps/" + urlPathEscape(id) }

// listPowerAuthApps: ?prefix=; paged by id.
func (a *API) listPowerAuthApps(w http.ResponseWriter, r *http.Request, _ principal) {
	pq, err := parsePage(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, err.Error())
		return
	}
	apps, err := a.deps.PowerAuth.ListApps(r.Context())
	if err != nil {
		a.failure(w, r, err)
		return
	}
	var sel []storage.PowerAuthApp
	for _, app := range apps {
		if strings.HasPrefix(app.ID, r.URL.Query().Get("prefix")) {
			sel = append(sel, app)
		}
	}
	// The store orders by creation; the cursor needs an order by the key it carries.
	slices.SortFunc(sel, func(x, y storage.PowerAuthApp) int { return strings.Compare(x.ID, y.ID) })
	pageByKey(w, r, pq, sel, func(app storage.PowerAuthApp) string { return app.ID }, toPAAppView)
}

func (a *API) getPowerAuthApp(w http.ResponseWriter, r *http.Request, _ principal) {
	app, err := a.deps.PowerAuth.AppInfo(r.Context(), r.PathValue("id"))
	if errors.Is(err, powerauth.ErrNoApp) {
		Problem(w, http.StatusNotFound, "")
		return
	}
	if err != nil {
		a.failure(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toPAAppView(app))
}

type createPAAppBody struct {
	ID string `json:"id"`
}

func (a *API) createPowerAuthApp(w http.ResponseWriter, r *http.Request, p principal) {
	var b createPAAppBody
	if err := a.readJSON(w, r, &b); err != nil {
		badBody(w, err)
		return
	}
	app, err := a.deps.PowerAuth.CreateApp(r.Context(), b.ID)
	switch {
	case errors.Is(err, powerauth.ErrBadAppID):
		Problem(w, http.StatusBadRequest, "id: 1-64 characters of A-Z a-z 0-9 . _ -")
		return
	case errors.Is(err, storage.ErrConflict):
		Problem(w, http.StatusConflict, "an application with this id exists")
		return
	case err != nil:
		a.failure(w, r, err)
		return
	}
	a.record(r, p, "powerauth.app.create", "", "app="+app.ID)
	w.Header().Set("Location", paAppPath(app.ID))
	writeJSON(w, http.StatusCreated, paCreatedAppView{paAppView: toPAAppView(app.PowerAuthApp), ApplicationSecret: app.Secret})
}

type initPAActivationBody struct {
	App  string `json:"app"`
	User string `json:"user"`
	OTP  string `json:"otp"`
}

type paPendingView struct {
	ID                  string    `json:"id"`
	App                 string    `json:"app"`
	User                string    `json:"user"`
	ActivationCode      string    `json:"activation_code"`
	ActivationSignature string    `json:"activation_signature"`
	ExpiresAt           time.Time `json:"expires_at"`
}

// initPowerAuthActivation starts an activation the device completes with the code; the code is in this answer
// only (the store keeps its hash). The activation is then listed and ended under /powerauth/activations.
func (a *API) initPowerAuthActivation(w http.ResponseWriter, r *http.Request, p principal) {
	var b initPAActivationBody
	if err := a.readJSON(w, r, &b); err != nil {
		badBody(w, err)
		return
	}
	if b.App == "" || b.User == "" {
		Problem(w, http.StatusBadRequest, "app, user: both are required")
		return
	}
	pend, err := a.deps.PowerAuth.InitActivation(r.Context(), b.App, b.User, b.OTP)
	switch {
	case errors.Is(err, powerauth.ErrNoApp):
		Problem(w, http.StatusBadRequest, "app: no such application")
		return
	case errors.Is(err, powerauth.ErrNoUser):
		Problem(w, http.StatusBadRequest, "user: no such user")
		return
	case errors.Is(err, powerauth.ErrBadOTP):
		Problem(w, http.StatusBadRequest, "otp: at most 255 bytes")
		return
	case err != nil:
		a.failure(w, r, err)
		return
	}
	a.record(r, p, "powerauth.activation.init", b.User, "activation="+pend.ID+" app="+b.App)
	writeJSON(w, http.StatusCreated, paPendingView{ID: pend.ID, App: b.App, User: b.User, ActivationCode: pend.Code,
		ActivationSignature: pend.Signature, ExpiresAt: pend.ExpiresAt})
}
