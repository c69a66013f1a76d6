package licensesoap_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

func TestLicenseSOAPCustomers(t *testing.T) {
	l := servertest.NewLicStack(t)
	ctx := context.Background()
	vendor := servertest.Basic("simon0897", "s3cret")

	w := l.OK(t, vendor, "addCustomer", `<name>Ada</name><email>ada@example.com</email><companyName>Engines</companyName>`+
		`<notes>first</notes><maxNoOfDevices>2</maxNoOfDevices><enableCustomerAssociation>true</enableCustomerAssociation>`)
	id, secret := servertest.LicText(w, "return/customerId"), servertest.LicText(w, "return/secret")
	if id == "<absent>" || len(secret) != 36 {
		t.Fatalf("addCustomer: id %q secret %q", id, secret)
	}
	l.OK(t, vendor, "addCustomer", `<name>Bob</name>`)
	cid, _ := strconv.ParseInt(id, 10, 64)
	k, err := l.Env.Svc.CreateKey(ctx, license.Admin(), l.Prod.ID, license.KeySpec{Period: 30, CustomerID: cid})
	if err != nil {
		t.Fatal(err)
	}

	// getCustomers: newest first; search; by id.
	list := func(inner string) []string {
		t.Helper()
		var out []string
		for _, r := range l.OK(t, vendor, "getCustomers", inner).SelectElements("return") {
			out = append(out, servertest.LicText(r, "name"))
		}
		return out
	}
	if got := strings.Join(list(""), ","); got != "Bob,Ada" {
		t.Fatalf("getCustomers = %s", got)
	}
	if got := strings.Join(list("<search>ENGINE</search>"), ","); got != "Ada" {
		t.Fatalf("getCustomers(search) = %s", got)
	}
	r := l.OK(t, vendor, "getCustomers", "<customerId>"+id+"</customerId>").FindElement("return")
	for path, want := range map[string]string{"email": "ada@example.com", "companyName": "Engines", "notes": "first", "maxNoOfDevices": "2",
		"enableCustomerAssociation": "true", "allowActivationManagement": "false", "created": "2026-11-23T08:00:00Z"} {
		if got := servertest.LicText(r, path); got != want {
			t.Errorf("customer %s = %q, want %q", path, got, want)
		}
	}

	// The customer's licenses, by id and by secret.
	for _, w := range []struct{ op, inner string }{{"getCustomerLicenses", "<customerId>" + id + "</customerId>"},
		{"getCustomerLicensesBySecret", "<secret>" + secret + "</secret>"}} {
		ret := l.OK(t, vendor, w.op, w.inner).SelectElements("return")
		if len(ret) != 1 || servertest.LicText(ret[0], "key") != k.Key.Key || servertest.LicText(ret[0], "period") != "30" ||
			servertest.LicText(ret[0], "expires") != "2026-12-23T08:00:00Z" {
			t.Fatalf("%s: %d keys", w.op, len(ret))
		}
	}

	// editCustomer: only what is sent; a new secret replaces the old.
	w = l.OK(t, vendor, "editCustomer", "<customerId>"+id+"</customerId><name>Ada L</name><enableCustomerAssociation>false</enableCustomerAssociation><newSecret>true</newSecret>")
	newSecret := servertest.LicText(w, "return/secret")
	if len(newSecret) != 36 || newSecret == secret {
		t.Fatalf("editCustomer secret %q", newSecret)
	}
	if c, _ := l.Store.GetCustomer(ctx, cid); c.Name != "Ada L" || c.Email != "ada@example.com" || c.Flags != 0 || c.MaxNoOfDevices != 2 {
		t.Fatalf("after editCustomer: %+v", c)
	}
	l.Fault(t, vendor, "getCustomerLicensesBySecret", "<secret>"+secret+"</secret>", 500, "Customer not found.")
	if got := servertest.LicText(l.OK(t, vendor, "editCustomer", "<customerId>"+id+"</customerId>"), "return/secret"); got != "<absent>" {
		t.Fatalf("a secret shown without newSecret: %q", got)
	}

	// Bad input and another vendor.
	l.Fault(t, vendor, "editCustomer", "<name>x</name>", 500, "The input parameters were incorrect. (customerId is required)")
	l.Fault(t, vendor, "getCustomers", "<limit>-1</limit>", 500, "The input parameters were incorrect.")
	l.Fault(t, vendor, "addCustomer", "<name>"+strings.Repeat("x", license.MaxNameLen+1)+"</name>", 500, "The input parameters were incorrect.")
	if err := l.Env.Svc.AddVendor(ctx, "paul1234"); err != nil {
		t.Fatal(err)
	}
	paul := servertest.Basic("paul1234", "pa55")
	for _, op := range []string{"editCustomer", "removeCustomer", "getCustomerLicenses"} {
		l.Fault(t, paul, op, "<customerId>"+id+"</customerId>", 500, "Customer not found.")
	}
	l.Fault(t, paul, "getCustomerLicensesBySecret", "<secret>"+newSecret+"</secret>", 500, "Customer not found.")
	if got := l.OK(t, paul, "getCustomers", "").SelectElements("return"); len(got) != 0 {
		t.Fatalf("paul1234 lists %d customers", len(got))
	}
	// A token holds only its permissions.
	tok, err := l.Env.Svc.CreateAPIToken(ctx, "simon0897", license.TokenSpec{Methods: []license.Method{license.MethodGetCustomers}})
	if err != nil {
		t.Fatal(err)
	}
	l.OK(t, "Bearer "+tok.Token, "getCustomers", "")
	l.Fault(t, "Bearer "+tok.Token, "removeCustomer", "<customerId>"+id+"</customerId>", 500, "Access denied.")

	// removeCustomer: the key stays, without a customer.
	l.OK(t, vendor, "removeCustomer", "<customerId>"+id+"</customerId>")
	l.Fault(t, vendor, "removeCustomer", "<customerId>"+id+"</customerId>", 500, "Customer not found.")
	if got, _ := l.Store.GetLicenseKey(ctx, l.Prod.ID, k.Key.Key); got.CustomerID != 0 {
		t.Fatalf("key after removeCustomer: %+v", got)
	}
}
