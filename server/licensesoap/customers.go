package licensesoap

import (
	"fmt"
	"net/http"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server/cryptolens"
	"github.com/tokenmanager/tokenmanager/soap"
	"github.com/tokenmanager/tokenmanager/storage"
)

// The customer operations: the vendor's customers and their licenses, on the same license.Service calls as
// the Cryptolens API's customer/ methods.

func (ls *Service) customerOps() map[string]operation {
	return map[string]operation{
		"addCustomer":                 ls.addCustomer,
		"editCustomer":                ls.editCustomer,
		"getCustomers":                ls.getCustomers,
		"removeCustomer":              ls.removeCustomer,
		"getCustomerLicenses":         ls.getCustomerLicenses,
		"getCustomerLicensesBySecret": ls.getCustomerLicensesBySecret,
	}
}

// customerFault is fault, with the messages of the customer methods.
func (ls *Service) customerFault(env *soap.Envelope, err error) error {
	if msg, ok := cryptolens.CustomerMessage(err); ok {
		return soap.ClientFault(env.Version, msg)
	}
	return ls.fault(env, err)
}

func (ls *Service) audit(r *http.Request, a *license.Access, action, detail string, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "refused: " + err.Error()
	}
	ls.env.Audit.Record(storage.AuditEvent{Action: action, Outcome: outcome, Actor: a.VendorName(), ClientHost: ls.env.Clients.Host(r),
		Detail: detail + " via=soap"})
}

var customerFlags = []struct {
	name string
	flag int
}{
	{"enableCustomerAssociation", storage.CustomerAssociation},
	{"allowActivationManagement", storage.CustomerActivationManagement},
	{"allowMultipleUserAssociation", storage.CustomerMultipleUsers},
}

// issuedCustomer answers tns:issuedCustomer: the id, and the secret when one was made.
func issuedCustomer(env *soap.Envelope, ic license.IssuedCustomer) soap.Response {
	_, op := env.Operation()
	return response{op: op, body: func(x *xmlWriter) {
		x.open("return")
		x.long("customerId", ic.Customer.ID)
		if ic.Secret != "" {
			x.elem("secret", ic.Secret)
		}
		x.close("return")
	}}
}

func (ls *Service) addCustomer(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &argReader{env: env}
	spec := license.CustomerSettings{CustomerSpec: license.CustomerSpec{Name: args.str("name", false), Email: args.str("email", false),
		Company: args.str("companyName", false), MaxNoOfDevices: args.int("maxNoOfDevices", false)}, Notes: args.str("notes", false)}
	for _, f := range customerFlags {
		if args.boolean(f.name) {
			spec.Flags |= f.flag
		}
	}
	if err := args.err(); err != nil {
		return nil, err
	}
	ic, err := ls.licenses.AddCustomer(r.Context(), a, spec)
	ls.audit(r, a, "customer.add", fmt.Sprintf("customer=%d", ic.Customer.ID), err)
	if err != nil {
		return nil, ls.customerFault(env, err)
	}
	return issuedCustomer(env, ic), nil
}

func (ls *Service) editCustomer(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &argReader{env: env}
	id := args.long("customerId", true)
	var e license.CustomerEdit
	for _, f := range []struct {
		name string
		dst  **string
	}{{"name", &e.Name}, {"email", &e.Email}, {"companyName", &e.Company}} {
		if v, ok := args.text(env.Body, f.name, false); ok {
			*f.dst = &v
		}
	}
	if soapChild(env.Body, "maxNoOfDevices") != nil {
		n := args.int("maxNoOfDevices", false)
		e.MaxNoOfDevices = &n
	}
	for _, f := range customerFlags {
		if soapChild(env.Body, f.name) != nil {
			e.FlagMask |= f.flag
			if args.boolean(f.name) {
				e.Flags |= f.flag
			}
		}
	}
	e.NewSecret = args.boolean("newSecret")
	if err := args.err(); err != nil {
		return nil, err
	}
	ic, err := ls.licenses.EditCustomer(r.Context(), a, id, e)
	ls.audit(r, a, "customer.edit", fmt.Sprintf("customer=%d new_secret=%t", id, e.NewSecret), err)
	if err != nil {
		return nil, ls.customerFault(env, err)
	}
	return issuedCustomer(env, ic), nil
}

func (ls *Service) getCustomers(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &argReader{env: env}
	f := license.CustomerFilter{Search: args.str("search", false), Limit: args.int("limit", false), ID: args.long("customerId", false)}
	if err := args.err(); err != nil {
		return nil, err
	}
	list, err := ls.licenses.GetCustomers(r.Context(), a, f)
	if err != nil {
		return nil, ls.customerFault(env, err)
	}
	_, op := env.Operation()
	return response{op: op, body: func(x *xmlWriter) {
		for _, c := range list {
			x.open("return")
			x.long("id", c.ID)
			x.elem("name", c.Name)
			x.elem("email", c.Email)
			x.elem("companyName", c.Company)
			x.time("created", c.CreatedAt)
			x.elem("notes", c.Notes)
			x.long("maxNoOfDevices", int64(c.MaxNoOfDevices))
			for _, f := range customerFlags {
				x.bool(f.name, c.Flags&f.flag != 0)
			}
			x.close("return")
		}
	}}, nil
}

func (ls *Service) removeCustomer(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &argReader{env: env}
	id := args.long("customerId", true)
	if err := args.err(); err != nil {
		return nil, err
	}
	err := ls.licenses.RemoveCustomer(r.Context(), a, id)
	ls.audit(r, a, "customer.remove", fmt.Sprintf("customer=%d", id), err)
	if err != nil {
		return nil, ls.customerFault(env, err)
	}
	return emptyResponse(env), nil
}

// customerLicenses answers tns:customerLicense elements: the keys' plain fields, unsigned (GetKey signs one).
func customerLicenses(env *soap.Envelope, keys []license.LicenseKeyObject) soap.Response {
	_, op := env.Operation()
	return response{op: op, body: func(x *xmlWriter) {
		for _, k := range keys {
			x.open("return")
			x.long("productId", k.ProductID)
			if k.ID != 0 {
				x.long("id", k.ID)
			}
			if k.Key != nil {
				x.elem("key", *k.Key)
			}
			x.elem("created", k.Created)
			x.elem("expires", k.Expires)
			x.long("period", int64(k.Period))
			x.bool("block", k.Block)
			if k.GlobalID != 0 {
				x.long("globalId", k.GlobalID)
			}
			x.close("return")
		}
	}}
}

func (ls *Service) getCustomerLicenses(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &argReader{env: env}
	id := args.long("customerId", true)
	if err := args.err(); err != nil {
		return nil, err
	}
	keys, err := ls.licenses.GetCustomerLicenses(r.Context(), a, id)
	if err != nil {
		return nil, ls.customerFault(env, err)
	}
	return customerLicenses(env, keys), nil
}

func (ls *Service) getCustomerLicensesBySecret(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &argReader{env: env}
	secret := args.str("secret", true)
	if err := args.err(); err != nil {
		return nil, err
	}
	keys, err := ls.licenses.GetCustomerLicensesBySecret(r.Context(), a, secret)
	if err != nil {
		return nil, ls.customerFault(env, err)
	}
	return customerLicenses(env, keys), nil
}
