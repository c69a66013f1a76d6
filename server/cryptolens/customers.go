package cryptolens

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

// The customer/ and userauth/ methods (entries in methods, customerMethods below): a vendor's customers and
// its end-user accounts. userauth/Login answers as Cryptolens does (the user's license keys) for a token with
// UserAuthNormal or UserAuthAdmin, and keeps this server's password variant of User Login Auth (a child
// token, appauth.go) for a parent token with GetToken alone.

func init() {
	for path, m := range customerMethods {
		methods[path] = m
	}
}

var customerMethods = map[string]struct {
	perm license.Method
	fn   method
}{
	"customer/addcustomer":                 {license.MethodAddCustomer, (*API).addCustomer},
	"customer/editcustomer":                {license.MethodEditCustomer, (*API).editCustomer},
	"customer/getcustomers":                {license.MethodGetCustomers, (*API).getCustomers},
	"customer/removecustomer":              {license.MethodRemoveCustomer, (*API).removeCustomer},
	"customer/getcustomerlicenses":         {license.MethodGetCustomerLicenses, (*API).getCustomerLicenses},
	"customer/getcustomerlicensesbysecret": {license.MethodGetCustomerLicensesBySecret, (*API).getCustomerLicensesBySecret},
	"userauth/login":                       {"", (*API).userAuthLogin}, // either answer; each checks its permission
	"userauth/register":                    {license.MethodUserAuthAdmin, (*API).registerUser},
	"userauth/associate":                   {license.MethodUserAuthAdmin, (*API).associateUser},
	"userauth/dissociate":                  {license.MethodUserAuthAdmin, (*API).dissociateUser},
	"userauth/getusers":                    {license.MethodUserAuthAdmin, (*API).getUsers},
	"userauth/changepassword":              {"", (*API).changePassword}, // UserAuthNormal or UserAuthAdmin
	"userauth/resetpasswordtoken":          {license.MethodUserAuthAdmin, (*API).resetPasswordToken},
	"userauth/removeuser":                  {license.MethodUserAuthAdmin, (*API).removeUser},
}

// Messages of the customer/ and userauth/ methods: Cryptolens' documented userauth messages, and ours for
// what it does not document.
const (
	msgUserExists       = "Username already exists. Please pick a different one."
	msgPasswordNotSaved = "Could not update the password."
	msgNoUser           = "The user could not be found."
)

// CustomerMessage is the message of an error of the customer/ and userauth/ methods that Message does not
// know; false for others. The SOAP LicenseService shares it.
func CustomerMessage(err error) (string, bool) {
	switch {
	case errors.Is(err, license.ErrEndUserExists):
		return msgUserExists, true
	case errors.Is(err, license.ErrPasswordNotChanged): // before: it may wrap ErrBadUserCredentials
		return msgPasswordNotSaved, true
	case errors.Is(err, license.ErrBadUserCredentials), errors.Is(err, auth.ErrBadCredentials):
		return msgBadUser, true
	case errors.Is(err, license.ErrEndUserNotFound):
		return msgNoUser, true
	}
	return "", false
}

// userError gives the customer and userauth errors their messages; others pass through to message.
func userError(err error) error {
	if err == nil {
		return nil
	}
	if throttled := (*auth.ThrottledError)(nil); errors.As(err, &throttled) {
		secs := int((throttled.RetryAfter + time.Second - 1) / time.Second)
		return &messageError{msg: "Too many failed sign-ins. Try again in " + strconv.Itoa(secs) + " seconds.", err: err}
	}
	if msg, ok := CustomerMessage(err); ok {
		return &messageError{msg: msg, err: err}
	}
	return err
}

// audit records a change of a customer or end user, refused or not. Secrets and passwords never appear.
func (api *API) audit(c *call, action, detail string, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "refused: " + err.Error()
	}
	api.env.Audit.Record(storage.AuditEvent{Action: action, Outcome: outcome, Actor: c.access.VendorName(), ClientHost: c.clientIP,
		Detail: detail})
}

// optBool reads a boolean that may be left out (.NET sends an unset bool? as ""): nil when absent.
func (c *call) optBool(name string) *bool {
	if strings.TrimSpace(c.str(name)) == "" {
		return nil
	}
	v := c.bool(name)
	return &v
}

// optStr reads a text that may be left out: nil when absent or empty (.NET sends an unset string as "").
func (c *call) optStr(name string) *string {
	v := c.str(name)
	if v == "" {
		return nil
	}
	return &v
}

func (c *call) customerID(required bool) int64 {
	id := c.int64("CustomerId", 0)
	if id < 0 || (required && id == 0) {
		c.fail("CustomerId", c.str("CustomerId"))
	}
	return id
}

// customerJSON is a customer as the .NET SDK's Customer reads it (Id, Name, Email, CompanyName, Created as an
// ISO 8601 date), with Cryptolens' settings after.
type customerJSON struct {
	ID                           int64  `json:"id"`
	Name                         string `json:"name"`
	Email                        string `json:"email"`
	CompanyName                  string `json:"companyName"`
	Created                      string `json:"created"`
	Notes                        string `json:"notes"`
	MaxNoOfDevices               int    `json:"maxNoOfDevices"`
	EnableCustomerAssociation    bool   `json:"enableCustomerAssociation"`
	AllowActivationManagement    bool   `json:"allowActivationManagement"`
	AllowMultipleUserAssociation bool   `json:"allowMultipleUserAssociation"`
}

func isoDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func toCustomerJSON(c storage.Customer) customerJSON {
	return customerJSON{ID: c.ID, Name: c.Name, Email: c.Email, CompanyName: c.Company, Created: isoDate(c.CreatedAt), Notes: c.Notes,
		MaxNoOfDevices: c.MaxNoOfDevices, EnableCustomerAssociation: c.Flags&storage.CustomerAssociation != 0,
		AllowActivationManagement:    c.Flags&storage.CustomerActivationManagement != 0,
		AllowMultipleUserAssociation: c.Flags&storage.CustomerMultipleUsers != 0}
}

// flagParams are the customer flags by parameter name.
var flagParams = []struct {
	name string
	flag int
}{
	{"EnableCustomerAssociation", storage.CustomerAssociation},
	{"AllowActivationManagement", storage.CustomerActivationManagement},
	{"AllowMultipleUserAssociation", storage.CustomerMultipleUsers},
}

// addCustomerResult is the .NET SDK's AddCustomerResult (and EditCustomerResult). The secret is shown when it
// is made, and null otherwise; there is no customer portal, so portalLink is null.
type addCustomerResult struct {
	Result     int     `json:"result"`
	Message    string  `json:"message"`
	CustomerID int64   `json:"customerId"`
	PortalLink *string `json:"portalLink"`
	Secret     *string `json:"secret"`
}

func issuedCustomerResult(ic license.IssuedCustomer) addCustomerResult {
	out := addCustomerResult{CustomerID: ic.Customer.ID}
	if ic.Secret != "" {
		out.Secret = &ic.Secret
	}
	return out
}

func (api *API) addCustomer(ctx context.Context, c *call) (any, error) {
	spec := license.CustomerSettings{CustomerSpec: license.CustomerSpec{Name: c.str("Name"), Email: c.str("Email"),
		Company: c.str("CompanyName"), MaxNoOfDevices: c.int("MaxNoOfDevices", 0)}, Notes: c.str("Notes")}
	for _, f := range flagParams {
		if c.bool(f.name) {
			spec.Flags |= f.flag
		}
	}
	if c.err != nil {
		return nil, c.err
	}
	ic, err := api.License.AddCustomer(ctx, c.access, spec)
	api.audit(c, "customer.add", fmt.Sprintf("customer=%d", ic.Customer.ID), err)
	if err != nil {
		return nil, err
	}
	return issuedCustomerResult(ic), nil
}

func (api *API) editCustomer(ctx context.Context, c *call) (any, error) {
	id := c.customerID(true)
	e := license.CustomerEdit{Name: c.optStr("Name"), Email: c.optStr("Email"), Company: c.optStr("CompanyName")}
	if v := strings.TrimSpace(c.str("MaxNoOfDevices")); v != "" {
		n := c.int("MaxNoOfDevices", 0)
		e.MaxNoOfDevices = &n
	}
	for _, f := range flagParams {
		if v := c.optBool(f.name); v != nil {
			e.FlagMask |= f.flag
			if *v {
				e.Flags |= f.flag
			}
		}
	}
	if v := c.optBool("Secret"); v != nil {
		e.NewSecret = *v
	}
	if c.err != nil {
		return nil, c.err
	}
	ic, err := api.License.EditCustomer(ctx, c.access, id, e)
	api.audit(c, "customer.edit", fmt.Sprintf("customer=%d new_secret=%t", id, e.NewSecret), err)
	if err != nil {
		return nil, err
	}
	return issuedCustomerResult(ic), nil
}

type customersResult struct {
	Result    int            `json:"result"`
	Message   string         `json:"message"`
	Customers []customerJSON `json:"customers"`
}

func (api *API) getCustomers(ctx context.Context, c *call) (any, error) {
	f := license.CustomerFilter{Search: c.str("Search"), Limit: c.int("Limit", 0), ID: c.customerID(false)}
	if c.err != nil {
		return nil, c.err
	}
	list, err := api.License.GetCustomers(ctx, c.access, f)
	if err != nil {
		return nil, err
	}
	out := customersResult{Customers: make([]customerJSON, 0, len(list))}
	for _, cu := range list {
		out.Customers = append(out.Customers, toCustomerJSON(cu))
	}
	return out, nil
}

func (api *API) removeCustomer(ctx context.Context, c *call) (any, error) {
	id := c.customerID(true)
	if c.err != nil {
		return nil, c.err
	}
	err := api.License.RemoveCustomer(ctx, c.access, id)
	api.audit(c, "customer.remove", fmt.Sprintf("customer=%d", id), err)
	return result{}, err
}

// licenseKeysList is the .NET SDK's GetCustomerLicensesResult and LoginUserResult; Python reads licenseKeys.
type licenseKeysList struct {
	Result      int                        `json:"result"`
	Message     string                     `json:"message"`
	LicenseKeys []license.LicenseKeyObject `json:"licenseKeys"`
}

// licensesFlags reads Detailed and Metadata: accepted, and the answer is always the detailed license key the
// .NET SDK asks for (ModelVersion=3), without metadata.
func (c *call) licensesFlags() {
	c.bool("Detailed")
	c.bool("Metadata")
}

func (api *API) getCustomerLicenses(ctx context.Context, c *call) (any, error) {
	id := c.customerID(true)
	c.licensesFlags()
	if c.err != nil {
		return nil, c.err
	}
	keys, err := api.License.GetCustomerLicenses(ctx, c.access, id)
	if err != nil {
		return nil, err
	}
	return licenseKeysList{LicenseKeys: keys}, nil
}

func (api *API) getCustomerLicensesBySecret(ctx context.Context, c *call) (any, error) {
	secret := c.required("Secret")
	c.licensesFlags()
	if c.err != nil {
		return nil, c.err
	}
	keys, err := api.License.GetCustomerLicensesBySecret(ctx, c.access, secret)
	if err != nil {
		return nil, err
	}
	return licenseKeysList{LicenseKeys: keys}, nil
}
