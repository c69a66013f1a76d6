package server

import (
	"net/http"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/soap"
)

// getKeys and getProducts of the SOAP LicenseService: product/GetKeys and product/GetProducts on the same
// license.Service calls.

func (s *Server) licGetKeys(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &licSOAPArgs{env: env}
	req := license.KeysRequest{ProductID: args.long("productId", true), OrderBy: args.str("orderBy", false),
		SearchQuery: args.str("searchQuery", false), Page: 1}
	if _, ok := args.text(env.Body, "page", false); ok {
		req.Page = args.int("page", false)
	}
	if err := args.err(); err != nil {
		return nil, err
	}
	page, err := s.deps.License.GetKeys(r.Context(), a, req)
	if err != nil {
		return nil, s.licenseFault(env, err)
	}
	_, op := env.Operation()
	return licResponse{op: op, body: func(x *licXMLWriter) {
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
func writeListedKeyXML(x *licXMLWriter, l license.License) {
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

func (s *Server) licGetProducts(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	ps, err := s.deps.License.GetProducts(r.Context(), a)
	if err != nil {
		return nil, s.licenseFault(env, err)
	}
	_, op := env.Operation()
	return licResponse{op: op, body: func(x *licXMLWriter) {
		for _, p := range ps {
			x.open("return")
			x.long("id", p.ID)
			x.elem("name", p.Name)
			x.time("created", p.CreatedAt)
			x.close("return")
		}
	}}, nil
}
