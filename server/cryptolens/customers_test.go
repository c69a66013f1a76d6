package cryptolens_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
	"github.com/tokenmanager/tokenmanager/storage"
)

// dotnetForm is a request as the .NET SDK sends it: every property of the model, unset ones as "", then
// token, v and modelversion.
func dotnetForm(token string, modelVersion int, kv ...string) url.Values {
	f := url.Values{"LicenseServerUrl": {""}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	f.Set("token", token)
	f.Set("v", "1")
	f.Set("modelversion", fmt.Sprint(modelVersion))
	return f
}

// pyForm is a request as the Python SDK sends it: its own parameter names, booleans as True/False.
func pyForm(token string, kv ...string) url.Values {
	f := url.Values{"token": {token}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

// customerTokens are simon0897's token with every customer permission and paul1234's with the same.
func customerTokens(t *testing.T, cl *servertest.CLStack) (simon, paul string) {
	t.Helper()
	methods := []license.Method{license.MethodAddCustomer, license.MethodEditCustomer, license.MethodGetCustomers,
		license.MethodRemoveCustomer, license.MethodGetCustomerLicenses, license.MethodGetCustomerLicensesBySecret}
	simon = cl.Token(t, license.TokenSpec{Methods: methods})
	issued, err := cl.Svc.CreateAPIToken(context.Background(), "paul1234", license.TokenSpec{Methods: methods})
	if err != nil {
		t.Fatal(err)
	}
	return simon, issued.Token
}

// licenseKeyObj is the part of the .NET SDK's LicenseKey the tests read.
type licenseKeyObj struct {
	ProductID int64  `json:"productId"`
	ID        int64  `json:"id"`
	Key       string `json:"key"`
	Created   string `json:"created"`
	Customer  *struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"customer"`
	ActivatedMachines []struct {
		Mid string `json:"mid"`
	} `json:"activatedMachines"`
	Block bool `json:"block"`
}

func licenseKeysOf(t *testing.T, m map[string]any) []licenseKeyObj {
	t.Helper()
	servertest.MustOK(t, "license keys", m)
	raw, _ := json.Marshal(m["licenseKeys"])
	var out []licenseKeyObj
	if err := json.Unmarshal(raw, &out); err != nil || out == nil {
		t.Fatalf("licenseKeys %s: %v", raw, err)
	}
	for _, k := range out {
		if _, err := time.Parse(time.RFC3339, k.Created); err != nil {
			t.Fatalf("created %q is not the ISO 8601 date .NET reads: %v", k.Created, err)
		}
	}
	return out
}

func TestCustomerMethods(t *testing.T) {
	cl := servertest.NewCLStack(t)
	simon, _ := customerTokens(t, cl)

	// AddCustomer, as Python sends it: the answer carries the id and the secret, once.
	add := cl.Post(t, "customer/addcustomer/", pyForm(simon, "Name", "Carol", "Email", "carol@example.com", "CompanyName", "Example Ltd",
		"EnableCustomerAssociation", "True", "AllowActivationManagement", "False"))
	servertest.MustOK(t, "AddCustomer", add)
	id := int64(add["customerId"].(float64))
	secret, _ := add["secret"].(string)
	if id <= 0 || len(secret) != 36 || add["portalLink"] != nil {
		t.Fatalf("AddCustomer = %v", add)
	}
	stored, err := cl.Store.GetCustomer(context.Background(), id)
	if err != nil || strings.Contains(stored.SecretHash, secret) || stored.SecretHash == "" || stored.Flags != storage.CustomerAssociation {
		t.Fatalf("stored customer %+v, %v: want the secret's hash only", stored, err)
	}
	// The .NET SDK's AddCustomerModel, every property sent.
	add2 := cl.Post(t, "customer/addcustomer/", dotnetForm(simon, 1, "Name", "Dave", "Email", "", "CompanyName", "", "Notes", "VIP",
		"EnableCustomerAssociation", "False", "AllowActivationManagement", "True", "AllowMultipleUserAssociation", "True"))
	servertest.MustOK(t, "AddCustomer (.NET)", add2)
	dave := int64(add2["customerId"].(float64))

	// GetCustomers: newest first, Search in name, e-mail and company, Limit, CustomerId.
	names := func(m map[string]any) []string {
		t.Helper()
		servertest.MustOK(t, "GetCustomers", m)
		var out []string
		for _, c := range m["customers"].([]any) {
			o := c.(map[string]any)
			if _, err := time.Parse(time.RFC3339, o["created"].(string)); err != nil {
				t.Fatalf("created: %v", o)
			}
			out = append(out, o["name"].(string))
		}
		return out
	}
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{dotnetForm(simon, 1, "Search", "", "Limit", "0", "CustomerId", "0"), "Dave,Carol"},
		{dotnetForm(simon, 1, "Search", "example", "Limit", "0", "CustomerId", "0"), "Carol"},
		{dotnetForm(simon, 1, "Search", "", "Limit", "1", "CustomerId", "0"), "Dave"},
		{dotnetForm(simon, 1, "Search", "", "Limit", "0", "CustomerId", fmt.Sprint(id)), "Carol"},
	} {
		if got := strings.Join(names(cl.Post(t, "customer/getcustomers/", tc.form)), ","); got != tc.want {
			t.Errorf("GetCustomers(%v) = %s, want %s", tc.form, got, tc.want)
		}
	}
	full := cl.Post(t, "customer/getcustomers/", dotnetForm(simon, 1, "CustomerId", fmt.Sprint(dave)))["customers"].([]any)[0].(map[string]any)
	if full["notes"] != "VIP" || full["allowActivationManagement"] != true || full["allowMultipleUserAssociation"] != true ||
		full["enableCustomerAssociation"] != false || full["companyName"] != "" {
		t.Fatalf("customer object %v", full)
	}

	// Keys of Carol's, in two products; GetCustomerLicenses (Python) and ...BySecret (.NET, ModelVersion 3).
	k1 := cl.NewKey(t, license.KeySpec{Period: 30, CustomerID: id, MaxNoOfMachines: 1})
	other := cl.NewProduct(t, "simon0897")
	k2 := cl.NewKeyIn(t, other.ID, license.KeySpec{CustomerID: id})
	cl.NewKey(t, license.KeySpec{Period: 30}) // nobody's
	act := cl.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodActivate}})
	servertest.MustOK(t, "Activate", cl.Post(t, "key/Activate", cl.Form(act, cl.Product.ID, k1.Key, "MachineCode", "m-1")))
	for _, m := range []map[string]any{
		cl.Post(t, "customer/GetCustomerLicenses/", pyForm(simon, "customerId", fmt.Sprint(id), "detailed", "False", "metadata", "False")),
		cl.Post(t, "customer/getcustomerlicensesbysecret/", dotnetForm(simon, 3, "Secret", secret, "Detailed", "False")),
		cl.Post(t, "customer/GetCustomerLicensesBySecret/", pyForm(simon, "secret", strings.ToUpper(secret), "detailed", "True")),
	} {
		keys := licenseKeysOf(t, m)
		if len(keys) != 2 || keys[0].Key != k1.Key || keys[1].Key != k2.Key || keys[0].Customer == nil || keys[0].Customer.Name != "Carol" ||
			len(keys[0].ActivatedMachines) != 1 || keys[0].ActivatedMachines[0].Mid != "m-1" || keys[1].ProductID != other.ID {
			t.Fatalf("customer licenses = %+v", keys)
		}
	}
	// A token locked to a product sees that product's keys only.
	locked := cl.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodGetCustomerLicenses}, ProductLock: other.ID})
	if keys := licenseKeysOf(t, cl.Post(t, "customer/GetCustomerLicenses", pyForm(locked, "customerId", fmt.Sprint(id)))); len(keys) != 1 || keys[0].Key != k2.Key {
		t.Fatalf("locked token's customer licenses = %+v", keys)
	}

	// EditCustomer changes only what is sent; Secret=True makes a new secret, and the old one stops working.
	edit := cl.Post(t, "customer/editcustomer/", dotnetForm(simon, 1, "CustomerId", fmt.Sprint(id), "Name", "Carol B", "Email", "",
		"CompanyName", "", "EnableCustomerAssociation", "", "MaxNoOfDevices", "3", "AllowActivationManagement", "True",
		"AllowMultipleUserAssociation", "", "Secret", "True"))
	servertest.MustOK(t, "EditCustomer", edit)
	newSecret, _ := edit["secret"].(string)
	if int64(edit["customerId"].(float64)) != id || len(newSecret) != 36 || newSecret == secret {
		t.Fatalf("EditCustomer = %v", edit)
	}
	c, _ := cl.Store.GetCustomer(context.Background(), id)
	if c.Name != "Carol B" || c.Email != "carol@example.com" || c.MaxNoOfDevices != 3 ||
		c.Flags != storage.CustomerAssociation|storage.CustomerActivationManagement {
		t.Fatalf("after EditCustomer: %+v", c)
	}
	servertest.MustFail(t, "the old secret", cl.Post(t, "customer/GetCustomerLicensesBySecret", pyForm(simon, "secret", secret)), "Customer not found.")
	licenseKeysOf(t, cl.Post(t, "customer/GetCustomerLicensesBySecret", pyForm(simon, "secret", newSecret)))
	if e := cl.Post(t, "customer/editcustomer/", dotnetForm(simon, 1, "CustomerId", fmt.Sprint(id), "Notes", "x")); e["secret"] != nil {
		t.Fatalf("EditCustomer without Secret showed one: %v", e)
	}

	// RemoveCustomer: the keys stay, without a customer.
	servertest.MustOK(t, "RemoveCustomer", cl.Post(t, "customer/removecustomer/", dotnetForm(simon, 1, "CustomerId", fmt.Sprint(id))))
	if k, err := cl.Store.GetLicenseKey(context.Background(), cl.Product.ID, k1.Key); err != nil || k.CustomerID != 0 {
		t.Fatalf("key after RemoveCustomer: %+v, %v", k, err)
	}
	servertest.MustFail(t, "RemoveCustomer twice", cl.Post(t, "customer/removecustomer/", dotnetForm(simon, 1, "CustomerId", fmt.Sprint(id))), "Customer not found.")
	servertest.MustFail(t, "licenses of a removed customer", cl.Post(t, "customer/GetCustomerLicensesBySecret", pyForm(simon, "secret", newSecret)), "Customer not found.")

	// Every change is audited; no secret is.
	var actions []string
	for _, e := range cl.AuditLog(t) {
		if strings.HasPrefix(e.Action, "customer.") {
			actions = append([]string{e.Action + " " + e.Outcome}, actions...)
			if strings.Contains(e.Detail, secret) || strings.Contains(e.Detail, newSecret) {
				t.Fatalf("a secret in the audit log: %+v", e)
			}
		}
	}
	want := "customer.add ok,customer.add ok,customer.edit ok,customer.edit ok,customer.remove ok,customer.remove refused: license: customer not found: " + fmt.Sprint(id)
	if got := strings.Join(actions, ","); got != want {
		t.Fatalf("audit:\n%s\nwant\n%s", got, want)
	}
}

// TestCustomerWrongTenant: paul1234's token reaches none of simon0897's customers.
func TestCustomerWrongTenant(t *testing.T) {
	cl := servertest.NewCLStack(t)
	simon, paul := customerTokens(t, cl)
	add := cl.Post(t, "customer/AddCustomer", pyForm(simon, "Name", "Carol"))
	servertest.MustOK(t, "AddCustomer", add)
	id, secret := fmt.Sprint(add["customerId"]), add["secret"].(string)
	cl.NewKey(t, license.KeySpec{CustomerID: int64(add["customerId"].(float64))})

	for _, tc := range []struct{ method, k, v string }{
		{"customer/EditCustomer", "CustomerId", id},
		{"customer/RemoveCustomer", "CustomerId", id},
		{"customer/GetCustomerLicenses", "CustomerId", id},
		{"customer/GetCustomerLicensesBySecret", "Secret", secret},
	} {
		servertest.MustFail(t, tc.method+" by another vendor", cl.Post(t, tc.method, pyForm(paul, tc.k, tc.v, "Name", "Mallory")), "Customer not found.")
	}
	if m := cl.Post(t, "customer/GetCustomers", pyForm(paul)); len(m["customers"].([]any)) != 0 {
		t.Fatalf("paul1234 lists %v", m)
	}
	if m := cl.Post(t, "customer/GetCustomers", pyForm(paul, "CustomerId", id)); len(m["customers"].([]any)) != 0 {
		t.Fatalf("paul1234 lists by id %v", m)
	}
	if c, _ := cl.Store.GetCustomer(context.Background(), int64(add["customerId"].(float64))); c.Name != "Carol" {
		t.Fatalf("paul1234 changed simon0897's customer: %+v", c)
	}
}

func TestCustomerBadInput(t *testing.T) {
	cl := servertest.NewCLStack(t)
	simon, _ := customerTokens(t, cl)
	long := strings.Repeat("x", license.MaxNameLen+1)
	for _, tc := range []struct {
		method string
		form   url.Values
	}{
		{"customer/AddCustomer", pyForm(simon, "Name", long)},
		{"customer/AddCustomer", pyForm(simon, "Name", "a\x00b")},
		{"customer/AddCustomer", pyForm(simon, "Notes", strings.Repeat("n", license.MaxCustomerNotesLen+1))},
		{"customer/AddCustomer", pyForm(simon, "MaxNoOfDevices", "-1")},
		{"customer/AddCustomer", pyForm(simon, "EnableCustomerAssociation", "maybe")},
		{"customer/EditCustomer", pyForm(simon, "Name", "x")}, // no CustomerId
		{"customer/EditCustomer", pyForm(simon, "CustomerId", "abc")},
		{"customer/GetCustomers", pyForm(simon, "Limit", "-1")},
		{"customer/GetCustomers", pyForm(simon, "Search", long)},
		{"customer/RemoveCustomer", pyForm(simon, "CustomerId", "0")},
		{"customer/GetCustomerLicenses", pyForm(simon, "CustomerId", "-3")},
		{"customer/GetCustomerLicensesBySecret", pyForm(simon)},
		{"customer/GetCustomerLicensesBySecret", pyForm(simon, "Secret", long)},
	} {
		servertest.MustFail(t, fmt.Sprintf("%s %v", tc.method, tc.form), cl.Post(t, tc.method, tc.form), "The input parameters were incorrect.")
	}
	// An edit that breaks a bound writes nothing.
	add := cl.Post(t, "customer/AddCustomer", pyForm(simon, "Name", "Carol", "Email", "c@example.com"))
	id := fmt.Sprint(add["customerId"])
	servertest.MustFail(t, "EditCustomer too long", cl.Post(t, "customer/EditCustomer", pyForm(simon, "CustomerId", id, "Name", "Carol B",
		"Email", long)), "The input parameters were incorrect.")
	if c, _ := cl.Store.GetCustomer(context.Background(), int64(add["customerId"].(float64))); c.Name != "Carol" || c.Email != "c@example.com" {
		t.Fatalf("a refused edit wrote: %+v", c)
	}
	servertest.MustFail(t, "EditCustomer of nobody", cl.Post(t, "customer/EditCustomer", pyForm(simon, "CustomerId", "9999", "Name", "x")), "Customer not found.")
	// Permissions: each method its own.
	only := cl.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodGetCustomers}})
	for _, m := range []string{"customer/AddCustomer", "customer/EditCustomer", "customer/RemoveCustomer", "customer/GetCustomerLicenses",
		"customer/GetCustomerLicensesBySecret"} {
		servertest.MustFail(t, m+" with GetCustomers only", cl.Post(t, m, pyForm(only, "CustomerId", id, "Secret", "x")), "Access denied.")
	}
	// A key-locked token reaches its key only.
	k := cl.NewKey(t, license.KeySpec{CustomerID: int64(add["customerId"].(float64))})
	k2 := cl.NewKey(t, license.KeySpec{CustomerID: int64(add["customerId"].(float64))})
	keyLocked := cl.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodGetCustomerLicenses}, ProductLock: cl.Product.ID, KeyLock: k2.ID})
	if keys := licenseKeysOf(t, cl.Post(t, "customer/GetCustomerLicenses", pyForm(keyLocked, "CustomerId", id))); len(keys) != 1 || keys[0].Key != k2.Key || keys[0].Key == k.Key {
		t.Fatalf("key-locked token sees %+v", keys)
	}
}
