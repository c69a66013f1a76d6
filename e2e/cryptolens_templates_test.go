package e2e

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"testing"
)

// TestResellersAndTemplatesCLI: the vendor adds a reseller and a template naming it with the CLI; a key made
// from the template over the Cryptolens API carries the template's parameters and the reseller; the template is
// removed; mistakes on the command line are refused.
func TestResellersAndTemplatesCLI(t *testing.T) {
	srv := startServer(t)
	srv.mustCLI(t, "", "vendor", "add", adminUser)
	product := createdID(t, srv.mustCLI(t, "", "product", "add", "App", "--vendor", adminUser), "product")
	reseller := createdID(t, srv.mustCLI(t, "", "reseller", "add", "--vendor", adminUser, "--name", "Shop Ltd",
		"--email", "sales@shop.example"), "reseller")
	if out := srv.mustCLI(t, "", "reseller", "list"); !strings.Contains(out, "Shop Ltd") || !strings.Contains(out, "sales@shop.example") {
		t.Fatalf("reseller list:\n%s", out)
	}
	tpl := createdID(t, srv.mustCLI(t, "", "template", "add", "--product", product, "--name", "Pro", "--period", "30",
		"--features", "2,4", "--max-machines", "2", "--reseller", reseller, "--notes", "from template"), "template")
	if out := srv.mustCLI(t, "", "template", "list", "--product", product); !strings.Contains(out, "F2,F4") || !strings.Contains(out, "Pro") {
		t.Fatalf("template list:\n%s", out)
	}
	token := strings.TrimSpace(srv.mustCLI(t, "", "apitoken", "create", "--vendor", adminUser, "--methods",
		"CreateKeyFromTemplate,GetKey", "--name", "tpl"))
	post := func(method string, form url.Values) map[string]any {
		t.Helper()
		res, err := httpClient.PostForm(srv.URL+"/api/"+method, form)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("%s: %q", method, body)
		}
		return m
	}
	m := post("key/CreateKeyFromTemplate", url.Values{"token": {token}, "LicenseTemplateId": {tpl}})
	key, _ := m["key"].(string)
	if m["result"] != float64(0) || len(key) != 23 {
		t.Fatalf("CreateKeyFromTemplate: %v", m)
	}
	m = post("key/GetKey", url.Values{"token": {token}, "ProductId": {product}, "Key": {key}})
	raw, _ := base64.StdEncoding.DecodeString(m["licenseKey"].(string))
	var lk map[string]any
	json.Unmarshal(raw, &lk)
	r, _ := lk["Reseller"].(map[string]any)
	if lk["F2"] != true || lk["F4"] != true || lk["F1"] != false || lk["MaxNoOfMachines"] != float64(2) ||
		lk["Notes"] != "from template" || r == nil || r["Name"] != "Shop Ltd" {
		t.Fatalf("key from the template: %v", lk)
	}
	srv.mustCLI(t, "", "template", "remove", tpl)
	if m := post("key/CreateKeyFromTemplate", url.Values{"token": {token}, "LicenseTemplateId": {tpl}}); m["message"] != "Could not find the license template." {
		t.Fatalf("removed template: %v", m)
	}
	for _, args := range [][]string{
		{"template", "remove", "abc"},
		{"template", "remove", tpl},
		{"template", "add", "--product", product},
		{"template", "add", "--product", product, "--name", "X", "--features", "9"},
		{"template", "add", "--product", product, "--name", "X", "--reseller", "999"},
		{"reseller", "add", "--vendor", adminUser},
		{"reseller", "add", "--vendor", "nobody", "--name", "X"},
	} {
		if out, err := srv.cli(t, "", args...); err == nil {
			t.Errorf("%v accepted: %s", args, out)
		}
	}
}
