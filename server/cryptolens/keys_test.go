package cryptolens_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// getKeyJSON reads a key back through key/GetKey, as a client would, and returns the license JSON.
func getKeyJSON(t *testing.T, cl *servertest.CLStack, tok, key string) map[string]any {
	t.Helper()
	m := cl.Post(t, "key/GetKey", cl.Form(tok, cl.Product.ID, key))
	servertest.MustOK(t, "GetKey", m)
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
	cl := servertest.NewCLStack(t)
	ctx := context.Background()
	k := cl.NewKey(t, license.KeySpec{Period: 30})
	tok := cl.Token(t, license.TokenSpec{})
	acme, _ := cl.Svc.Vendor(ctx, "simon0897")
	cust, _ := cl.Svc.CreateCustomer(ctx, acme, "simon0897", license.CustomerSpec{Name: "Carol", Email: "c@example.com"})
	res, err := cl.Svc.CreateReseller(ctx, acme, "simon0897", license.ResellerSpec{Name: "Shop", URL: "https://shop.example"})
	if err != nil {
		t.Fatal(err)
	}
	node := func(kv ...string) url.Values {
		f := url.Values{"token": {tok}, "productId": {fmt.Sprint(cl.Product.ID)}, "key": {k.Key}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	servertest.MustOK(t, "AddFeature", cl.Post(t, "key/AddFeature", node("feature", "2")))
	servertest.MustOK(t, "AddFeature", cl.Post(t, "key/AddFeature", node("feature", "7")))
	servertest.MustOK(t, "RemoveFeature", cl.Post(t, "key/RemoveFeature", node("feature", "7")))
	servertest.MustOK(t, "ChangeNotes", cl.Post(t, "key/ChangeNotes", node("notes", "renewed by phone")))
	servertest.MustOK(t, "ChangeCustomer", cl.Post(t, "key/ChangeCustomer", cl.Form(tok, cl.Product.ID, k.Key, "CustomerId", fmt.Sprint(cust.ID))))
	servertest.MustOK(t, "ChangeReseller", cl.Post(t, "key/ChangeReseller", cl.Form(tok, cl.Product.ID, k.Key, "ResellerId", fmt.Sprint(res.ID))))
	servertest.MustOK(t, "MachineLockLimit", cl.Post(t, "key/MachineLockLimit", cl.Form(tok, cl.Product.ID, k.Key, "NumberOfMachines", "4")))

	lk := getKeyJSON(t, cl, tok, k.Key)
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
	for _, e := range cl.AuditLog(t) {
		if strings.HasPrefix(e.Action, "license.key.") {
			actions = append([]string{e.Action}, actions...)
			if strings.Contains(e.Detail, k.Key) {
				t.Errorf("audit detail %q holds the whole key", e.Detail)
			}
		}
	}
	// The key's creation (the core audits it too), then each change.
	want := "license.key.create license.key.addfeature license.key.addfeature license.key.removefeature license.key.changenotes " +
		"license.key.changecustomer license.key.changereseller license.key.machinelocklimit"
	if strings.Join(actions, " ") != want {
		t.Fatalf("audit: %v\nwant %s", actions, want)
	}
}

// TestCryptolensKeyChangeRefusals: bad input, another vendor's token, a missing permission and the key lock,
// each in Cryptolens' envelope, and none of them changes the key.
func TestCryptolensKeyChangeRefusals(t *testing.T) {
	cl := servertest.NewCLStack(t)
	ctx := context.Background()
	k := cl.NewKey(t, license.KeySpec{Period: 30, Notes: "orig"})
	other := cl.NewKey(t, license.KeySpec{})
	tok := cl.Token(t, license.TokenSpec{})
	paul, err := cl.Svc.CreateAPIToken(ctx, "paul1234", license.TokenSpec{Methods: servertest.AllMethods})
	if err != nil {
		t.Fatal(err)
	}
	paulV, _ := cl.Svc.Vendor(ctx, "paul1234")
	theirCust, _ := cl.Svc.CreateCustomer(ctx, paulV, "paul1234", license.CustomerSpec{Name: "Theirs"})
	theirRes, _ := cl.Svc.CreateReseller(ctx, paulV, "paul1234", license.ResellerSpec{Name: "Theirs"})
	notesOnly := cl.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodChangeNotes}})
	locked := cl.Token(t, license.TokenSpec{ProductLock: cl.Product.ID, KeyLock: other.ID})
	pid := cl.Product.ID
	const bad, noProduct, noKey, denied = "The input parameters were incorrect.", "Could not find the product.",
		"Could not find the key.", "Access denied."
	for _, c := range []struct {
		name, method string
		form         url.Values
		msg          string
	}{
		{"feature 0", "key/AddFeature", cl.Form(tok, pid, k.Key, "Feature", "0"), bad},
		{"feature 9", "key/RemoveFeature", cl.Form(tok, pid, k.Key, "Feature", "9"), bad},
		{"feature not a number", "key/AddFeature", cl.Form(tok, pid, k.Key, "Feature", "one"), bad},
		{"no key", "key/AddFeature", cl.Form(tok, pid, "", "Feature", "1"), bad},
		{"notes too long", "key/ChangeNotes", cl.Form(tok, pid, k.Key, "Notes", strings.Repeat("n", 501)), bad},
		{"notes with control bytes", "key/ChangeNotes", cl.Form(tok, pid, k.Key, "Notes", "a\x00b"), bad},
		{"negative machines", "key/MachineLockLimit", cl.Form(tok, pid, k.Key, "NumberOfMachines", "-1"), bad},
		{"no such customer", "key/ChangeCustomer", cl.Form(tok, pid, k.Key, "CustomerId", "9999"), "Customer not found."},
		{"another's customer", "key/ChangeCustomer", cl.Form(tok, pid, k.Key, "CustomerId", fmt.Sprint(theirCust.ID)), "Customer not found."},
		{"another's reseller", "key/ChangeReseller", cl.Form(tok, pid, k.Key, "ResellerId", fmt.Sprint(theirRes.ID)), "Could not find the reseller."},
		{"no such key", "key/ChangeNotes", cl.Form(tok, pid, "AAAAA-AAAAA-AAAAA-AAAAA", "Notes", "x"), noKey},
		{"wrong tenant: notes", "key/ChangeNotes", cl.Form(paul.Token, pid, k.Key, "Notes", "x"), noProduct},
		{"wrong tenant: feature", "key/AddFeature", cl.Form(paul.Token, pid, k.Key, "Feature", "1"), noProduct},
		{"wrong tenant: customer", "key/ChangeCustomer", cl.Form(paul.Token, pid, k.Key, "CustomerId", fmt.Sprint(theirCust.ID)), noProduct},
		{"wrong tenant: reseller", "key/ChangeReseller", cl.Form(paul.Token, pid, k.Key, "ResellerId", "0"), noProduct},
		{"wrong tenant: machines", "key/MachineLockLimit", cl.Form(paul.Token, pid, k.Key, "NumberOfMachines", "9"), noProduct},
		{"no permission", "key/AddFeature", cl.Form(notesOnly, pid, k.Key, "Feature", "1"), denied},
		{"key lock", "key/ChangeNotes", cl.Form(locked, pid, k.Key, "Notes", "x"), denied},
		{"no token", "key/ChangeNotes", cl.Form("", pid, k.Key, "Notes", "x"), "Unable to authenticate."},
	} {
		servertest.MustFail(t, c.name, cl.Post(t, c.method, c.form), c.msg)
	}
	lk := getKeyJSON(t, cl, tok, k.Key)
	if lk["Notes"] != "orig" || lk["F1"] != false || lk["MaxNoOfMachines"] != float64(0) || lk["Customer"] != nil {
		t.Fatalf("a refused call changed the key: %v", lk)
	}
}

// TestCryptolensCreateKeyParameters: NoOfKeys answers the list of keys, AddOrUseExistingCustomer reuses a
// customer by e-mail, ResellerId, AllowedMachines and TrialActivation reach the keys.
func TestCryptolensCreateKeyParameters(t *testing.T) {
	cl := servertest.NewCLStack(t)
	ctx := context.Background()
	tok := cl.Token(t, license.TokenSpec{})
	acme, _ := cl.Svc.Vendor(ctx, "simon0897")
	res, _ := cl.Svc.CreateReseller(ctx, acme, "simon0897", license.ResellerSpec{Name: "Shop"})
	paulV, _ := cl.Svc.Vendor(ctx, "paul1234")
	theirRes, _ := cl.Svc.CreateReseller(ctx, paulV, "paul1234", license.ResellerSpec{Name: "Theirs"})
	pid := fmt.Sprint(cl.Product.ID)
	m := cl.Post(t, "key/CreateKey", url.Values{"token": {tok}, "ProductId": {pid}, "NoOfKeys": {"3"}, "Period": {"30"},
		"ResellerId": {fmt.Sprint(res.ID)}, "AllowedMachines": {"m-1\nm-2"}, "TrialActivation": {"True"}})
	servertest.MustOK(t, "CreateKey NoOfKeys=3", m)
	list, _ := m["keys"].([]any)
	if len(list) != 3 || m["key"] != list[0] {
		t.Fatalf("CreateKey NoOfKeys=3 = %v", m)
	}
	for _, k := range list {
		lk := getKeyJSON(t, cl, tok, k.(string))
		if lk["AllowedMachines"] != "m-1\nm-2" || lk["TrialActivation"] != true || lk["Reseller"] == nil {
			t.Fatalf("batch key %v", lk)
		}
	}
	one := cl.Post(t, "key/CreateKey", url.Values{"token": {tok}, "ProductId": {pid}})
	if _, has := one["keys"]; has || one["key"] == "" {
		t.Fatalf("one key: %v", one)
	}
	form := url.Values{"token": {tok}, "ProductId": {pid}, "AddOrUseExistingCustomer": {"true"}, "Name": {"Ann"}, "Email": {"ann@example.com"}}
	first := cl.Post(t, "key/CreateKey", form)
	second := cl.Post(t, "key/CreateKey", form)
	servertest.MustOK(t, "AddOrUseExistingCustomer", first)
	if first["customerId"] == nil || first["customerId"] != second["customerId"] {
		t.Fatalf("AddOrUseExistingCustomer: %v then %v; want the same customer", first, second)
	}
	const bad = "The input parameters were incorrect."
	servertest.MustFail(t, "NoOfKeys 0 keys left", cl.Post(t, "key/CreateKey", url.Values{"token": {tok}, "ProductId": {pid}, "NoOfKeys": {"-2"}}), bad)
	servertest.MustFail(t, "AddOrUseExistingCustomer without e-mail", cl.Post(t, "key/CreateKey",
		url.Values{"token": {tok}, "ProductId": {pid}, "AddOrUseExistingCustomer": {"true"}}), bad)
	servertest.MustFail(t, "another's reseller", cl.Post(t, "key/CreateKey",
		url.Values{"token": {tok}, "ProductId": {pid}, "ResellerId": {fmt.Sprint(theirRes.ID)}}), "Could not find the reseller.")
	noCustomerPerm := cl.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodCreateKey}})
	servertest.MustFail(t, "AddOrUseExistingCustomer without AddCustomer", cl.Post(t, "key/CreateKey", url.Values{"token": {noCustomerPerm},
		"ProductId": {pid}, "AddOrUseExistingCustomer": {"true"}, "Email": {"x@example.com"}}), "Access denied.")
	if ks, _ := cl.Svc.ListKeys(ctx, license.Admin(), cl.Product.ID); len(ks) != 6 {
		t.Fatalf("%d keys after the refusals, want 6", len(ks))
	}
}

// TestCryptolensCreateKeyFromTemplate: the Python and Node SDKs' shape (token and LicenseTemplateId only), the
// feature lock naming the one template, another vendor's template, bad ids.
func TestCryptolensCreateKeyFromTemplate(t *testing.T) {
	cl := servertest.NewCLStack(t)
	ctx := context.Background()
	acme, _ := cl.Svc.Vendor(ctx, "simon0897")
	tpl, err := cl.Svc.CreateTemplate(ctx, acme, cl.Product.ID, license.TemplateSpec{Name: "Pro",
		Key: license.KeySpec{Period: 365, Features: [8]bool{false, false, true}, MaxNoOfMachines: 3, Notes: "pro"}})
	if err != nil {
		t.Fatal(err)
	}
	tok := cl.Token(t, license.TokenSpec{})
	m := cl.Post(t, "key/CreateKeyFromTemplate", url.Values{"token": {tok}, "LicenseTemplateId": {fmt.Sprint(tpl.ID)}})
	servertest.MustOK(t, "CreateKeyFromTemplate", m)
	if _, has := m["rawResponse"]; !has {
		t.Fatalf("answer %v lacks rawResponse (the Python SDK reads it)", m)
	}
	lk := getKeyJSON(t, cl, tok, m["key"].(string))
	if lk["F3"] != true || lk["Period"] != float64(365) || lk["MaxNoOfMachines"] != float64(3) || lk["Notes"] != "pro" {
		t.Fatalf("key from the template: %v", lk)
	}
	paul, _ := cl.Svc.CreateAPIToken(ctx, "paul1234", license.TokenSpec{Methods: servertest.AllMethods})
	lockedElsewhere := cl.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodCreateKeyFromTemplate}, FeatureLock: tpl.ID + 1})
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
		servertest.MustFail(t, c.name, cl.Post(t, "key/CreateKeyFromTemplate", c.form), c.msg)
	}
}

// TestCryptolensGetKeysAndProducts: paging as Cryptolens pages (99 a page, returned/total/pageCount), OrderBy
// and SearchQuery as the Python SDK sends them, the Node SDK's lower-case names with globalId=0, and refusals.
func TestCryptolensGetKeysAndProducts(t *testing.T) {
	cl := servertest.NewCLStack(t)
	ctx := context.Background()
	acme, _ := cl.Svc.Vendor(ctx, "simon0897")
	if _, err := cl.Svc.CreateKey(ctx, acme, cl.Product.ID, license.KeySpec{NoOfKeys: 120, Period: 10}); err != nil {
		t.Fatal(err)
	}
	cust, _ := cl.Svc.CreateCustomer(ctx, acme, "simon0897", license.CustomerSpec{Name: "Dora", Email: "dora@example.com"})
	special := cl.NewKey(t, license.KeySpec{Notes: "vip", Features: [8]bool{true}, CustomerID: cust.ID})
	tok := cl.Token(t, license.TokenSpec{})
	pid := fmt.Sprint(cl.Product.ID)
	py := func(page, order, query string) map[string]any {
		return cl.Post(t, "product/getkeys/", url.Values{"token": {tok}, "ProductId": {pid}, "Page": {page}, "OrderBy": {order}, "SearchQuery": {query}})
	}
	p1 := py("1", "ID ascending", "")
	servertest.MustOK(t, "GetKeys page 1", p1)
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
	node := cl.Post(t, "product/GetKeys", url.Values{"token": {tok}, "productId": {pid}, "page": {"1"}, "orderBy": {""},
		"searchQuery": {`Key="` + special.Key + `"`}, "globalId": {"0"}})
	if node["total"] != float64(1) {
		t.Fatalf("Node-shaped GetKeys: %v", node)
	}
	paul, _ := cl.Svc.CreateAPIToken(ctx, "paul1234", license.TokenSpec{Methods: servertest.AllMethods})
	const bad = "The input parameters were incorrect."
	servertest.MustFail(t, "page 0", py("0", "", ""), bad)
	servertest.MustFail(t, "unknown order", py("1", "Password", ""), bad)
	servertest.MustFail(t, "bad query", py("1", "", `Notes.Length > 3`), bad)
	servertest.MustFail(t, "long query", py("1", "", strings.Repeat("F1 && ", 200)+"F1"), bad)
	servertest.MustFail(t, "wrong tenant", cl.Post(t, "product/GetKeys", url.Values{"token": {paul.Token}, "ProductId": {pid}}), "Could not find the product.")
	noPerm := cl.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodGetKey}})
	servertest.MustFail(t, "no permission", cl.Post(t, "product/GetKeys", url.Values{"token": {noPerm}, "ProductId": {pid}}), "Access denied.")

	// GetProducts: the vendor's own products only; a product-locked token sees its product.
	cl.NewProduct(t, "simon0897")
	cl.NewProduct(t, "paul1234")
	pr := cl.Post(t, "product/getproducts/", url.Values{"token": {tok}})
	servertest.MustOK(t, "GetProducts", pr)
	ps := pr["products"].([]any)
	if len(ps) != 2 || ps[0].(map[string]any)["Id"] != float64(cl.Product.ID) || ps[0].(map[string]any)["Name"] != cl.Product.Name {
		t.Fatalf("GetProducts = %v", ps)
	}
	locked := cl.Token(t, license.TokenSpec{ProductLock: cl.Product.ID})
	if ps := cl.Post(t, "product/GetProducts", url.Values{"token": {locked}})["products"].([]any); len(ps) != 1 {
		t.Fatalf("product-locked GetProducts = %v", ps)
	}
	paulPs := cl.Post(t, "product/GetProducts", url.Values{"token": {paul.Token}})["products"].([]any)
	if len(paulPs) != 1 || paulPs[0].(map[string]any)["Name"] != "App of paul1234" {
		t.Fatalf("another vendor's GetProducts = %v", paulPs)
	}
	servertest.MustFail(t, "GetProducts no permission", cl.Post(t, "product/GetProducts", url.Values{"token": {noPerm}}), "Access denied.")
}
