package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tokenmanager/tokenmanager/appauth"
	"github.com/tokenmanager/tokenmanager/server/internal/reply"
	"github.com/tokenmanager/tokenmanager/server/manage"
	"github.com/tokenmanager/tokenmanager/storage"
)

// The admin API over app authorizations and the devices they registered: what every user authorized, and
// revocation. Same authentication and audit as admin.go; `tokenmanager appauth` does the same at the CLI.

func (s *Server) routeAppAuthAdmin() {
	if s.deps.Admin == nil || s.deps.AppAuth.Service == nil {
		return
	}
	s.manage.Handle(s.mux, "GET /app-authorizations", s.admin(s.adminListAppAuths))
	s.manage.Handle(s.mux, "GET /app-authorizations/{id}", s.admin(s.adminGetAppAuth))
	s.manage.Handle(s.mux, "DELETE /app-authorizations/{id}", s.admin(s.adminRevokeAppAuth))
	s.manage.Handle(s.mux, "GET /app-devices", s.admin(s.adminListAppDevices))
	s.manage.Handle(s.mux, "DELETE /app-devices", s.admin(s.adminRemoveAppDevice))
}

type adminAppAuth struct {
	ID             int64      `json:"id"`
	User           string     `json:"user"`
	Vendor         string     `json:"vendor"`
	State          string     `json:"state"` // approved, denied, revoked, expired, not collected, waiting for the app, active
	AppName        string     `json:"app_name"`
	DeviceName     string     `json:"device_name,omitempty"`
	MachineCode    string     `json:"machine_code,omitempty"`
	ParentTokenID  int64      `json:"parent_token_id"`
	Permissions    []string   `json:"permissions"`
	ProductLock    int64      `json:"product_lock"`
	KeyLock        int64      `json:"key_lock"`
	FeatureLock    int64      `json:"feature_lock"`
	LifetimeDays   float64    `json:"lifetime_days"`
	DecidedAt      time.Time  `json:"decided_at"`
	ChildTokenID   int64      `json:"api_token_id,omitempty"`
	IssuedAt       *time.Time `json:"issued_at,omitempty"`
	TokenExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt      *time.Time `json:"revoked_at,omitempty"`
}

func (s *Server) toAdminAppAuth(a storage.AppAuthorization) adminAppAuth {
	revoked := a.RevokedAt
	if revoked.IsZero() {
		revoked = a.TokenRevokedAt
	}
	perms := a.Permissions
	if perms == nil {
		perms = []string{}
	}
	return adminAppAuth{ID: a.ID, User: a.User, Vendor: a.Vendor, State: s.deps.AppAuth.Service.State(a), AppName: a.AppName,
		DeviceName: a.DeviceName, MachineCode: a.MachineCode, ParentTokenID: a.ParentTokenID, Permissions: perms,
		ProductLock: a.ProductLock, KeyLock: a.KeyLock, FeatureLock: a.FeatureLock, LifetimeDays: a.Lifetime.Hours() / 24,
		DecidedAt: a.DecidedAt, ChildTokenID: a.ChildTokenID, IssuedAt: optionalTime(a.IssuedAt),
		TokenExpiresAt: optionalTime(a.TokenExpiresAt), RevokedAt: optionalTime(revoked)}
}

type appAuthCursor struct {
	ID int64 `json:"id"`
}

// adminListAppAuths: newest first (by id); ?user=, ?vendor=, ?app= (the app's name).
func (s *Server) adminListAppAuths(w http.ResponseWriter, r *http.Request, _ string) {
	pg, err := manage.ParsePage(r)
	if err != nil {
		manage.Problem(w, http.StatusBadRequest, err.Error())
		return
	}
	fs, ok := filters(w, r, "user", "vendor", "app")
	if !ok {
		return
	}
	f := storage.AppAuthorizationFilter{User: fs["user"], Vendor: fs["vendor"], AppName: fs["app"], Limit: pg.Limit() + 1}
	var c appAuthCursor
	if ok, err := pg.Cursor(&c); err != nil || (ok && c.ID <= 0) {
		manage.Problem(w, http.StatusBadRequest, manage.ErrBadCursor.Error())
		return
	} else if ok {
		f.BeforeID = c.ID
	}
	list, err := s.deps.AppAuth.Service.List(r.Context(), f)
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	manage.WriteList(w, r, pg, list, s.toAdminAppAuth, func(a storage.AppAuthorization) any { return appAuthCursor{ID: a.ID} })
}

func (s *Server) adminAppAuthID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		manage.Problem(w, http.StatusNotFound, "")
		return 0, false
	}
	return id, true
}

func (s *Server) adminGetAppAuth(w http.ResponseWriter, r *http.Request, _ string) {
	id, ok := s.adminAppAuthID(w, r)
	if !ok {
		return
	}
	a, err := s.deps.AppAuth.Service.Get(r.Context(), id, "")
	if err != nil {
		s.adminAppAuthError(w, r, err)
		return
	}
	reply.JSON(w, http.StatusOK, s.toAdminAppAuth(a))
}

func (s *Server) adminRevokeAppAuth(w http.ResponseWriter, r *http.Request, admin string) {
	id, ok := s.adminAppAuthID(w, r)
	if !ok {
		return
	}
	a, err := s.deps.AppAuth.Service.Revoke(r.Context(), id, "")
	if err != nil {
		s.adminAppAuthError(w, r, err)
		return
	}
	s.deps.Audit.Record(storage.AuditEvent{Action: "admin.appauth.revoke", Outcome: "ok", Actor: admin, Subject: a.User,
		ClientHost: s.clients.Host(r), Detail: fmt.Sprintf("authorization=%d api_token=%d app=%q", a.ID, a.ChildTokenID, a.AppName)})
	w.WriteHeader(http.StatusNoContent)
}

type adminAppDevice struct {
	CustomerID   int64     `json:"customer_id"`
	Vendor       string    `json:"vendor"`
	User         string    `json:"user"`
	MachineCode  string    `json:"machine_code"`
	DeviceName   string    `json:"device_name"`
	RegisteredAt time.Time `json:"registered_at"`
}

type appDeviceCursor struct {
	At       int64  `json:"at"` // Unix microseconds
	Customer int64  `json:"customer"`
	Machine  string `json:"machine"`
}

// adminListAppDevices: in the order of registration; ?user=, ?vendor=.
func (s *Server) adminListAppDevices(w http.ResponseWriter, r *http.Request, _ string) {
	pg, err := manage.ParsePage(r)
	if err != nil {
		manage.Problem(w, http.StatusBadRequest, err.Error())
		return
	}
	fs, ok := filters(w, r, "user", "vendor")
	if !ok {
		return
	}
	f := storage.AppDeviceFilter{User: fs["user"], Vendor: fs["vendor"], Limit: pg.Limit() + 1}
	var c appDeviceCursor
	if ok, err := pg.Cursor(&c); err != nil || (ok && c.Machine == "") {
		manage.Problem(w, http.StatusBadRequest, manage.ErrBadCursor.Error())
		return
	} else if ok {
		f.AfterAt, f.AfterCustomer, f.AfterMachine = time.UnixMicro(c.At).UTC(), c.Customer, c.Machine
	}
	devs, err := s.deps.Admin.PageAppDevices(r.Context(), f)
	if err != nil {
		s.adminError(w, r, err)
		return
	}
	manage.WriteList(w, r, pg, devs, func(d storage.AppDevice) adminAppDevice {
		return adminAppDevice{CustomerID: d.CustomerID, Vendor: d.Vendor, User: d.User, MachineCode: d.MachineCode,
			DeviceName: d.DeviceName, RegisteredAt: d.RegisteredAt}
	}, func(d storage.AppDevice) any {
		return appDeviceCursor{At: d.RegisteredAt.UnixMicro(), Customer: d.CustomerID, Machine: d.MachineCode}
	})
}

func (s *Server) adminRemoveAppDevice(w http.ResponseWriter, r *http.Request, admin string) {
	q := r.URL.Query()
	customer, err := strconv.ParseInt(q.Get("customer"), 10, 64)
	if err != nil || customer <= 0 || q.Get("machine") == "" {
		manage.Problem(w, http.StatusBadRequest, "customer (an id) and machine are required")
		return
	}
	n, err := s.deps.AppAuth.Service.RemoveDevice(r.Context(), customer, q.Get("machine"), "")
	if err != nil {
		s.adminAppAuthError(w, r, err)
		return
	}
	s.deps.Audit.Record(storage.AuditEvent{Action: "admin.appauth.device.remove", Outcome: "ok", Actor: admin, ClientHost: s.clients.Host(r),
		Detail: fmt.Sprintf("customer=%d machine=%q authorizations_revoked=%d", customer, q.Get("machine"), n)})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) adminAppAuthError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, appauth.ErrNotFound) {
		manage.Problem(w, http.StatusNotFound, "")
		return
	}
	s.adminError(w, r, err)
}
