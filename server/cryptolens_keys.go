package server

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

// Key changes (key/AddFeature … key/MachineLockLimit), key/CreateKeyFromTemplate and the product listings
// (product/GetProducts, product/GetKeys) of the Cryptolens Web API.

// Messages of these methods that Cryptolens' reference does not list; written in its style.
const (
	clMsgNoReseller = "Could not find the reseller."
	clMsgNoTemplate = "Could not find the license template."
)

// auditKeyChange records a change a licensing call made, naming the key only by its first block (a whole key
// is a secret of the customer's).
func (s *Server) auditKeyChange(c *cryptolensCall, action string, product int64, key, detail string) {
	prefix, _, _ := strings.Cut(key, "-")
	if len(prefix) > 5 {
		prefix = prefix[:5]
	}
	s.deps.Audit.Record(storage.AuditEvent{Action: action, Outcome: "ok", Actor: c.access.VendorName(), ClientHost: c.clientIP,
		Detail: fmt.Sprintf("product=%d key=%s-… %s", product, prefix, detail)})
}

// clChange runs one key change after reading ProductId and Key, and audits it.
func (s *Server) clChange(ctx context.Context, c *cryptolensCall, action, detail string,
	change func(pid int64, key string) error) (any, error) {
	pid, key := c.productID(), c.required("Key")
	if c.err != nil {
		return nil, c.err
	}
	if err := change(pid, key); err != nil {
		return nil, err
	}
	s.auditKeyChange(c, action, pid, key, detail)
	return clResult{}, nil
}

func (s *Server) clFeature(ctx context.Context, c *cryptolensCall, on bool) (any, error) {
	n := c.int("Feature", 0)
	action := "license.key.addfeature"
	if !on {
		action = "license.key.removefeature"
	}
	return s.clChange(ctx, c, action, fmt.Sprintf("feature=%d", n), func(pid int64, key string) error {
		return s.deps.License.AddFeature(ctx, c.access, pid, key, n, on)
	})
}

func (s *Server) clAddFeature(ctx context.Context, c *cryptolensCall) (any, error) {
	return s.clFeature(ctx, c, true)
}

func (s *Server) clRemoveFeature(ctx context.Context, c *cryptolensCall) (any, error) {
	return s.clFeature(ctx, c, false)
}

func (s *Server) clChangeNotes(ctx context.Context, c *cryptolensCall) (any, error) {
	notes := c.str("Notes")
	return s.clChange(ctx, c, "license.key.changenotes", "", func(pid int64, key string) error {
		return s.deps.License.ChangeNotes(ctx, c.access, pid, key, notes)
	})
}

func (s *Server) clChangeCustomer(ctx context.Context, c *cryptolensCall) (any, error) {
	id := c.int64("CustomerId", 0)
	return s.clChange(ctx, c, "license.key.changecustomer", fmt.Sprintf("customer=%d", id), func(pid int64, key string) error {
		return s.deps.License.ChangeCustomer(ctx, c.access, pid, key, id)
	})
}

func (s *Server) clChangeReseller(ctx context.Context, c *cryptolensCall) (any, error) {
	id := c.int64("ResellerId", 0)
	return s.clChange(ctx, c, "license.key.changereseller", fmt.Sprintf("reseller=%d", id), func(pid int64, key string) error {
		return s.deps.License.ChangeReseller(ctx, c.access, pid, key, id)
	})
}

func (s *Server) clMachineLockLimit(ctx context.Context, c *cryptolensCall) (any, error) {
	n := c.int("NumberOfMachines", 0)
	return s.clChange(ctx, c, "license.key.machinelocklimit", fmt.Sprintf("machines=%d", n), func(pid int64, key string) error {
		return s.deps.License.MachineLockLimit(ctx, c.access, pid, key, n)
	})
}

// clTemplateKeyResult is CreateKeyFromTemplate's answer. rawResponse is Cryptolens' signed license when the
// template asks for one; templates here carry key parameters only, so it is null (the Python SDK reads it).
type clTemplateKeyResult struct {
	Result      int     `json:"result"`
	Message     string  `json:"message"`
	Key         string  `json:"key"`
	RawResponse *string `json:"rawResponse"`
}

func (s *Server) clCreateKeyFromTemplate(ctx context.Context, c *cryptolensCall) (any, error) {
	id := c.int64("LicenseTemplateId", 0)
	if id <= 0 {
		c.fail("LicenseTemplateId", c.str("LicenseTemplateId"))
	}
	if c.err != nil {
		return nil, c.err
	}
	k, t, err := s.deps.License.CreateKeyFromTemplate(ctx, c.access, id)
	if err != nil {
		return nil, err
	}
	s.auditKeyChange(c, "license.key.createfromtemplate", t.ProductID, k.Key, fmt.Sprintf("template=%d", t.ID))
	return clTemplateKeyResult{Key: k.Key}, nil
}

// --- product/GetProducts ---

// clProduct is Cryptolens' Product model as GetProducts lists it. Dates are ISO 8601, which the .NET SDK's
// DateTime fields parse. KeyAlgorithm 1 is SKM15, the only algorithm here.
type clProduct struct {
	ID                 int64    `json:"Id"`
	Name               string   `json:"Name"`
	CreationDate       string   `json:"CreationDate"`
	Description        string   `json:"Description"`
	Password           *string  `json:"Password"`
	IsPublic           bool     `json:"IsPublic"`
	KeyAlgorithm       int      `json:"KeyAlgorithm"`
	FeatureDefinitions any      `json:"FeatureDefinitions"`
	DataObjects        []string `json:"DataObjects"`
}

type clProductsResult struct {
	Result   int         `json:"result"`
	Message  string      `json:"message"`
	Products []clProduct `json:"products"`
}

// isoTime is Cryptolens' JSON date outside signed licenses; the zero time is the .NET epoch.
func isoTime(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

func (s *Server) clGetProducts(ctx context.Context, c *cryptolensCall) (any, error) {
	ps, err := s.deps.License.GetProducts(ctx, c.access)
	if err != nil {
		return nil, err
	}
	out := clProductsResult{Products: make([]clProduct, 0, len(ps))}
	for _, p := range ps {
		out.Products = append(out.Products, clProduct{ID: p.ID, Name: p.Name, CreationDate: isoTime(p.CreatedAt),
			KeyAlgorithm: 1, DataObjects: []string{}})
	}
	return out, nil
}

// --- product/GetKeys ---

// clListedKey is Cryptolens' LicenseKey model as GetKeys lists it: the fields of a signed license, but dates
// in ISO 8601 (the .NET SDK reads them into DateTime) and nothing signed. Fields the token's feature lock hides
// are null, as in GetKey.
type clListedKey struct {
	ProductID         int64             `json:"ProductId"`
	ID                *int64            `json:"ID"`
	Key               *string           `json:"Key"`
	Created           string            `json:"Created"`
	Expires           string            `json:"Expires"`
	Period            int               `json:"Period"`
	F1                bool              `json:"F1"`
	F2                bool              `json:"F2"`
	F3                bool              `json:"F3"`
	F4                bool              `json:"F4"`
	F5                bool              `json:"F5"`
	F6                bool              `json:"F6"`
	F7                bool              `json:"F7"`
	F8                bool              `json:"F8"`
	Notes             *string           `json:"Notes"`
	Block             bool              `json:"Block"`
	GlobalID          *int64            `json:"GlobalId"`
	Customer          *clListedCustomer `json:"Customer"`
	ActivatedMachines []clListedMachine `json:"ActivatedMachines"`
	TrialActivation   bool              `json:"TrialActivation"`
	MaxNoOfMachines   *int              `json:"MaxNoOfMachines"`
	AllowedMachines   string            `json:"AllowedMachines"`
	DataObjects       []string          `json:"DataObjects"`
	Reseller          *clListedReseller `json:"Reseller"`
}

type clListedCustomer struct {
	ID          int64  `json:"Id"`
	Name        string `json:"Name"`
	Email       string `json:"Email"`
	CompanyName string `json:"CompanyName"`
	Created     string `json:"Created"`
}

type clListedMachine struct {
	Mid             string  `json:"Mid"`
	IP              string  `json:"IP"`
	Time            string  `json:"Time"`
	FriendlyName    string  `json:"FriendlyName"`
	FloatingExpires *string `json:"FloatingExpires"`
}

type clListedReseller struct {
	ID             int64  `json:"Id"`
	InviteID       int64  `json:"InviteId"`
	ResellerUserID int64  `json:"ResellerUserId"`
	Created        string `json:"Created"`
	Name           string `json:"Name"`
	URL            string `json:"Url"`
	Email          string `json:"Email"`
	Phone          string `json:"Phone"`
	Description    string `json:"Description"`
}

type clKeysResult struct {
	Result      int           `json:"result"`
	Message     string        `json:"message"`
	LicenseKeys []clListedKey `json:"licenseKeys"`
	Returned    int           `json:"returned"`
	Total       int           `json:"total"`
	PageCount   int           `json:"pageCount"`
}

func hidden[T any](hide bool, v T) *T {
	if hide {
		return nil
	}
	return &v
}

func listedKey(l license.License) clListedKey {
	k, h := l.Key, l.Hidden
	out := clListedKey{ProductID: k.ProductID, ID: hidden(h.Has(license.HideID), k.ID), Key: hidden(h.Has(license.HideKey), k.Key),
		Created: isoTime(k.CreatedAt), Expires: isoTime(k.ExpiresAt), Period: k.Period,
		F1: k.Features[0], F2: k.Features[1], F3: k.Features[2], F4: k.Features[3],
		F5: k.Features[4], F6: k.Features[5], F7: k.Features[6], F8: k.Features[7],
		Notes: hidden(h.Has(license.HideNotes), k.Notes), Block: k.Blocked || l.BlockedExpired,
		GlobalID: hidden(h.Has(license.HideGlobalID), k.GlobalID), ActivatedMachines: []clListedMachine{},
		TrialActivation: k.TrialActivation, MaxNoOfMachines: hidden(h.Has(license.HideMaxNoOfMachines), k.MaxNoOfMachines),
		DataObjects: []string{}}
	if !h.Has(license.HideAllowedMachines) {
		out.AllowedMachines = k.AllowedMachines
	}
	if c := l.Customer; c != nil && !h.Has(license.HideCustomer) {
		out.Customer = &clListedCustomer{ID: c.ID, Name: c.Name, Email: c.Email, CompanyName: c.Company, Created: isoTime(c.CreatedAt)}
	}
	if r := l.Reseller; r != nil {
		out.Reseller = &clListedReseller{ID: r.ID, Created: isoTime(r.CreatedAt), Name: r.Name, URL: r.URL, Email: r.Email,
			Phone: r.Phone, Description: r.Description}
	}
	if !h.Has(license.HideActivatedMachines) {
		for _, m := range l.Machines {
			lm := clListedMachine{Mid: license.Mid(m), IP: m.IP, Time: isoTime(m.ActivatedAt), FriendlyName: m.FriendlyName}
			if !m.FloatingExpiresAt.IsZero() {
				fe := isoTime(m.FloatingExpiresAt)
				lm.FloatingExpires = &fe
			}
			out.ActivatedMachines = append(out.ActivatedMachines, lm)
		}
	}
	return out
}

func (s *Server) clGetKeys(ctx context.Context, c *cryptolensCall) (any, error) {
	req := license.KeysRequest{ProductID: c.productID(), Page: c.int("Page", 1), OrderBy: c.str("OrderBy"),
		SearchQuery: c.str("SearchQuery"), GlobalID: c.int64("GlobalId", 0)}
	if c.err != nil {
		return nil, c.err
	}
	page, err := s.deps.License.GetKeys(ctx, c.access, req)
	if err != nil {
		return nil, err
	}
	out := clKeysResult{LicenseKeys: make([]clListedKey, 0, len(page.Keys)), Returned: page.Returned, Total: page.Total,
		PageCount: page.PageCount}
	for _, l := range page.Keys {
		out.LicenseKeys = append(out.LicenseKeys, listedKey(l))
	}
	return out, nil
}
