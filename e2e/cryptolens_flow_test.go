package e2e

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCryptolensVendorFlow: against the built binary, a vendor's day on the Cryptolens-compatible API from the
// first key to a signed-in end user: a key made from a license template, activated on a machine; usage counted
// in a data object up to its bound (the call past the bound refused, the counter left at the bound); an event
// registered and read back, and the calls found in the web API log; then a customer with a user account, who
// signs in with userauth/Login and gets that key.
func TestCryptolensVendorFlow(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.mustCLI(t, "", "vendor", "add", adminUser)
	product := createdID(t, srv.mustCLI(t, "", "product", "add", "Desktop App", "--vendor", adminUser), "product")
	out := srv.mustCLI(t, "", "template", "add", "--product", product, "--name", "Pro, 30 days", "--period", "30",
		"--max-machines", "2", "--features", "1,3")
	m := regexp.MustCompile(`created template (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("template add printed %q", out)
	}
	template := m[1]
	vendorToken := strings.TrimSpace(srv.mustCLI(t, "", "apitoken", "create", "--vendor", adminUser, "--name", "backend", "--methods",
		"CreateKeyFromTemplate,Activate,AddDataObject,IncrementIntValue,ListDataObjects,RegisterEvent,GetEvents,"+
			"GetWebAPILog,AddCustomer,ChangeCustomer,UserAuthAdmin"))
	appToken := strings.TrimSpace(srv.mustCLI(t, "", "apitoken", "create", "--vendor", adminUser, "--name", "app",
		"--methods", "UserAuthNormal", "--product-lock", product))

	call := func(token, method string, kv ...string) map[string]any {
		t.Helper()
		form := url.Values{"token": {token}}
		for i := 0; i+1 < len(kv); i += 2 {
			form.Set(kv[i], kv[i+1])
		}
		res, err := httpClient.PostForm(srv.URL+"/api/"+method, form)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		var answer map[string]any
		if err := json.Unmarshal(body, &answer); err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: HTTP %d %s", method, res.StatusCode, body)
		}
		return answer
	}
	ok := func(what string, answer map[string]any) map[string]any {
		t.Helper()
		if answer["result"] != float64(0) {
			t.Fatalf("%s: %v", what, answer)
		}
		return answer
	}

	// A key from the template carries the template's parameters.
	key, _ := ok("CreateKeyFromTemplate", call(vendorToken, "key/CreateKeyFromTemplate", "LicenseTemplateId", template))["key"].(string)
	if key == "" {
		t.Fatal("CreateKeyFromTemplate answered no key")
	}
	activated := ok("Activate", call(vendorToken, "key/Activate", "ProductId", product, "Key", key, "MachineCode", "pc-1"))
	var lic struct {
		F1, F2, F3      bool
		MaxNoOfMachines int
		Period          int
	}
	if raw, err := base64.StdEncoding.DecodeString(activated["licenseKey"].(string)); err != nil || json.Unmarshal(raw, &lic) != nil {
		t.Fatalf("licenseKey %v: %v", activated["licenseKey"], err)
	}
	if !lic.F1 || lic.F2 || !lic.F3 || lic.MaxNoOfMachines != 2 || lic.Period != 30 {
		t.Fatalf("a key from the template: %+v", lic)
	}

	// Usage counted in a data object on the key, up to a bound of 3.
	ok("AddDataObjectToKey", call(vendorToken, "data/AddDataObjectToKey", "ProductId", product, "Key", key, "Name", "exports", "IntValue", "0"))
	for i := 1; i <= 4; i++ {
		answer := call(vendorToken, "data/IncrementIntValueToKey", "ProductId", product, "Key", key, "Name", "exports",
			"IntValue", "1", "EnableBound", "true", "Bound", "3")
		if got, want := answer["result"], float64(0); (i <= 3) != (got == want) {
			t.Fatalf("increment %d past a bound of 3: %v", i, answer)
		}
	}
	objects, _ := ok("ListDataObjectsToKey", call(vendorToken, "data/ListDataObjectsToKey", "ProductId", product, "Key", key))["dataObjects"].([]any)
	if len(objects) != 1 || objects[0].(map[string]any)["intValue"] != float64(3) {
		t.Fatalf("data objects after the increments: %v", objects)
	}

	// An event, and the web API log of the key (written in batches: polled briefly).
	ok("RegisterEvent", call(vendorToken, "ai/RegisterEvent", "ProductId", product, "Key", key, "MachineCode", "pc-1",
		"FeatureName", "export", "EventName", "pdf"))
	if events, _ := ok("GetEvents", call(vendorToken, "ai/GetEvents", "ProductId", product))["events"].([]any); len(events) != 1 {
		t.Fatalf("GetEvents = %v", events)
	}
	var seen string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var methods []string
		logs, _ := ok("GetWebAPILog", call(vendorToken, "ai/GetWebAPILog", "ProductId", product, "Key", key))["logs"].([]any)
		for _, l := range logs {
			methods = append(methods, l.(map[string]any)["method"].(string))
		}
		if seen = strings.Join(methods, " "); strings.Contains(seen, "key/activate") && strings.Contains(seen, "data/incrementintvaluetokey") &&
			strings.Contains(seen, "ai/registerevent") {
			break
		}
	}
	for _, want := range []string{"key/activate", "data/incrementintvaluetokey", "ai/registerevent"} {
		if !strings.Contains(seen, want) {
			t.Fatalf("the web API log of the key lacks %s: %s", want, seen)
		}
	}

	// The key's customer gets a user account; the user signs in and lists the key.
	customer := jsonNumber(ok("AddCustomer", call(vendorToken, "customer/AddCustomer", "Name", "Carol", "Email", "carol@example.com"))["customerId"])
	ok("ChangeCustomer", call(vendorToken, "key/ChangeCustomer", "ProductId", product, "Key", key, "CustomerId", customer))
	ok("Register", call(vendorToken, "userauth/Register", "UserName", "carol", "Password", "correct-horse", "CustomerId", customer))
	keys, _ := ok("Login", call(appToken, "userauth/Login", "UserName", "carol", "Password", "correct-horse"))["licenseKeys"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["key"] != key {
		t.Fatalf("Login listed %v, want [%s]", keys, key)
	}
}
