package cryptolens

import (
	"context"
	"errors"

	"github.com/tokenmanager/tokenmanager/license"
)

// Key changes (key/AddFeature … key/MachineLockLimit), key/CreateKeyFromTemplate and the product listings
// (product/GetProducts, product/GetKeys) of the Cryptolens Web API. The key changes go through the licensing
// core's shared key update, which audits each as license.key.<method>.

func init() {
	for path, m := range keyMethods {
		methods[path] = m
	}
}

var keyMethods = map[string]struct {
	perm license.Method
	fn   method
}{
	"key/addfeature":            {license.MethodAddFeature, (*API).addFeature},
	"key/removefeature":         {license.MethodRemoveFeature, (*API).removeFeature},
	"key/changenotes":           {license.MethodChangeNotes, (*API).changeNotes},
	"key/changecustomer":        {license.MethodChangeCustomer, (*API).changeCustomer},
	"key/changereseller":        {license.MethodChangeReseller, (*API).changeReseller},
	"key/machinelocklimit":      {license.MethodMachineLockLimit, (*API).machineLockLimit},
	"key/createkeyfromtemplate": {license.MethodCreateKeyFromTemplate, (*API).createKeyFromTemplate},
	"product/getproducts":       {license.MethodGetProducts, (*API).getProducts},
	"product/getkeys":           {license.MethodGetKeys, (*API).getKeys},
}

// Messages of these methods that Cryptolens' reference does not list; written in its style.
const (
	msgNoReseller = "Could not find the reseller."
	msgNoTemplate = "Could not find the license template."
)

// keyMessage is the message of a reseller or template error; false for others. Message (and so the SOAP
// LicenseService) uses it.
func keyMessage(err error) (string, bool) {
	switch {
	case errors.Is(err, license.ErrResellerNotFound):
		return msgNoReseller, true
	case errors.Is(err, license.ErrTemplateNotFound):
		return msgNoTemplate, true
	}
	return "", false
}

// change runs one key change after reading ProductId and Key.
func change(c *call, fn func(pid int64, key string) error) (any, error) {
	pid, key := c.productID(), c.required("Key")
	if c.err != nil {
		return nil, c.err
	}
	if err := fn(pid, key); err != nil {
		return nil, err
	}
	return result{}, nil
}

func (api *API) feature(ctx context.Context, c *call, on bool) (any, error) {
	n := c.int("Feature", 0)
	return change(c, func(pid int64, key string) error {
		return api.License.AddFeature(ctx, c.access, pid, key, n, on)
	})
}

func (api *API) addFeature(ctx context.Context, c *call) (any, error) {
	return api.feature(ctx, c, true)
}

func (api *API) removeFeature(ctx context.Context, c *call) (any, error) {
	return api.feature(ctx, c, false)
}

func (api *API) changeNotes(ctx context.Context, c *call) (any, error) {
	notes := c.str("Notes")
	return change(c, func(pid int64, key string) error {
		return api.License.ChangeNotes(ctx, c.access, pid, key, notes)
	})
}

func (api *API) changeCustomer(ctx context.Context, c *call) (any, error) {
	id := c.int64("CustomerId", 0)
	return change(c, func(pid int64, key string) error {
		return api.License.ChangeCustomer(ctx, c.access, pid, key, id)
	})
}

func (api *API) changeReseller(ctx context.Context, c *call) (any, error) {
	id := c.int64("ResellerId", 0)
	return change(c, func(pid int64, key string) error {
		return api.License.ChangeReseller(ctx, c.access, pid, key, id)
	})
}

func (api *API) machineLockLimit(ctx context.Context, c *call) (any, error) {
	n := c.int("NumberOfMachines", 0)
	return change(c, func(pid int64, key string) error {
		return api.License.MachineLockLimit(ctx, c.access, pid, key, n)
	})
}

// templateKeyResult is CreateKeyFromTemplate's answer. rawResponse is Cryptolens' signed license when the
// template asks for one; templates here carry key parameters only, so it is null (the Python SDK reads it).
type templateKeyResult struct {
	Result      int     `json:"result"`
	Message     string  `json:"message"`
	Key         string  `json:"key"`
	RawResponse *string `json:"rawResponse"`
}

func (api *API) createKeyFromTemplate(ctx context.Context, c *call) (any, error) {
	id := c.int64("LicenseTemplateId", 0)
	if id <= 0 {
		c.fail("LicenseTemplateId", c.str("LicenseTemplateId"))
	}
	if c.err != nil {
		return nil, c.err
	}
	k, _, err := api.License.CreateKeyFromTemplate(ctx, c.access, id)
	if err != nil {
		return nil, err
	}
	return templateKeyResult{Key: k.Key}, nil
}

// --- product/GetProducts ---

// productJSON is Cryptolens' Product model as GetProducts lists it. Dates are ISO 8601, which the .NET SDK's
// DateTime fields parse. KeyAlgorithm 1 is SKM15, the only algorithm here.
type productJSON struct {
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

type productsResult struct {
	Result   int           `json:"result"`
	Message  string        `json:"message"`
	Products []productJSON `json:"products"`
}

func (api *API) getProducts(ctx context.Context, c *call) (any, error) {
	ps, err := api.License.GetProducts(ctx, c.access)
	if err != nil {
		return nil, err
	}
	out := productsResult{Products: make([]productJSON, 0, len(ps))}
	for _, p := range ps {
		out.Products = append(out.Products, productJSON{ID: p.ID, Name: p.Name, CreationDate: isoDate(p.CreatedAt),
			KeyAlgorithm: 1, DataObjects: []string{}})
	}
	return out, nil
}

// --- product/GetKeys ---

// listedKeyJSON is Cryptolens' LicenseKey model as GetKeys lists it: the fields of a signed license, but dates
// in ISO 8601 (the .NET SDK reads them into DateTime) and nothing signed. Fields the token's feature lock hides
// are null, as in GetKey.
type listedKeyJSON struct {
	ProductID         int64           `json:"ProductId"`
	ID                *int64          `json:"ID"`
	Key               *string         `json:"Key"`
	Created           string          `json:"Created"`
	Expires           string          `json:"Expires"`
	Period            int             `json:"Period"`
	F1                bool            `json:"F1"`
	F2                bool            `json:"F2"`
	F3                bool            `json:"F3"`
	F4                bool            `json:"F4"`
	F5                bool            `json:"F5"`
	F6                bool            `json:"F6"`
	F7                bool            `json:"F7"`
	F8                bool            `json:"F8"`
	Notes             *string         `json:"Notes"`
	Block             bool            `json:"Block"`
	GlobalID          *int64          `json:"GlobalId"`
	Customer          *listedCustomer `json:"Customer"`
	ActivatedMachines []listedMachine `json:"ActivatedMachines"`
	TrialActivation   bool            `json:"TrialActivation"`
	MaxNoOfMachines   *int            `json:"MaxNoOfMachines"`
	AllowedMachines   string          `json:"AllowedMachines"`
	DataObjects       []string        `json:"DataObjects"`
	Reseller          *listedReseller `json:"Reseller"`
}

type listedCustomer struct {
	ID          int64  `json:"Id"`
	Name        string `json:"Name"`
	Email       string `json:"Email"`
	CompanyName string `json:"CompanyName"`
	Created     string `json:"Created"`
}

type listedMachine struct {
	Mid             string  `json:"Mid"`
	IP              string  `json:"IP"`
	Time            string  `json:"Time"`
	FriendlyName    string  `json:"FriendlyName"`
	FloatingExpires *string `json:"FloatingExpires"`
}

type listedReseller struct {
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

type keysResult struct {
	Result      int             `json:"result"`
	Message     string          `json:"message"`
	LicenseKeys []listedKeyJSON `json:"licenseKeys"`
	Returned    int             `json:"returned"`
	Total       int             `json:"total"`
	PageCount   int             `json:"pageCount"`
}

func hidden[T any](hide bool, v T) *T {
	if hide {
		return nil
	}
	return &v
}

func listedKey(l license.License) listedKeyJSON {
	k, h := l.Key, l.Hidden
	out := listedKeyJSON{ProductID: k.ProductID, ID: hidden(h.Has(license.HideID), k.ID), Key: hidden(h.Has(license.HideKey), k.Key),
		Created: isoDate(k.CreatedAt), Expires: isoDate(k.ExpiresAt), Period: k.Period,
		F1: k.Features[0], F2: k.Features[1], F3: k.Features[2], F4: k.Features[3],
		F5: k.Features[4], F6: k.Features[5], F7: k.Features[6], F8: k.Features[7],
		Notes: hidden(h.Has(license.HideNotes), k.Notes), Block: k.Blocked || l.BlockedExpired,
		GlobalID: hidden(h.Has(license.HideGlobalID), k.GlobalID), ActivatedMachines: []listedMachine{},
		TrialActivation: k.TrialActivation, MaxNoOfMachines: hidden(h.Has(license.HideMaxNoOfMachines), k.MaxNoOfMachines),
		DataObjects: []string{}}
	if !h.Has(license.HideAllowedMachines) {
		out.AllowedMachines = k.AllowedMachines
	}
	if c := l.Customer; c != nil && !h.Has(license.HideCustomer) {
		out.Customer = &listedCustomer{ID: c.ID, Name: c.Name, Email: c.Email, CompanyName: c.Company, Created: isoDate(c.CreatedAt)}
	}
	if r := l.Reseller; r != nil {
		out.Reseller = &listedReseller{ID: r.ID, Created: isoDate(r.CreatedAt), Name: r.Name, URL: r.URL, Email: r.Email,
			Phone: r.Phone, Description: r.Description}
	}
	if !h.Has(license.HideActivatedMachines) {
		for _, m := range l.Machines {
			lm := listedMachine{Mid: license.Mid(m), IP: m.IP, Time: isoDate(m.ActivatedAt), FriendlyName: m.FriendlyName}
			if !m.FloatingExpiresAt.IsZero() {
				fe := isoDate(m.FloatingExpiresAt)
				lm.FloatingExpires = &fe
			}
			out.ActivatedMachines = append(out.ActivatedMachines, lm)
		}
	}
	return out
}

func (api *API) getKeys(ctx context.Context, c *call) (any, error) {
	req := license.KeysRequest{ProductID: c.productID(), Page: c.int("Page", 1), OrderBy: c.str("OrderBy"),
		SearchQuery: c.str("SearchQuery"), GlobalID: c.int64("GlobalId", 0)}
	if c.err != nil {
		return nil, c.err
	}
	page, err := api.License.GetKeys(ctx, c.access, req)
	if err != nil {
		return nil, err
	}
	out := keysResult{LicenseKeys: make([]listedKeyJSON, 0, len(page.Keys)), Returned: page.Returned, Total: page.Total,
		PageCount: page.PageCount}
	for _, l := range page.Keys {
		out.LicenseKeys = append(out.LicenseKeys, listedKey(l))
	}
	return out, nil
}
