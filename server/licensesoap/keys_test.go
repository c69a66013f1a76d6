package licensesoap_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// TestLicenseSOAPGetKeysAndProducts: getKeys pages and searches as product/GetKeys does, getProducts lists the
// caller's products; another vendor, bad input and a missing permission are faults.
func TestLicenseSOAPGetKeysAndProducts(t *testing.T) {
	l := servertest.NewLicStack(t)
	ctx := context.Background()
	vendor := servertest.Basic("simon0897", "s3cret")
	acme, _ := l.Env.Svc.Vendor(ctx, "simon0897")
	if _, err := l.Env.Svc.CreateKey(ctx, acme, l.Prod.ID, license.KeySpec{NoOfKeys: 100, Period: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Env.Svc.CreateKey(ctx, acme, l.Prod.ID, license.KeySpec{Notes: "vip & co", Features: [8]bool{true},
		NewCustomer: &license.CustomerSpec{Name: "Eve"}}); err != nil {
		t.Fatal(err)
	}
	pid := "<productId>" + strconv.FormatInt(l.Prod.ID, 10) + "</productId>"

	w := l.OK(t, vendor, "getKeys", pid)
	if got := len(w.FindElements("return/licenseKey")); got != 99 || servertest.LicText(w, "return/total") != "101" ||
		servertest.LicText(w, "return/pageCount") != "2" || servertest.LicText(w, "return/returned") != "99" {
		t.Fatalf("getKeys page 1: %d keys, total %s, pages %s", got, servertest.LicText(w, "return/total"), servertest.LicText(w, "return/pageCount"))
	}
	w = l.OK(t, vendor, "getKeys", pid+`<page>1</page><searchQuery>F1 &amp;&amp; Notes.Contains("VIP")</searchQuery>`)
	if servertest.LicText(w, "return/total") != "1" || servertest.LicText(w, "return/licenseKey/notes") != "vip & co" ||
		servertest.LicText(w, "return/licenseKey/customer/name") != "Eve" || servertest.LicText(w, "return/licenseKey/f1") != "true" {
		t.Fatalf("getKeys search: total %s notes %q", servertest.LicText(w, "return/total"), servertest.LicText(w, "return/licenseKey/notes"))
	}
	w = l.OK(t, vendor, "getKeys", pid+`<page>2</page><orderBy>ID descending</orderBy>`)
	listed := w.FindElements("return/licenseKey")
	if servertest.LicText(w, "return/returned") != "2" || len(listed) != 2 || servertest.LicText(listed[1], "id") != "1" {
		t.Fatalf("getKeys page 2 descending: %s returned", servertest.LicText(w, "return/returned"))
	}

	w = l.OK(t, vendor, "getProducts", "")
	if len(w.FindElements("return")) != 1 || servertest.LicText(w, "return/name") != "Editor" {
		t.Fatalf("getProducts: %d", len(w.FindElements("return")))
	}

	if err := l.Env.Svc.AddVendor(ctx, "paul1234"); err != nil {
		t.Fatal(err)
	}
	paul := servertest.Basic("paul1234", "pa55")
	l.Fault(t, paul, "getKeys", pid, 500, "Could not find the product.")
	if w := l.OK(t, paul, "getProducts", ""); len(w.FindElements("return")) != 0 {
		t.Fatalf("another vendor's getProducts lists %d products", len(w.FindElements("return")))
	}
	l.Fault(t, vendor, "getKeys", pid+`<page>0</page>`, 500, "The input parameters were incorrect.")
	l.Fault(t, vendor, "getKeys", pid+`<searchQuery>Notes.Length &gt; 2</searchQuery>`, 500, "The input parameters were incorrect.")
	l.Fault(t, vendor, "getKeys", `<page>1</page>`, 500, "The input parameters were incorrect. (productId is required)")
	issued, err := l.Env.Svc.CreateAPIToken(ctx, "simon0897", license.TokenSpec{Methods: []license.Method{license.MethodGetKey}})
	if err != nil {
		t.Fatal(err)
	}
	l.Fault(t, "Bearer "+issued.Token, "getKeys", pid, 500, "Access denied.")
	l.Fault(t, "Bearer "+issued.Token, "getProducts", "", 500, "Access denied.")
}
