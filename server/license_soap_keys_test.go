package server_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/tokenmanager/tokenmanager/license"
)

// TestLicenseSOAPGetKeysAndProducts: getKeys pages and searches as product/GetKeys does, getProducts lists the
// caller's products; another vendor, bad input and a missing permission are faults.
func TestLicenseSOAPGetKeysAndProducts(t *testing.T) {
	l := newLicStack(t)
	ctx := context.Background()
	vendor := basic("simon0897", "s3cret")
	acme, _ := l.env.Svc.Vendor(ctx, "simon0897")
	if _, err := l.env.Svc.CreateKey(ctx, acme, l.prod.ID, license.KeySpec{NoOfKeys: 100, Period: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.env.Svc.CreateKey(ctx, acme, l.prod.ID, license.KeySpec{Notes: "vip & co", Features: [8]bool{true},
		NewCustomer: &license.CustomerSpec{Name: "Eve"}}); err != nil {
		t.Fatal(err)
	}
	pid := "<productId>" + strconv.FormatInt(l.prod.ID, 10) + "</productId>"

	w := l.ok(t, vendor, "getKeys", pid)
	if got := len(w.FindElements("return/licenseKey")); got != 99 || licText(w, "return/total") != "101" ||
		licText(w, "return/pageCount") != "2" || licText(w, "return/returned") != "99" {
		t.Fatalf("getKeys page 1: %d keys, total %s, pages %s", got, licText(w, "return/total"), licText(w, "return/pageCount"))
	}
	w = l.ok(t, vendor, "getKeys", pid+`<page>1</page><searchQuery>F1 &amp;&amp; Notes.Contains("VIP")</searchQuery>`)
	if licText(w, "return/total") != "1" || licText(w, "return/licenseKey/notes") != "vip & co" ||
		licText(w, "return/licenseKey/customer/name") != "Eve" || licText(w, "return/licenseKey/f1") != "true" {
		t.Fatalf("getKeys search: total %s notes %q", licText(w, "return/total"), licText(w, "return/licenseKey/notes"))
	}
	w = l.ok(t, vendor, "getKeys", pid+`<page>2</page><orderBy>ID descending</orderBy>`)
	listed := w.FindElements("return/licenseKey")
	if licText(w, "return/returned") != "2" || len(listed) != 2 || licText(listed[1], "id") != "1" {
		t.Fatalf("getKeys page 2 descending: %s returned", licText(w, "return/returned"))
	}

	w = l.ok(t, vendor, "getProducts", "")
	if len(w.FindElements("return")) != 1 || licText(w, "return/name") != "Editor" {
		t.Fatalf("getProducts: %d", len(w.FindElements("return")))
	}

	if err := l.env.Svc.AddVendor(ctx, "paul1234"); err != nil {
		t.Fatal(err)
	}
	paul := basic("paul1234", "pa55")
	l.fault(t, paul, "getKeys", pid, 500, "Could not find the product.")
	if w := l.ok(t, paul, "getProducts", ""); len(w.FindElements("return")) != 0 {
		t.Fatalf("another vendor's getProducts lists %d products", len(w.FindElements("return")))
	}
	l.fault(t, vendor, "getKeys", pid+`<page>0</page>`, 500, "The input parameters were incorrect.")
	l.fault(t, vendor, "getKeys", pid+`<searchQuery>Notes.Length &gt; 2</searchQuery>`, 500, "The input parameters were incorrect.")
	l.fault(t, vendor, "getKeys", `<page>1</page>`, 500, "The input parameters were incorrect. (productId is required)")
	issued, err := l.env.Svc.CreateAPIToken(ctx, "simon0897", license.TokenSpec{Methods: []license.Method{license.MethodGetKey}})
	if err != nil {
		t.Fatal(err)
	}
	l.fault(t, "Bearer "+issued.Token, "getKeys", pid, 500, "Access denied.")
	l.fault(t, "Bearer "+issued.Token, "getProducts", "", 500, "Access denied.")
}
