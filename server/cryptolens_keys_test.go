package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/license"
)

// getKeyJSON reads a key back through key/GetKey, as a client would, and returns the license JSON.
func (cl *clStack) getKeyJSON(t *testing.T, tok, key string) map[string]any {
	t.Helper()
	m := cl.post(t, "key/GetKey", cl.form(tok, cl.product.ID, key))
	mustOK(t, "GetKey", m)
	raw, _ := base64.StdEncoding.DecodeString(m["licenseKey"].(string))
	var lk map[string]any
	if err := json.Unmarshal(raw, &lk); err != nil {
		t.Fatal(err)
	}
	return lk
}

// TestCryptolensKeyChanges: each change method with the SDKs' request shapes (the Node SDK's lower-case names
// for the feature and notes methods, .NET's for the others), read back through GetKey, and audited.
func TestCryptolensKeyChanges(t *testing.T) {
	cl := newCLStack(t)
	ctx := context.Background()
	k := cl.newKey(t, license.KeySpec{Period: 30})
	tok := cl.token(t, license.TokenSpec{})
	acme, _ := cl.svc.Vendor(ctx, "simon0897")
	cust, _ := cl.svc.CreateCustomer(ctx, acme, "simon0897", license.CustomerSpec{Name: "Carol", Email: "c@example.com"})
	res, err := cl.svc.CreateReseller(ctx, acme, "simon0897", license.ResellerSpec{Name: "Shop", URL: "https://shop.example"})
	if err != nil {
		t.Fatal(err)
	}
	node := func(kv ...string) url.Values {
		f := url.Values{"token": {tok}, "productId": {fmt.Sprint(cl.product.ID)}, "key": {k.Key}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	mustOK(t, "AddFeature", cl.post(t, "key/AddFeature", node("feature", "2")))
	mustOK(t, "AddFeature", cl.post(t, "key/AddFeature", node("feature", "7")))
	mustOK(t, "RemoveFeature", cl.post(t, "key/RemoveFeature", node("feature", "7")))
	mustOK(t, "ChangeNotes", cl.post(t, "key/ChangeNotes", node("notes", "renewed by phone")))
	mustOK(t, "ChangeCustomer", cl.post(t, "key/ChangeCustomer", cl.form(tok, cl.product.ID, k.Key, "CustomerId", fmt.Sprint(cust.ID))))
	mustOK(t, "ChangeReseller", cl.post(t, "key/ChangeReseller", cl.form(tok, cl.product.ID, k.Key, "ResellerId", fmt.Sprint(res.ID))))
	mustOK(t, "MachineLockLimit", cl.post(t, "key/MachineLockLimit", cl.form(tok, cl.product.ID, k.Key, "NumberOfMachines", "4")))

	lk := cl.getKeyJSON(t, tok, k.Key)
	cj, _ := lk["Customer"].(map[string]any)
	rj, _ := lk["Reseller"].(map[string]any)
	if lk["F2"] != true || lk["F7"] != false || lk["Notes"] != "renewed by phone" || lk["MaxNoOfMachines"] != float64(4) ||
		cj == nil || cj["Name"] != "Carol" || rj == nil || rj["Name"] != "Shop" || rj["Url"] != "https://shop.example" {
		t.Fatalf("license after the changes: %v", lk)
	}
	// The Python SDK builds its Reseller from exactly these keys.
	for _, f := range []string{"Id", "InviteId", "ResellerUserId", "Created", "Name", "Url", "Email", "Phone", "Description"} {
		if _, ok := rj[f]; !ok || len(rj) != 9 {
			t.Fatalf("Reseller %v: want exactly Cryptolens' nine fields", rj)
		}
	}

	var actions []string
	for _, e := range cl.auditLog(t) {
		if strings.HasPrefix(e.Action, "license.key.") {
			actions = append([]string{e.Action}, actions...)
			if strings.Contains(e.Detail, k.Key) {
				t.Errorf("audit detail %q holds the whole key", e.Detail)
			}
		}
	}
	want := "license.key.addfeature license.key.addfeature license.key.removefeature license.key.changenotes " +
		"license.key.changecustomer license.key.changereseller license.key.machinelocklimit"
	if strings.Join(actions, " ") != want {
		t.Fatalf("audit: %v\nwant %s", actions, want)
	}
}

// TestCryptolensKeyChangeRefusals: bad input, another vendor's token, a missing permission and the key lock,
// each in Cryptolens' envelope, and none of them changes the key.
func TestCryptolensKeyChangeRefusals(t *testing.T) {
	cl := newCLStack(t)
	ctx := context.Background()
	k := cl.newKey(t, license.KeySpec{Period: 30, Notes: "orig"})
	other := cl.newKey(t, license.KeySpec{})
	tok := cl.token(t, license.TokenSpec{})
	paul, err := cl.svc.CreateAPIToken(ctx, "paul1234", license.TokenSpec{Methods: allMethods})
	if err != nil {
		t.Fatal(err)
	}
	paulV, _ := cl.svc.Vendor(ctx, "paul1234")
	theirCust, _ := cl.svc.CreateCustomer(ctx, paulV, "paul1234", license.CustomerSpec{Name: "Theirs"})
	theirRes, _ := cl.svc.CreateReseller(ctx, paulV, "paul1234", license.ResellerSpec{Name: "Theirs"})
	notesOnly := cl.token(t, license.TokenSpec{Methods: []license.Method{license.MethodChangeNotes}})
	locked := cl.token(t, license.TokenSpec{ProductLock: cl.product.ID, KeyLock: other.ID})
	pid := cl.product.ID
	const bad, noProduct, noKey, denied = "The input parameters were incorrect.", "Could not find the product.",
		"Could not find the key.", "Access denied."
	for _, c := range []struct {
		name, method string
		form         url.Values
		msg          string
	}{
		{"feature 0", "key/AddFeature", cl.form(tok, pid, k.Key, "Feature", "0"), bad},
		{"feature 9", "key/RemoveFeature", cl.form(tok, pid, k.Key, "Feature", "9"), bad},
		{"feature not a number", "key/AddFeature", cl.form(tok, pid, k.Key, "Feature", "one"), bad},
		{"no key", "key/AddFeature", cl.form(tok, pid, "", "Feature", "1"), bad},
		{"notes too long", "key/ChangeNotes", cl.form(tok, pid, k.Key, "Notes", strings.Repeat("n", 501)), bad},
		{"notes with control bytes", "key/ChangeNotes", cl.form(tok, pid, k.Key, "Notes", "a\x00b"), bad},
		{"negative machines", "key/MachineLockLimit", cl.form(tok, pid, k.Key, "NumberOfMachines", "-1"), bad},
		{"no such customer", "key/ChangeCustomer", cl.form(tok, pid, k.Key, "CustomerId", "9999"), "Customer not found."},
		{"another's customer", "key/ChangeCustomer", cl.form(tok, pid, k.Key, "CustomerId", fmt.Sprint(theirCust.ID)), "Customer not found."},
		{"another's reseller", "key/ChangeReseller", cl.form(tok, pid, k.Key, "ResellerId", fmt.Sprint(theirRes.ID)), "Could not find the reseller."},
		{"no such key", "key/ChangeNotes", cl.form(tok, pid, "AAAAA-AAAAA-AAAAA-AAAAA", "Notes", "x"), noKey},
		{"wrong tenant: notes", "key/ChangeNotes", cl.form(paul.Token, pid, k.Key, "Notes", "x"), noProduct},
		{"wrong tenant: feature", "key/AddFeature", cl.form(paul.Token, pid, k.Key, "Feature", "1"), noProduct},
		{"wrong tenant: customer", "key/ChangeCustomer", cl.form(paul.Token, pid, k.Key, "CustomerId", fmt.Sprint(theirCust.ID)), noProduct},
		{"wrong tenant: reseller", "key/ChangeReseller", cl.form(paul.Token, pid, k.Key, "ResellerId", "0"), noProduct},
		{"wrong tenant: machines", "key/MachineLockLimit", cl.form(paul.Token, pid, k.Key, "NumberOfMachines", "9"), noProduct},
		{"no permission", "key/AddFeature", cl.form(notesOnly, pid, k.Key, "Feature", "1"), denied},
		{"key lock", "key/ChangeNotes", cl.form(locked, pid, k.Key, "Notes", "x"), denied},
		{"no token", "key/ChangeNotes", cl.form("", pid, k.Key, "Notes", "x"), "Unable to authenticate."},
	} {
		mustFail(t, c.name, cl.post(t, c.method, c.form), c.msg)
	}
	lk := cl.getKeyJSON(t, tok, k.Key)
	if lk["Notes"] != "orig" || lk["F1"] != false || lk["MaxNoOfMachines"] != float64(0) || lk["Customer"] != nil {
		t.Fatalf("a refused call changed the key: %v", lk)
	}
}

// TestCryptolensCreateKeyParameters: NoOfKeys answers the list of keys, AddOrUseExistingCustomer reuses a
// customer by e-mail, ResellerId, AllowedMachines and TrialActivation reach the keys.
func TestCryptolensCreateKeyParameters(t *testing.T) {
	cl := newCLStack(t)
	ctx := context.Background()
	tok := cl.token(t, license.TokenSpec{})
	acme, _ := cl.svc.Vendor(ctx, "simon0897")
	res, _ := cl.svc.CreateReseller(ctx, acme, "simon0897", license.ResellerSpec{Name: "Shop"})
	paulV, _ := cl.svc.Vendor(ctx, "paul1234")
	theirRes, _ := cl.svc.CreateReseller(ctx, paulV, "paul1234", license.ResellerSpec{Name: "Theirs"})
	pid := fmt.Sprint(cl.product.ID)
	m := cl.post(t, "key/CreateKey", url.Values{"token": {tok}, "ProductId": {pid}, "NoOfKeys": {"3"}, "Period": {"30"},
		"ResellerId": {fmt.Sprint(res.ID)}, "AllowedMachines": {"m-1\nm-2"}, "TrialActivation": {"True"}})
	mustOK(t, "CreateKey NoOfKeys=3", m)
	list, _ := m["keys"].([]any)
	if len(list) != 3 || m["key"] != list[0] {
		t.Fatalf("CreateKey NoOfKeys=3 = %v", m)
	}
	for _, k := range list {
		lk := cl.getKeyJSON(t, tok, k.(string))
		if lk["AllowedMachines"] != "m-1\nm-2" || lk["TrialActivation"] != true || lk["Reseller"] == nil {
			t.Fatalf("batch key %v", lk)
		}
	}
	one := cl.post(t, "key/CreateKey", url.Values{"token": {tok}, "ProductId": {pid}})
	if _, has := one["keys"]; has || one["key"] == "" {
		t.Fatalf("one key: %v", one)
	}
	form := url.Values{"token": {tok}, "ProductId": {pid}, "AddOrUseExistingCustomer": {"true"}, "Name": {"Ann"}, "Email": {"ann@example.com"}}
	first := cl.post(t, "key/CreateKey", form)
	second := cl.post(t, "key/CreateKey", form)
	mustOK(t, "AddOrUseExistingCustomer", first)
	if first["customerId"] == nil || first["customerId"] != second["customerId"] {
		t.Fatalf("AddOrUseExistingCustomer: %v then %v; want the same customer", first, second)
	}
	const bad = "The input parameters were incorrect."
	mustFail(t, "NoOfKeys 0 keys left", cl.post(t, "key/CreateKey", url.Values{"token": {tok}, "ProductId": {pid}, "NoOfKeys": {"-2"}}), bad)
	mustFail(t, "AddOrUseExistingCustomer without e-mail", cl.post(t, "key/CreateKey",
		url.Values{"token": {tok}, "ProductId": {pid}, "AddOrUseExistingCustomer": {"true"}}), bad)
	mustFail(t, "another's reseller", cl.post(t, "key/CreateKey",
		url.Values{"token": {tok}, "ProductId": {pid}, "ResellerId": {fmt.Sprint(theirRes.ID)}}), "Could not find the reseller.")
	noCustomerPerm := cl.token(t, license.TokenSpec{Methods: []license.Method{license.MethodCreateKey}})
	mustFail(t, "AddOrUseExistingCustomer without AddCustomer", cl.post(t, "key/CreateKey", url.Values{"token": {noCustomerPerm},
		"ProductId": {pid}, "AddOrUseExistingCustomer": {"true"}, "Email": {"x@example.com"}}), "Access denied.")
	if ks, _ := cl.svc.ListKeys(ctx, license.Admin(), cl.product.ID); len(ks) != 6 {
		t.Fatalf("%d keys after the refusals, want 6", len(ks))
	}
}

// TestCryptolensCreateKeyFromTemplate: the Python and Node SDKs' shape (token and LicenseTemplateId only), the
// feature lock naming the one template, another vendor's template, bad ids.
func TestCryptolensCreateKeyFromTemplate(t *testing.T) {
	cl := newCLStack(t)
	ctx := context.Background()
	acme, _ := cl.svc.Vendor(ctx, "simon0897")
	tpl, err := cl.svc.CreateTemplate(ctx, acme, cl.product.ID, license.TemplateSpec{Name: "Pro",
		Key: license.KeySpec{Period: 365, Features: [8]bool{false, false, true}, MaxNoOfMachines: 3, Notes: "pro"}})
	if err != nil {
		t.Fatal(err)
	}
	tok := cl.token(t, license.TokenSpec{})
	m := cl.post(t, "key/CreateKeyFromTemplate", url.Values{"token": {tok}, "LicenseTemplateId": {fmt.Sprint(tpl.ID)}})
	mustOK(t, "CreateKeyFromTemplate", m)
	if _, has := m["rawResponse"]; !has {
		t.Fatalf("answer %v lacks rawResponse (the Python SDK reads it)", m)
	}
	lk := cl.getKeyJSON(t, tok, m["key"].(string))
	if lk["F3"] != true || lk["Period"] != float64(365) || lk["MaxNoOfMachines"] != float64(3) || lk["Notes"] != "pro" {
		t.Fatalf("key from the template: %v", lk)
	}
	paul, _ := cl.svc.CreateAPIToken(ctx, "paul1234", license.TokenSpec{Methods: allMethods})
	lockedElsewhere := cl.token(t, license.TokenSpec{Methods: []license.Method{license.MethodCreateKeyFromTemplate}, FeatureLock: tpl.ID + 1})
	const bad = "The input parameters were incorrect."
	for _, c := range []struct {
		name string
		form url.Values
		msg  string
	}{
		{"no id", url.Values{"token": {tok}}, bad},
		{"id 0", url.Values{"token": {tok}, "LicenseTemplateId": {"0"}}, bad},
		{"id not a number", url.Values{"token": {tok}, "LicenseTemplateId": {"pro"}}, bad},
		{"no such template", url.Values{"token": {tok}, "LicenseTemplateId": {"9999"}}, "Could not find the license template."},
		{"wrong tenant", url.Values{"token": {paul.Token}, "LicenseTemplateId": {fmt.Sprint(tpl.ID)}}, "Could not find the license template."},
		{"feature lock", url.Values{"token": {lockedElsewhere}, "LicenseTemplateId": {fmt.Sprint(tpl.ID)}}, "Access denied."},
	} {
		mustFail(t, c.name, cl.post(t, "key/CreateKeyFromTemplate", c.form), c.msg)
	}
}

// TestCryptolensGetKeysAndProducts: paging as Cryptolens pages (99 a page, returned/total/pageCount), OrderBy
// and SearchQuery as the Python SDK sends them, the Node SDK's lower-case names with globalId=0, and refusals.
func TestCryptolensGetKeysAndProducts(t *testing.T) {
	cl := newCLStack(t)
	ctx := context.Background()
	acme, _ := cl.svc.Vendor(ctx, "simon0897")
	if _, err := cl.svc.CreateKey(ctx, acme, cl.product.ID, license.KeySpec{NoOfKeys: 120, Period: 10}); err != nil {
		t.Fatal(err)
	}
	cust, _ := cl.svc.CreateCustomer(ctx, acme, "simon0897", license.CustomerSpec{Name: "Dora", Email: "dora@example.com"})
	special := cl.newKey(t, license.KeySpec{Notes: "vip", Features: [8]bool{true}, CustomerID: cust.ID})
	tok := cl.token(t, license.TokenSpec{})
	pid := fmt.Sprint(cl.product.ID)
	py := func(page, order, query string) map[string]any {
		return cl.post(t, "product/getkeys/", url.Values{"token": {tok}, "ProductId": {pid}, "Page": {page}, "OrderBy": {order}, "SearchQuery": {query}})
	}
	p1 := py("1", "ID ascending", "")
	mustOK(t, "GetKeys page 1", p1)
	keys1 := p1["licenseKeys"].([]any)
	if p1["returned"] != float64(99) || p1["total"] != float64(121) || p1["pageCount"] != float64(2) || len(keys1) != 99 {
		t.Fatalf("page 1: returned %v total %v pageCount %v", p1["returned"], p1["total"], p1["pageCount"])
	}
	first := keys1[0].(map[string]any)
	for _, f := range []string{"ProductId", "ID", "Key", "Created", "Expires", "Period", "F1", "F8", "Notes", "Block", "GlobalId",
		"Customer", "ActivatedMachines", "TrialActivation", "MaxNoOfMachines", "AllowedMachines", "DataObjects"} {
		if _, ok := first[f]; !ok {
			t.Fatalf("listed key lacks %s: %v", f, first)
		}
	}
	if s, _ := first["Created"].(string); len(s) != 20 || s[10] != 'T' {
		t.Fatalf("Created %v: want an ISO 8601 date the .NET SDK parses", first["Created"])
	}
	p2 := py("2", "ID ascending", "")
	if p2["returned"] != float64(22) || p2["licenseKeys"].([]any)[21].(map[string]any)["Key"] != special.Key {
		t.Fatalf("page 2: %v", p2["returned"])
	}
	desc := py("1", "ID descending", "")
	if desc["licenseKeys"].([]any)[0].(map[string]any)["ID"] != float64(special.ID) {
		t.Fatalf("ID descending does not start with the last key")
	}
	found := py("1", "", `F1 == true && Customer.Email == "dora@example.com"`)
	fk := found["licenseKeys"].([]any)
	if found["total"] != float64(1) || len(fk) != 1 || fk[0].(map[string]any)["Customer"].(map[string]any)["Name"] != "Dora" {
		t.Fatalf("search: %v", found)
	}
	node := cl.post(t, "product/GetKeys", url.Values{"token": {tok}, "productId": {pid}, "page": {"1"}, "orderBy": {""},
		"searchQuery": {`Key="` + special.Key + `"`}, "globalId": {"0"}})
	if node["total"] != float64(1) {
		t.Fatalf("Node-shaped GetKeys: %v", node)
	}
	paul, _ := cl.svc.CreateAPIToken(ctx, "paul1234", license.TokenSpec{Methods: allMethods})
	const bad = "The input parameters were incorrect."
	mustFail(t, "page 0", py("0", "", ""), bad)
	mustFail(t, "unknown order", py("1", "Password", ""), bad)
	mustFail(t, "bad query", py("1", "", `Notes.Length > 3`), bad)
	mustFail(t, "long query", py("1", "", strings.Repeat("F1 && ", 200)+"F1"), bad)
	mustFail(t, "wrong tenant", cl.post(t, "product/GetKeys", url.Values{"token": {paul.Token}, "ProductId": {pid}}), "Could not find the product.")
	noPerm := cl.token(t, license.TokenSpec{Methods: []license.Method{license.MethodGetKey}})
	mustFail(t, "no permission", cl.post(t, "product/GetKeys", url.Values{"token": {noPerm}, "ProductId": {pid}}), "Access denied.")

	// GetProducts: the vendor's own products only; a product-locked token sees its product.
	cl.newProduct(t, "simon0897")
	cl.newProduct(t, "paul1234")
	pr := cl.post(t, "product/getproducts/", url.Values{"token": {tok}})
	mustOK(t, "GetProducts", pr)
	ps := pr["products"].([]any)
	if len(ps) != 2 || ps[0].(map[string]any)["Id"] != float64(cl.product.ID) || ps[0].(map[string]any)["Name"] != cl.product.Name {
		t.Fatalf("GetProducts = %v", ps)
	}
	locked := cl.token(t, license.TokenSpec{ProductLock: cl.product.ID})
	if ps := cl.post(t, "product/GetProducts", url.Values{"token": {locked}})["products"].([]any); len(ps) != 1 {
		t.Fatalf("product-locked GetProducts = %v", ps)
	}
	paulPs := cl.post(t, "product/GetProducts", url.Values{"token": {paul.Token}})["products"].([]any)
	if len(paulPs) != 1 || paulPs[0].(map[string]any)["Name"] != "App of paul1234" {
		t.Fatalf("another vendor's GetProducts = %v", paulPs)
	}
	mustFail(t, "GetProducts no permission", cl.post(t, "product/GetProducts", url.Values{"token": {noPerm}}), "Access denied.")
}
