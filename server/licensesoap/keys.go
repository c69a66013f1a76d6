package licensesoap

import (
	"net/http"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/soap"
)

// getKeys and getProducts of the SOAP LicenseService: product/GetKeys and product/GetProducts on the same
// license.Service calls.

func (ls *Service) keyOps() map[string]operation {
	return map[string]operation{
		"getKeys":     ls.getKeys,
		"getProducts": ls.getProducts,
	}
}

func (ls *Service) getKeys(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &argReader{env: env}
	req := license.KeysRequest{ProductID: args.long("productId", true), OrderBy: args.str("orderBy", false),
		SearchQuery: args.str("searchQuery", false), Page: 1}
	if _, ok := args.text(env.Body, "page", false); ok {
		req.Page = args.int("page", false)
	}
	if err := args.err(); err != nil {
		return nil, err
	}
	page, err := ls.licenses.GetKeys(r.Context(), a, req)
	if err != nil {
		return nil, ls.fault(env, err)
	}
	_, op := env.Operation()
	return response{op: op, body: func(x *xmlWriter) {
		x.open("return")
		for _, l := range page.Keys {
			writeListedKeyXML(x, l)
		}
		x.long("returned", int64(page.Returned))
		x.long("total", int64(page.Total))
		x.long("pageCount", int64(page.PageCount))
		x.close("return")
	}}, nil
}

// writeListedKeyXML writes a key as the WSDL's tns:listedKey: what the caller may see, unsigned.
func writeListedKeyXML(x *xmlWriter, l license.License) {
	k, h := l.Key, l.Hidden
	x.open("licenseKey")
	x.long("productId", k.ProductID)
	if !h.Has(license.HideID) {
		x.long("id", k.ID)
	}
	if !h.Has(license.HideKey) {
		x.elem("key", k.Key)
	}
	x.time("created", k.CreatedAt)
	if !k.ExpiresAt.IsZero() {
		x.time("expires", k.ExpiresAt)
	}
	x.long("period", int64(k.Period))
	for i, on := range k.Features {
		x.bool("f"+string(rune('1'+i)), on)
	}
	if !h.Has(license.HideNotes) {
		x.elem("notes", k.Notes)
	}
	x.bool("block", k.Blocked || l.BlockedExpired)
	if !h.Has(license.HideGlobalID) {
		x.long("globalId", k.GlobalID)
	}
	if c := l.Customer; c != nil && !h.Has(license.HideCustomer) {
		x.open("customer")
		x.long("id", c.ID)
		x.elem("name", c.Name)
		x.elem("email", c.Email)
		x.elem("companyName", c.Company)
		x.time("created", c.CreatedAt)
		x.close("customer")
	}
	if k.ResellerID != 0 {
		x.long("resellerId", k.ResellerID)
	}
	x.bool("trialActivation", k.TrialActivation)
	if !h.Has(license.HideMaxNoOfMachines) {
		x.long("maxNoOfMachines", int64(k.MaxNoOfMachines))
	}
	if !h.Has(license.HideAllowedMachines) {
		x.elem("allowedMachines", k.AllowedMachines)
	}
	x.close("licenseKey")
}

func (ls *Service) getProducts(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	ps, err := ls.licenses.GetProducts(r.Context(), a)
	if err != nil {
		return nil, ls.fault(env, err)
	}
	_, op := env.Operation()
	return response{op: op, body: func(x *xmlWriter) {
		for _, p := range ps {
			x.open("return")
			x.long("id", p.ID)
			x.elem("name", p.Name)
			x.time("created", p.CreatedAt)
			x.close("return")
		}
	}}, nil
}
