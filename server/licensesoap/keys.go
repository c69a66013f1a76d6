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
	x.open("licenseKey")
	writeKeyHead(x, l)
	if r := l.Key.ResellerID; r != 0 {
		x.long("resellerId", r)
	}
	writeKeyLimits(x, l)
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
