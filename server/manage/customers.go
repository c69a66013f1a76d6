package manage

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

// A vendor's customers: the same core operations as the command line's customer commands and the customer/
// methods of the Cryptolens-compatible API. The customer secret is shown once, when POST …/secret makes it,
// and kept only as its SHA-256.

// customerRoutes are the routes of customers and of the licensing API tokens (apitokens.go).
func (a *API) customerRoutes() []route {
	return []route{
		{"GET", "/customers", a.anyone(a.listCustomers)},
		{"POST", "/customers", a.anyone(a.createCustomer)},
		{"GET", "/customers/{id}", a.anyone(a.getCustomer)},
		{"PATCH", "/customers/{id}", a.anyone(a.patchCustomer)},
		{"DELETE", "/customers/{id}", a.anyone(a.deleteCustomer)},
		{"GET", "/customers/{id}/licenses", a.anyone(a.customerLicenses)},
		{"POST", "/customers/{id}/secret", a.anyone(a.newCustomerSecret)},
		{"GET", "/api-tokens", a.anyone(a.listAPITokens)},
		{"POST", "/api-tokens", a.anyone(a.createAPIToken)},
		{"GET", "/api-tokens/{id}", a.anyone(a.getAPIToken)},
		{"DELETE", "/api-tokens/{id}", a.anyone(a.revokeAPIToken)},
	}
}

type customerView struct {
	ID                        int64     `json:"id"`
	Vendor                    string    `json:"vendor"`
	Name                      string    `json:"name"`
	Email                     string    `json:"email"`
	Company                   string    `json:"company"`
	Notes                     string    `json:"notes"`
	MaxDevices                int       `json:"max_devices"`
	EnableAssociation         bool      `json:"enable_association"`
	AllowActivationManagement bool      `json:"allow_activation_management"`
	AllowMultipleUsers        bool      `json:"allow_multiple_users"`
	User                      string    `json:"user,omitempty"` // the linked user account
	HasSecret                 bool      `json:"has_secret"`
	CreatedAt                 time.Time `json:"created_at"`
}

func toCustomerView(c storage.Customer) customerView { // never the secret's hash
	return customerView{ID: c.ID, Vendor: c.Vendor, Name: c.Name, Email: c.Email, Company: c.Company, Notes: c.Notes,
		MaxDevices: c.MaxNoOfDevices, EnableAssociation: c.Flags&storage.CustomerAssociation != 0,
		AllowActivationManagement: c.Flags&storage.CustomerActivationManagement != 0,
		AllowMultipleUsers:        c.Flags&storage.CustomerMultipleUsers != 0, User: c.User, HasSecret: c.SecretHash != "",
		CreatedAt: c.CreatedAt}
}

// customerETag covers what a PATCH changes; a new secret is not one (it is never shown again).
func customerETag(c storage.Customer) string {
	return etagOf("customer", c.ID, c.Vendor, c.Name, c.Email, c.Company, c.MaxNoOfDevices, c.Notes, c.Flags, c.User)
}

func customerPath(id int64) string { return Path + "/customers/" + strconv.FormatInt(id, 10) }

// customerCursor is the position of a page of customers, newest first: the last id answered.
type customerCursor struct {
	Before int64 `json:"before"`
}

// listCustomers: ?vendor=, ?search= (a part of the name, e-mail or company, any case); newest first.
func (a *API) listCustomers(w http.ResponseWriter, r *http.Request, p principal) {
	pq, err := parsePage(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, err.Error())
		return
	}
	var c customerCursor
	if pq.cursor != nil && (json.Unmarshal(pq.cursor, &c) != nil || c.Before <= 0) {
		Problem(w, http.StatusBadRequest, "cursor: not one this API handed out")
		return
	}
	q := r.URL.Query()
	if msg := checkText("search", q.Get("search"), license.MaxNameLen, false); msg != "" {
		Problem(w, http.StatusBadRequest, msg)
		return
	}
	acc, ok := a.licenseAccess(w, r, p)
	if !ok {
		return
	}
	cs, more, err := a.deps.License.FindCustomers(r.Context(), acc, license.CustomerSearch{Vendor: q.Get("vendor"),
		Search: q.Get("search"), BeforeID: c.Before, Limit: pq.limit})
	if err != nil {
		a.licenseError(w, r, err)
		return
	}
	out := make([]customerView, 0, len(cs))
	for _, cu := range cs {
		out = append(out, toCustomerView(cu))
	}
	next := ""
	if more {
		next = nextLink(r, customerCursor{Before: cs[len(cs)-1].ID})
	}
	writeList(w, out, next)
}

// checkText checks a text member of a body or query as the core will, answering "member: what is wrong" (or
// "" when it is fine), so that the problem names the member.
func checkText(member, v string, max int, lines bool) string {
	if lines { // line breaks and tabs are allowed in multi-line text; the core allows them too
		v = strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(v)
	}
	err := license.CheckText(member, v, max)
	if err == nil {
		return ""
	}
	msg := strings.TrimPrefix(err.Error(), license.ErrInvalidInput.Error()+": "+member+" ")
	return member + ": " + strings.TrimPrefix(msg, "is ")
}

type createCustomerBody struct {
	Vendor                    string `json:"vendor"`
	Name                      string `json:"name"`
	Email                     string `json:"email"`
	Company                   string `json:"company"`
	Notes                     string `json:"notes"`
	MaxDevices                int    `json:"max_devices"`
	EnableAssociation         bool   `json:"enable_association"`
	AllowActivationManagement bool   `json:"allow_activation_management"`
	AllowMultipleUsers        bool   `json:"allow_multiple_users"`
}

// customerFlag pairs a flag with its member, for create and PATCH alike.
func customerFlags(association, activation, multiple *bool) (flags, mask int) {
	for _, f := range []struct {
		v    *bool
		flag int
	}{{association, storage.CustomerAssociation}, {activation, storage.CustomerActivationManagement}, {multiple, storage.CustomerMultipleUsers}} {
		if f.v != nil {
			mask |= f.flag
			if *f.v {
				flags |= f.flag
			}
		}
	}
	return flags, mask
}

// checkCustomerFields checks the members a create or PATCH sets (nil: not set), answering the first problem.
func checkCustomerFields(name, email, company, notes *string, maxDevices *int) string {
	if name != nil && strings.TrimSpace(*name) == "" {
		return "name: a customer needs a name"
	}
	for _, f := range []struct {
		member string
		v      *string
		max    int
		lines  bool
	}{{"name", name, license.MaxNameLen, false}, {"email", email, license.MaxNameLen, false},
		{"company", company, license.MaxNameLen, false}, {"notes", notes, license.MaxCustomerNotesLen, true}} {
		if f.v != nil {
			if msg := checkText(f.member, *f.v, f.max, f.lines); msg != "" {
				return msg
			}
		}
	}
	if maxDevices != nil && (*maxDevices < 0 || *maxDevices > license.MaxMachines) {
		return fmt.Sprintf("max_devices: 0 (unlimited) to %d", license.MaxMachines)
	}
	return ""
}

func (a *API) createCustomer(w http.ResponseWriter, r *http.Request, p principal) {
	var b createCustomerBody
	if err := a.readJSON(w, r, &b); err != nil {
		badBody(w, err)
		return
	}
	if msg := checkCustomerFields(&b.Name, &b.Email, &b.Company, &b.Notes, &b.MaxDevices); msg != "" {
		Problem(w, http.StatusBadRequest, msg)
		return
	}
	if b.Vendor == "" {
		b.Vendor = p.vendor
	}
	if b.Vendor == "" {
		Problem(w, http.StatusBadRequest, "vendor: whose customer it is")
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
	flags, _ := customerFlags(&b.EnableAssociation, &b.AllowActivationManagement, &b.AllowMultipleUsers)
	c, err := a.deps.License.CreateCustomerWithSettings(a.coreContext(r, p), acc, b.Vendor, license.CustomerSettings{
		CustomerSpec: license.CustomerSpec{Name: b.Name, Email: b.Email, Company: b.Company, MaxNoOfDevices: b.MaxDevices},
		Notes:        b.Notes, Flags: flags})
	if err != nil {
		a.licenseError(w, r, err)
		return
	}
	w.Header().Set("Location", customerPath(c.ID))
	w.Header().Set("ETag", customerETag(c))
	writeJSON(w, http.StatusCreated, toCustomerView(c))
}

// customer reads the customer of the path that the principal reaches; 404 for another vendor's.
func (a *API) customer(w http.ResponseWriter, r *http.Request, p principal) (storage.Customer, *license.Access, bool) {
	return vendorObject(a, w, r, p, a.deps.License.Customer, a.licenseError)
}

func (a *API) getCustomer(w http.ResponseWriter, r *http.Request, p principal) {
	c, _, ok := a.customer(w, r, p)
	if !ok {
		return
	}
	w.Header().Set("ETag", customerETag(c))
	writeJSON(w, http.StatusOK, toCustomerView(c))
}

type patchCustomerBody struct {
	Name                      *string `json:"name"`
	Email                     *string `json:"email"`
	Company                   *string `json:"company"`
	Notes                     *string `json:"notes"`
	MaxDevices                *int    `json:"max_devices"`
	EnableAssociation         *bool   `json:"enable_association"`
	AllowActivationManagement *bool   `json:"allow_activation_management"`
	AllowMultipleUsers        *bool   `json:"allow_multiple_users"`
}

// patchCustomer changes the members sent, in one transaction that first checks If-Match.
func (a *API) patchCustomer(w http.ResponseWriter, r *http.Request, p principal) {
	c, acc, ok := a.customer(w, r, p)
	if !ok {
		return
	}
	match, ok := ifMatch(w, r)
	if !ok {
		return
	}
	var b patchCustomerBody
	if err := a.readJSON(w, r, &b); err != nil {
		badBody(w, err)
		return
	}
	if msg := checkCustomerFields(b.Name, b.Email, b.Company, b.Notes, b.MaxDevices); msg != "" {
		Problem(w, http.StatusBadRequest, msg)
		return
	}
	e := license.CustomerEdit{Name: b.Name, Email: b.Email, Company: b.Company, Notes: b.Notes, MaxNoOfDevices: b.MaxDevices}
	e.Flags, e.FlagMask = customerFlags(b.EnableAssociation, b.AllowActivationManagement, b.AllowMultipleUsers)
	ic, err := a.deps.License.UpdateCustomer(a.coreContext(r, p), acc, c.ID, e, precondition(match, customerETag))
	if err != nil {
		a.customerError(w, r, err)
		return
	}
	w.Header().Set("ETag", customerETag(ic.Customer))
	writeJSON(w, http.StatusOK, toCustomerView(ic.Customer))
}

type customerRemovalView struct {
	Keys     int `json:"keys"`
	EndUsers int `json:"end_users"`
	Devices  int `json:"devices"`
}

// deleteCustomer: 409 while the customer has license keys, unless ?force=true, which unlinks them (they stay
// in their products), dissociates the customer's end users and removes its devices in the same transaction.
func (a *API) deleteCustomer(w http.ResponseWriter, r *http.Request, p principal) {
	force, ok := queryFlag(w, r, "force")
	if !ok {
		return
	}
	c, acc, ok := a.customer(w, r, p)
	if !ok {
		return
	}
	rm, err := a.deps.License.DeleteCustomer(a.coreContext(r, p), acc, c.ID, force)
	if err != nil {
		a.customerError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, customerRemovalView{Keys: rm.Keys, EndUsers: rm.EndUsers, Devices: rm.Devices})
}

// customerLicenses: the customer's license keys in every product, paged by their global id.
func (a *API) customerLicenses(w http.ResponseWriter, r *http.Request, p principal) {
	pq, err := parsePage(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, err.Error())
		return
	}
	c, acc, ok := a.customer(w, r, p)
	if !ok {
		return
	}
	ks, err := a.deps.License.CustomerLicenseKeys(r.Context(), acc, c.ID)
	if err != nil {
		a.licenseError(w, r, err)
		return
	}
	pageByKey(w, r, pq, ks, func(k storage.LicenseKey) string { return fmt.Sprintf("%020d", k.GlobalID) }, toKeyView)
}

type customerSecretView struct {
	customerView
	Secret string `json:"secret"` // shown once
}

// newCustomerSecret replaces the customer's secret (GetCustomerLicensesBySecret's) with a new one, shown once.
func (a *API) newCustomerSecret(w http.ResponseWriter, r *http.Request, p principal) {
	c, acc, ok := a.customer(w, r, p)
	if !ok {
		return
	}
	ic, err := a.deps.License.UpdateCustomer(a.coreContext(r, p), acc, c.ID, license.CustomerEdit{NewSecret: true}, nil)
	if err != nil {
		a.customerError(w, r, err)
		return
	}
	w.Header().Set("ETag", customerETag(ic.Customer))
	writeJSON(w, http.StatusOK, customerSecretView{customerView: toCustomerView(ic.Customer), Secret: ic.Secret})
}

// customerError answers the refusal of a customer's delete, and the licensing core's other errors.
func (a *API) customerError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, license.ErrCustomerInUse) {
		Problem(w, http.StatusConflict, strings.TrimPrefix(err.Error(), license.ErrCustomerInUse.Error()+": ")+" (?force=true)")
		return
	}
	a.licenseError(w, r, err)
}
