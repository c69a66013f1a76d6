package manage_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestCoreChangesNameTheAdminToken: the changes the licensing core audits itself (products, keys, customers,
// API tokens, WooCommerce stores and SKUs) name the admin API token that made them, as the management API's
// own events do; made without a token, they name none.
func TestCoreChangesNameTheAdminToken(t *testing.T) {
	st := newWooStack(t)
	tok, tokID := createToken(t, st.CLStack, simon, `{"name":"ci"}`)
	steps := func(h map[string]string, name string) {
		r := call(t, st.CLStack, "POST", "/products", `{"name":"`+name+`"}`, h)
		want(t, "product", r, 201)
		product := fmt.Sprintf("/products/%v", r.JSON(t)["id"])
		r = call(t, st.CLStack, "POST", product+"/keys", `{"count":2}`, h)
		want(t, "keys", r, 201)
		ks, _ := items(t, r)
		key := product + "/keys/" + ks[0]["key"].(string)
		want(t, "extend", call(t, st.CLStack, "POST", key+"/extend", `{"days":3}`, h), 200)
		r = call(t, st.CLStack, "POST", "/customers", `{"name":"`+name+` customer"}`, h)
		want(t, "customer", r, 201)
		want(t, "assign", call(t, st.CLStack, "PATCH", key, fmt.Sprintf(`{"customer_id":%v}`, r.JSON(t)["id"]), h, "If-Match", "*"), 200)
		want(t, "api token", call(t, st.CLStack, "POST", "/api-tokens", `{"name":"`+name+`","methods":["Activate"]}`, h), 201)
		r = call(t, st.CLStack, "POST", "/woocommerce/stores", `{"name":"`+name+`"}`, h)
		want(t, "store", r, 201)
		store := fmt.Sprintf("/woocommerce/stores/%v", r.JSON(t)["id"])
		want(t, "sku", call(t, st.CLStack, "POST", store+"/skus", fmt.Sprintf(`{"sku":"%s","product":%s}`, name, strings.TrimPrefix(product, "/products/")), h), 201)
		want(t, "store code", call(t, st.CLStack, "POST", store+"/code", "", h), 200)
	}
	before := len(st.AuditLog(t))
	steps(bearer(tok), "withtoken")
	made := len(st.AuditLog(t))
	steps(simon, "plain")
	events := st.AuditLog(t) // newest first: the plain steps' events, then the token's

	// Every core action the steps make (license.key.* for extend and assign).
	core := []string{"license.product.create", "license.key.create", "license.key.extend", "license.customer.create",
		"license.key.", "license.token.create", "woo.store.create", "woo.sku.set", "woo.store.update"}
	named := map[string]int{}
	for i, e := range events {
		if e.Actor != "simon0897" || i >= len(events)-before { // before the steps
			continue
		}
		hasToken := strings.Contains(e.Detail, "admintoken=")
		if i < len(events)-made { // made with a password
			if hasToken {
				t.Errorf("%s made without a token names one: %q", e.Action, e.Detail)
			}
			continue
		}
		if !strings.HasSuffix(e.Detail, "admintoken="+tokID) {
			t.Errorf("%s made with admin token %s does not name it: %q", e.Action, tokID, e.Detail)
		}
		for _, a := range core {
			if strings.HasPrefix(e.Action, a) {
				named[a]++
			}
		}
	}
	for _, a := range core {
		if named[a] == 0 {
			t.Errorf("no %s event made with the token", a)
		}
	}
}

// TestAuditAnswersWhatWasRecordedBefore: the log is written in batches, yet a change is in the answer of the
// next GET /audit (a script checks its own changes that way).
func TestAuditAnswersWhatWasRecordedBefore(t *testing.T) {
	st := newStack(t)
	for i := range 3 {
		want(t, "product", call(t, st, "POST", "/products", fmt.Sprintf(`{"name":"p%d"}`, i), paul), 201)
		l, _ := items(t, call(t, st, "GET", "/audit?action=license.product.create", "", paul))
		if len(l) != i+1 {
			t.Fatalf("after %d products, the log shows %d: %v", i+1, len(l), l)
		}
	}
}
