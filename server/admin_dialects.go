package server

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/server/manage"
	"github.com/tokenmanager/tokenmanager/storage"
)

// The admin API over the other token kinds: API clients and their OAuth access tokens, PowerAuth activations
// and their MAC tokens. Same authentication and audit as admin.go; the CLIs (`client`, `powerauth`) do the same.

func (s *Server) routeAdminDialects() {
	if s.deps.Admin == nil {
		return
	}
	if s.deps.OAuth.Clients != nil {
		// The clients themselves are package manage's (/clients…), their tokens are here.
		s.manage.Handle(s.mux, "GET /oauth-tokens", s.admin(s.adminListOAuthTokens))
		s.manage.Handle(s.mux, "DELETE /oauth-tokens/{id}", s.admin(s.adminRevokeOAuthToken))
	}
	if s.deps.License != nil {
		s.manage.Handle(s.mux, "GET /license/activations", s.admin(s.adminListLicenseActivations))
		s.manage.Handle(s.mux, "DELETE /license/activations", s.admin(s.adminRemoveLicenseActivation))
	}
	if s.deps.PowerAuth != nil {
		s.manage.Handle(s.mux, "GET /powerauth/activations", s.admin(s.adminListActivations))
		s.manage.Handle(s.mux, "POST /powerauth/activations/{id}/block", s.admin(s.adminActivation("block")))
		s.manage.Handle(s.mux, "POST /powerauth/activations/{id}/unblock", s.admin(s.adminActivation("unblock")))
		s.manage.Handle(s.mux, "DELETE /powerauth/activations/{id}", s.admin(s.adminActivation("remove")))
		s.manage.Handle(s.mux, "GET /powerauth/tokens", s.admin(s.adminListPATokens))
		s.manage.Handle(s.mux, "DELETE /powerauth/tokens/{id}", s.admin(s.adminRemovePAToken))
	}
}

type adminOAuthToken struct {
	ID        string     `json:"id"` // SHA-256 of the token: it names the record, it is not the token
	ClientID  string     `json:"client_id"`
	Scopes    []string   `json:"scopes"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// adminListOAuthTokens: newest first; ?client_id=, ?live=true.
func (s *Server) adminListOAuthTokens(w http.ResponseWriter, r *http.Request, _ string) {
	pg, after, ok := page(w, r)
	if !ok {
		return
	}
	q, ok := parseAdminQuery(w, r)
	if !ok {
		return
	}
	fs, ok := filters(w, r, "client_id")
	if !ok {
		return
	}
	f := storage.AccessTokenFilter{ClientID: fs["client_id"], Limit: pg.Limit() + 1, After: after}
	if q.live {
		f.LiveAt = s.deps.Now()
	}
	list, err := s.deps.Admin.ListAccessTokens(r.Context(), f)
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	manage.WriteList(w, r, pg, list, func(t storage.AccessToken) adminOAuthToken {
		return adminOAuthToken{ID: t.ID, ClientID: t.ClientID, Scopes: t.Scopes, CreatedAt: t.CreatedAt,
			ExpiresAt: t.ExpiresAt, RevokedAt: optionalTime(t.RevokedAt)}
	}, func(t storage.AccessToken) any { return timeCursorOf(t.CreatedAt, t.ID) })
}

func (s *Server) adminRevokeOAuthToken(w http.ResponseWriter, r *http.Request, admin string) {
	id := r.PathValue("id")
	t, err := s.deps.Admin.GetAccessToken(r.Context(), id)
	if err == nil {
		err = s.deps.Admin.RevokeAccessToken(r.Context(), id, s.deps.Now())
	}
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	s.deps.Audit.Record(storage.AuditEvent{Action: "admin.oauth_token.revoke", Outcome: "ok", Actor: admin, Subject: t.ClientID,
		ClientHost: s.clients.Host(r), Detail: "id=" + t.ID})
	w.WriteHeader(http.StatusNoContent)
}

type adminPowerAuthActivation struct {
	ID        string    `json:"id"`
	User      string    `json:"user"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// adminListActivations: PowerAuth activations, oldest first; ?user=, ?status= (active, blocked, removed).
func (s *Server) adminListActivations(w http.ResponseWriter, r *http.Request, _ string) {
	pg, after, ok := page(w, r)
	if !ok {
		return
	}
	fs, ok := filters(w, r, "user", "status")
	if !ok {
		return
	}
	status := storage.PowerAuthActivationStatus(fs["status"])
	switch status {
	case "", storage.PowerAuthActive, storage.PowerAuthBlocked, storage.PowerAuthRemoved:
	default:
		manage.FieldProblem(w, http.StatusBadRequest, "status", "status: want active, blocked or removed")
		return
	}
	list, err := s.deps.Admin.PagePowerAuthActivations(r.Context(), storage.PowerAuthActivationFilter{User: fs["user"], Status: status,
		Limit: pg.Limit() + 1, After: after})
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	manage.WriteList(w, r, pg, list, func(a storage.PowerAuthActivation) adminPowerAuthActivation {
		return adminPowerAuthActivation{ID: a.ID, User: a.User, Name: a.Name, Status: string(a.Status), CreatedAt: a.CreatedAt}
	}, func(a storage.PowerAuthActivation) any { return timeCursorOf(a.CreatedAt, a.ID) })
}

func (s *Server) adminActivation(op string) func(http.ResponseWriter, *http.Request, string) {
	return func(w http.ResponseWriter, r *http.Request, admin string) {
		var a storage.PowerAuthActivation
		var err error
		switch op {
		case "block":
			a, err = s.deps.PowerAuth.BlockActivation(r.Context(), r.PathValue("id"))
		case "unblock":
			a, err = s.deps.PowerAuth.UnblockActivation(r.Context(), r.PathValue("id"))
		default:
			a, err = s.deps.PowerAuth.RemoveActivation(r.Context(), "", r.PathValue("id"))
		}
		switch {
		case errors.Is(err, powerauth.ErrActivationState):
			manage.Problem(w, http.StatusConflict, err.Error())
			return
		case errors.Is(err, powerauth.ErrNoActivation):
			manage.Problem(w, http.StatusNotFound, "")
			return
		case err != nil:
			s.adminError(w, r, err)
			return
		}
		s.deps.Audit.Record(storage.AuditEvent{Action: "admin.powerauth_activation." + op, Outcome: "ok", Actor: admin, Subject: a.User,
			ClientHost: s.clients.Host(r), Detail: "activation=" + a.ID})
		w.WriteHeader(http.StatusNoContent)
	}
}

type adminPowerAuthToken struct {
	ID           string    `json:"id"`
	ActivationID string    `json:"activation_id"`
	CreatedAt    time.Time `json:"created_at"`
}

// adminListPATokens: PowerAuth MAC tokens, oldest first; ?activation=, ?user= (the activation's). Never the
// sealed secret.
func (s *Server) adminListPATokens(w http.ResponseWriter, r *http.Request, _ string) {
	pg, after, ok := page(w, r)
	if !ok {
		return
	}
	fs, ok := filters(w, r, "activation", "user")
	if !ok {
		return
	}
	list, err := s.deps.Admin.PagePowerAuthTokens(r.Context(), storage.PowerAuthTokenFilter{ActivationID: strings.ToLower(fs["activation"]),
		User: fs["user"], Limit: pg.Limit() + 1, After: after})
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	manage.WriteList(w, r, pg, list, func(t storage.PowerAuthToken) adminPowerAuthToken {
		return adminPowerAuthToken{ID: t.ID, ActivationID: t.ActivationID, CreatedAt: t.CreatedAt}
	}, func(t storage.PowerAuthToken) any { return timeCursorOf(t.CreatedAt, t.ID) })
}

func (s *Server) adminRemovePAToken(w http.ResponseWriter, r *http.Request, admin string) {
	id := r.PathValue("id")
	if _, err := s.deps.PowerAuth.RemoveToken(r.Context(), "", id, ""); err != nil {
		if errors.Is(err, powerauth.ErrNoToken) {
			manage.Problem(w, http.StatusNotFound, "")
			return
		}
		s.adminError(w, r, err)
		return
	}
	s.deps.Audit.Record(storage.AuditEvent{Action: "admin.powerauth_token.remove", Outcome: "ok", Actor: admin,
		ClientHost: s.clients.Host(r), Detail: "token=" + id})
	w.WriteHeader(http.StatusNoContent)
}

// unknownClient maps the API client service's not-found onto the admin API's 404.
func unknownClient(err error) bool { return errors.Is(err, apiclient.ErrUnknownClient) }

// licenseQuery reads ?product=ID&key=KEY, answering 400 when they are missing or malformed.
func licenseQuery(w http.ResponseWriter, r *http.Request) (int64, string, bool) {
	q := r.URL.Query()
	pid, err := strconv.ParseInt(q.Get("product"), 10, 64)
	if err != nil || pid <= 0 || q.Get("key") == "" {
		manage.Problem(w, http.StatusBadRequest, "want ?product=ID&key=KEY")
		return 0, "", false
	}
	return pid, q.Get("key"), true
}

func (s *Server) licenseAdminError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, license.ErrProductNotFound), errors.Is(err, license.ErrKeyNotFound), errors.Is(err, license.ErrNotActivated):
		manage.Problem(w, http.StatusNotFound, "")
	case errors.Is(err, license.ErrInvalidInput):
		manage.Problem(w, http.StatusBadRequest, "invalid key")
	default:
		s.adminError(w, r, err)
	}
}

type adminLicenseActivation struct {
	MachineCode       string     `json:"machine_code"`
	FriendlyName      string     `json:"friendly_name,omitempty"`
	IP                string     `json:"ip,omitempty"`
	Floating          bool       `json:"floating"`
	ActivatedAt       time.Time  `json:"activated_at"`
	FloatingExpiresAt *time.Time `json:"floating_expires_at,omitempty"`
}

// adminListLicenseActivations: the machines a license key (?product=&key=) is activated on, node-locked ones
// first, by machine code; ?machine= (the start of the code), ?floating=. A key has at most its machine limit
// of each kind, so the page is cut from one bounded read.
func (s *Server) adminListLicenseActivations(w http.ResponseWriter, r *http.Request, _ string) {
	pg, err := manage.ParsePage(r)
	if err != nil {
		manage.Problem(w, http.StatusBadRequest, err.Error())
		return
	}
	pid, key, ok := licenseQuery(w, r)
	if !ok {
		return
	}
	fs, ok := filters(w, r, "machine")
	if !ok {
		return
	}
	var floating *bool
	if v := r.URL.Query().Get("floating"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			manage.FieldProblem(w, http.StatusBadRequest, "floating", "floating: want true or false")
			return
		}
		floating = &b
	}
	d, err := s.deps.License.ShowKey(r.Context(), license.Admin(), pid, key)
	if err != nil {
		s.licenseAdminError(w, r, err)
		return
	}
	var sel []storage.Activation
	for _, a := range d.Activations {
		if strings.HasPrefix(a.MachineCode, fs["machine"]) && (floating == nil || *floating == a.Floating) {
			sel = append(sel, a)
		}
	}
	order := func(a storage.Activation) string { return fmt.Sprintf("%t/%s", a.Floating, a.MachineCode) }
	slices.SortFunc(sel, func(a, b storage.Activation) int { return strings.Compare(order(a), order(b)) })
	manage.PageByKey(w, r, pg, sel, order, func(a storage.Activation) adminLicenseActivation {
		return adminLicenseActivation{MachineCode: a.MachineCode, FriendlyName: a.FriendlyName, IP: a.IP, Floating: a.Floating,
			ActivatedAt: a.ActivatedAt, FloatingExpiresAt: optionalTime(a.FloatingExpiresAt)}
	})
}

// adminRemoveLicenseActivation frees a seat: ?product=&key=&machine=[&floating=true].
func (s *Server) adminRemoveLicenseActivation(w http.ResponseWriter, r *http.Request, admin string) {
	pid, key, ok := licenseQuery(w, r)
	if !ok {
		return
	}
	machine := r.URL.Query().Get("machine")
	floating, _ := strconv.ParseBool(r.URL.Query().Get("floating"))
	if err := s.deps.License.RemoveActivation(r.Context(), license.Admin(), pid, key, machine, floating); err != nil {
		s.licenseAdminError(w, r, err)
		return
	}
	prefix, _, _ := strings.Cut(key, "-")
	s.deps.Audit.Record(storage.AuditEvent{Action: "admin.license_activation.remove", Outcome: "ok", Actor: admin,
		ClientHost: s.clients.Host(r), Detail: fmt.Sprintf("product=%d key=%.5s-… machine=%q", pid, prefix, machine)})
	w.WriteHeader(http.StatusNoContent)
}
