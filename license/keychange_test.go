package license_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/license"
)

func TestKeyChanges(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.Product(t, "acme")
	k := f.Key(t, p.ID, license.KeySpec{Period: 30})
	acme, _ := f.Svc.Vendor(ctx, "acme")
	other, _ := f.Svc.Vendor(ctx, "other")
	theirs, _ := f.Svc.CreateCustomer(ctx, other, "other", license.CustomerSpec{Name: "Theirs"})
	ours, _ := f.Svc.CreateCustomer(ctx, acme, "acme", license.CustomerSpec{Name: "Ours"})
	r, err := f.Svc.CreateReseller(ctx, acme, "acme", license.ResellerSpec{Name: "Shop", Email: "s@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	theirR, _ := f.Svc.CreateReseller(ctx, other, "other", license.ResellerSpec{Name: "Theirs"})

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.Svc.AddFeature(ctx, acme, p.ID, k.Key, 3, true))
	must(f.Svc.AddFeature(ctx, acme, p.ID, k.Key, 8, true))
	must(f.Svc.AddFeature(ctx, acme, p.ID, k.Key, 8, false))
	must(f.Svc.ChangeNotes(ctx, acme, p.ID, k.Key, "new notes"))
	must(f.Svc.ChangeCustomer(ctx, acme, p.ID, k.Key, ours.ID))
	must(f.Svc.ChangeReseller(ctx, acme, p.ID, k.Key, r.ID))
	must(f.Svc.MachineLockLimit(ctx, acme, p.ID, k.Key, 5))
	l, err := f.Svc.GetKey(ctx, acme, p.ID, k.Key, 0)
	must(err)
	if !l.Key.Features[2] || l.Key.Features[7] || l.Key.Notes != "new notes" || l.Customer == nil || l.Customer.ID != ours.ID ||
		l.Reseller == nil || l.Reseller.Name != "Shop" || l.Key.MaxNoOfMachines != 5 {
		t.Fatalf("after the changes: %+v customer %+v reseller %+v", l.Key, l.Customer, l.Reseller)
	}

	// Refusals change nothing.
	for name, err := range map[string]error{
		"feature 0":             f.Svc.AddFeature(ctx, acme, p.ID, k.Key, 0, true),
		"feature 9":             f.Svc.AddFeature(ctx, acme, p.ID, k.Key, 9, false),
		"long notes":            f.Svc.ChangeNotes(ctx, acme, p.ID, k.Key, string(make([]byte, 600))),
		"negative machines":     f.Svc.MachineLockLimit(ctx, acme, p.ID, k.Key, -1),
		"another's customer":    f.Svc.ChangeCustomer(ctx, acme, p.ID, k.Key, theirs.ID),
		"another's reseller":    f.Svc.ChangeReseller(ctx, acme, p.ID, k.Key, theirR.ID),
		"another vendor's key":  f.Svc.ChangeNotes(ctx, other, p.ID, k.Key, "x"),
		"no such key":           f.Svc.AddFeature(ctx, acme, p.ID, "NOPE", 1, true),
		"another's key feature": f.Svc.AddFeature(ctx, other, p.ID, k.Key, 1, true),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	l2, _ := f.Svc.GetKey(ctx, acme, p.ID, k.Key, 0)
	if l2.Key != l.Key {
		t.Fatalf("a refused change changed the key: %+v, was %+v", l2.Key, l.Key)
	}
	for _, c := range []struct {
		err  error
		want error
	}{
		{f.Svc.ChangeCustomer(ctx, acme, p.ID, k.Key, theirs.ID), license.ErrCustomerNotFound},
		{f.Svc.ChangeReseller(ctx, acme, p.ID, k.Key, theirR.ID), license.ErrResellerNotFound},
		{f.Svc.ChangeNotes(ctx, other, p.ID, k.Key, "x"), license.ErrProductNotFound},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("got %v, want %v", c.err, c.want)
		}
	}
	// 0 unlinks.
	must(f.Svc.ChangeCustomer(ctx, acme, p.ID, k.Key, 0))
	must(f.Svc.ChangeReseller(ctx, acme, p.ID, k.Key, 0))
	if l, _ := f.Svc.GetKey(ctx, acme, p.ID, k.Key, 0); l.Customer != nil || l.Reseller != nil {
		t.Fatalf("after unlinking: %+v %+v", l.Customer, l.Reseller)
	}

	// A token needs each method's own permission and respects its key lock.
	tok := f.Token(t, "acme", license.TokenSpec{Methods: []license.Method{license.MethodChangeNotes}, ProductLock: p.ID, KeyLock: k.ID})
	must(f.Svc.ChangeNotes(ctx, tok, p.ID, k.Key, "by token"))
	if err := f.Svc.AddFeature(ctx, tok, p.ID, k.Key, 1, true); !errors.Is(err, license.ErrAccessDenied) {
		t.Fatalf("AddFeature without the permission = %v", err)
	}
	k2 := f.Key(t, p.ID, license.KeySpec{})
	if err := f.Svc.ChangeNotes(ctx, tok, p.ID, k2.Key, "x"); !errors.Is(err, license.ErrAccessDenied) {
		t.Fatalf("ChangeNotes on another key than the lock = %v", err)
	}
}

func TestCreateKeyBatchesAndCustomers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.Product(t, "acme")
	acme, _ := f.Svc.Vendor(ctx, "acme")
	r, _ := f.Svc.CreateReseller(ctx, acme, "acme", license.ResellerSpec{Name: "Shop"})
	out, err := f.Svc.CreateKey(ctx, acme, p.ID, license.KeySpec{NoOfKeys: 5, Period: 10, ResellerID: r.ID, TrialActivation: true,
		AllowedMachines: "m1"})
	if err != nil || len(out.Keys) != 5 || out.Key != out.Keys[0] {
		t.Fatalf("CreateKey(5) = %+v, %v", out, err)
	}
	for _, k := range out.Keys {
		if k.ResellerID != r.ID || !k.TrialActivation || k.AllowedMachines != "m1" || k.Period != 10 {
			t.Fatalf("batch key %+v", k)
		}
	}
	for _, bad := range []license.KeySpec{{NoOfKeys: license.MaxKeysPerCall + 1}, {NoOfKeys: -1}, {ResellerID: 9999},
		{AddOrUseExistingCustomer: true}} {
		if _, err := f.Svc.CreateKey(ctx, acme, p.ID, bad); err == nil {
			t.Fatalf("CreateKey(%+v) accepted", bad)
		}
	}
	if ks, _ := f.Svc.ListKeys(ctx, acme, p.ID); len(ks) != 5 {
		t.Fatalf("refused CreateKey calls left %d keys, want 5", len(ks))
	}
	spec := license.KeySpec{AddOrUseExistingCustomer: true, NewCustomer: &license.CustomerSpec{Name: "Ann", Email: "ann@example.com"}}
	first, err := f.Svc.CreateKey(ctx, acme, p.ID, spec)
	if err != nil || first.Customer == nil {
		t.Fatalf("AddOrUseExistingCustomer (new) = %+v, %v", first, err)
	}
	again, err := f.Svc.CreateKey(ctx, acme, p.ID, spec)
	if err != nil || again.Customer == nil || again.Customer.ID != first.Customer.ID || again.Key.CustomerID != first.Customer.ID {
		t.Fatalf("AddOrUseExistingCustomer (existing) = %+v, %v; want customer %d", again, err, first.Customer.ID)
	}
	if cs, _ := f.Svc.ListCustomers(ctx, acme); len(cs) != 1 {
		t.Fatalf("%d customers, want 1", len(cs))
	}
}

func TestTemplates(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.Product(t, "acme")
	acme, _ := f.Svc.Vendor(ctx, "acme")
	other, _ := f.Svc.Vendor(ctx, "other")
	tpl, err := f.Svc.CreateTemplate(ctx, acme, p.ID, license.TemplateSpec{Name: "Pro", Key: license.KeySpec{Period: 365,
		Features: [8]bool{true}, Notes: "pro", MaxNoOfMachines: 2}})
	if err != nil {
		t.Fatal(err)
	}
	tpl2, _ := f.Svc.CreateTemplate(ctx, acme, p.ID, license.TemplateSpec{Name: "Basic"})
	if _, err := f.Svc.CreateTemplate(ctx, other, p.ID, license.TemplateSpec{Name: "X"}); !errors.Is(err, license.ErrProductNotFound) {
		t.Fatalf("template on another vendor's product = %v", err)
	}
	k, _, err := f.Svc.CreateKeyFromTemplate(ctx, acme, tpl.ID)
	if err != nil || k.Period != 365 || !k.Features[0] || k.Notes != "pro" || k.MaxNoOfMachines != 2 || k.ProductID != p.ID {
		t.Fatalf("CreateKeyFromTemplate = %+v, %v", k, err)
	}
	if _, _, err := f.Svc.CreateKeyFromTemplate(ctx, other, tpl.ID); !errors.Is(err, license.ErrTemplateNotFound) {
		t.Fatalf("another vendor's template = %v, want ErrTemplateNotFound", err)
	}
	// The feature lock is the one template a token may use.
	tok := f.Token(t, "acme", license.TokenSpec{Methods: []license.Method{license.MethodCreateKeyFromTemplate}, FeatureLock: tpl2.ID})
	if _, _, err := f.Svc.CreateKeyFromTemplate(ctx, tok, tpl.ID); !errors.Is(err, license.ErrAccessDenied) {
		t.Fatalf("template outside the feature lock = %v", err)
	}
	if _, _, err := f.Svc.CreateKeyFromTemplate(ctx, tok, tpl2.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.Svc.RemoveTemplate(ctx, other, tpl.ID); !errors.Is(err, license.ErrTemplateNotFound) {
		t.Fatalf("RemoveTemplate by another vendor = %v", err)
	}
	if err := f.Svc.RemoveTemplate(ctx, acme, tpl.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Svc.CreateKeyFromTemplate(ctx, acme, tpl.ID); !errors.Is(err, license.ErrTemplateNotFound) {
		t.Fatalf("removed template = %v", err)
	}
}

func TestGetKeysPaging(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.Product(t, "acme")
	acme, _ := f.Svc.Vendor(ctx, "acme")
	other, _ := f.Svc.Vendor(ctx, "other")
	const n = 2*license.KeysPageSize + 5
	out, err := f.Svc.CreateKey(ctx, acme, p.ID, license.KeySpec{NoOfKeys: n - 1})
	if err != nil {
		t.Fatal(err)
	}
	f.Key(t, p.ID, license.KeySpec{Notes: "special", Features: [8]bool{false, true}})
	page := func(req license.KeysRequest) license.KeysPage {
		t.Helper()
		req.ProductID = p.ID
		pg, err := f.Svc.GetKeys(ctx, acme, req)
		if err != nil {
			t.Fatal(err)
		}
		return pg
	}
	p1 := page(license.KeysRequest{Page: 1})
	if p1.Total != n || p1.PageCount != 3 || p1.Returned != license.KeysPageSize || p1.Keys[0].Key.ID != 1 {
		t.Fatalf("page 1: total %d, pages %d, returned %d", p1.Total, p1.PageCount, p1.Returned)
	}
	p3 := page(license.KeysRequest{Page: 3})
	if p3.Returned != 5 || p3.Keys[4].Key.ID != n {
		t.Fatalf("page 3: returned %d", p3.Returned)
	}
	if p4 := page(license.KeysRequest{Page: 4}); p4.Returned != 0 || p4.Total != n {
		t.Fatalf("page 4: %+v", p4)
	}
	desc := page(license.KeysRequest{Page: 1, OrderBy: "ID descending"})
	if desc.Keys[0].Key.ID != n {
		t.Fatalf("ID descending starts with %d", desc.Keys[0].Key.ID)
	}
	found := page(license.KeysRequest{Page: 1, SearchQuery: `F2 == true && Notes.Contains("spec")`})
	if found.Total != 1 || found.PageCount != 1 || found.Keys[0].Key.Notes != "special" {
		t.Fatalf("search: %+v", found)
	}
	byKey := page(license.KeysRequest{Page: 1, SearchQuery: fmt.Sprintf(`Key == %q`, out.Keys[3].Key)})
	if byKey.Total != 1 || byKey.Keys[0].Key.ID != out.Keys[3].ID {
		t.Fatalf("search by key: %+v", byKey)
	}
	for _, bad := range []license.KeysRequest{{Page: 0}, {Page: 1, OrderBy: "Password"}, {Page: 1, OrderBy: "ID sideways"},
		{Page: 1, SearchQuery: "ID =="}} {
		bad.ProductID = p.ID
		if _, err := f.Svc.GetKeys(ctx, acme, bad); !errors.Is(err, license.ErrInvalidInput) {
			t.Fatalf("GetKeys(%+v) = %v, want ErrInvalidInput", bad, err)
		}
	}
	if _, err := f.Svc.GetKeys(ctx, other, license.KeysRequest{ProductID: p.ID, Page: 1}); !errors.Is(err, license.ErrProductNotFound) {
		t.Fatalf("another vendor's product = %v", err)
	}
	// A key-locked token sees its key only; a product-locked one lists its product only.
	tok := f.Token(t, "acme", license.TokenSpec{Methods: []license.Method{license.MethodGetKeys, license.MethodGetProducts},
		ProductLock: p.ID, KeyLock: 2})
	if pg, err := f.Svc.GetKeys(ctx, tok, license.KeysRequest{ProductID: p.ID, Page: 1}); err != nil || pg.Total != 1 || pg.Keys[0].Key.ID != 2 {
		t.Fatalf("key-locked GetKeys = %+v, %v", pg, err)
	}
	f.Product(t, "acme")
	if ps, err := f.Svc.GetProducts(ctx, tok); err != nil || len(ps) != 1 || ps[0].ID != p.ID {
		t.Fatalf("product-locked GetProducts = %+v, %v", ps, err)
	}
	if ps, err := f.Svc.GetProducts(ctx, acme); err != nil || len(ps) != 2 {
		t.Fatalf("GetProducts = %d, %v", len(ps), err)
	}
}

// BenchmarkGetKeys: one page of a search over a product of 5,000 keys (every key is read and matched; the page's
// activations are read per key).
func BenchmarkGetKeys(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	p := f.Product(b, "acme")
	acme, _ := f.Svc.Vendor(ctx, "acme")
	for range 5 {
		if _, err := f.Svc.CreateKey(ctx, acme, p.ID, license.KeySpec{NoOfKeys: 1000, Notes: "bulk"}); err != nil {
			b.Fatal(err)
		}
	}
	req := license.KeysRequest{ProductID: p.ID, Page: 3, OrderBy: "Expires descending", SearchQuery: `Notes.Contains("bul") && !F8`}
	b.ResetTimer()
	for b.Loop() {
		if pg, err := f.Svc.GetKeys(ctx, acme, req); err != nil || pg.Returned != license.KeysPageSize {
			b.Fatal(pg.Returned, err)
		}
	}
}

// TestKeyCatalogChangesAudited: resellers, templates, key batches, keys from a template and the key changes are
// recorded by the core as the other key changes are (license.key.<method>), naming keys only by their first block.
func TestKeyCatalogChangesAudited(t *testing.T) {
	a := newAudited(t)
	ctx := license.WithClient(context.Background(), "192.0.2.7")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	admin := license.Admin()
	p, err := a.svc.CreateProduct(ctx, admin, "acme", license.ProductSpec{Name: "Editor"})
	must(err)
	acme, err := a.svc.Vendor(ctx, "acme")
	must(err)
	r, err := a.svc.CreateReseller(ctx, acme, "acme", license.ResellerSpec{Name: "Shop"})
	must(err)
	tpl, err := a.svc.CreateTemplate(ctx, acme, p.ID, license.TemplateSpec{Name: "Pro", Key: license.KeySpec{Period: 5}})
	must(err)
	issued, err := a.svc.CreateAPIToken(ctx, "acme", license.TokenSpec{Name: "app", Methods: license.Methods})
	must(err)
	tok, err := a.svc.Authenticate(ctx, issued.Token)
	must(err)
	batch, err := a.svc.CreateKey(ctx, tok, p.ID, license.KeySpec{NoOfKeys: 3, ResellerID: r.ID})
	must(err)
	k, _, err := a.svc.CreateKeyFromTemplate(ctx, tok, tpl.ID)
	must(err)
	must(a.svc.AddFeature(ctx, tok, p.ID, k.Key, 2, true))
	must(a.svc.ChangeReseller(ctx, tok, p.ID, k.Key, r.ID))
	must(a.svc.MachineLockLimit(ctx, tok, p.ID, batch.Key.Key, 3))
	must(a.svc.RemoveTemplate(ctx, acme, tpl.ID))
	notesOnly, err := a.svc.CreateAPIToken(ctx, "acme", license.TokenSpec{Name: "notes", Methods: []license.Method{license.MethodChangeNotes},
		ProductLock: p.ID, KeyLock: k.ID})
	must(err)
	locked, err := a.svc.Authenticate(ctx, notesOnly.Token)
	must(err)
	if err := a.svc.ChangeNotes(ctx, locked, p.ID, batch.Key.Key, "x"); !errors.Is(err, license.ErrAccessDenied) {
		t.Fatalf("ChangeNotes outside the key lock: %v", err)
	}

	var got []string
	details := map[string]string{}
	for _, e := range a.events(t) {
		if strings.HasPrefix(e.Action, "license.key.") || strings.HasPrefix(e.Action, "license.reseller.") ||
			strings.HasPrefix(e.Action, "license.template.") {
			got = append(got, e.Action+" "+e.Outcome)
			details[e.Action] = e.Detail
			if strings.Contains(e.Detail, k.Key) || strings.Contains(e.Detail, batch.Key.Key) || e.ClientHost != "192.0.2.7" {
				t.Errorf("event %s: detail %q, client %q", e.Action, e.Detail, e.ClientHost)
			}
		}
	}
	want := "license.reseller.create ok,license.template.create ok,license.key.create ok,license.key.createkeyfromtemplate ok," +
		"license.key.addfeature ok,license.key.changereseller ok,license.key.machinelocklimit ok,license.template.remove ok," +
		"license.key.changenotes refused: license: access denied"
	if strings.Join(got, ",") != want {
		t.Fatalf("audit:\n%s\nwant\n%s", strings.Join(got, ","), want)
	}
	if d := details["license.key.create"]; !strings.Contains(d, "keys=3") || !strings.Contains(d, fmt.Sprintf("reseller=%d", r.ID)) {
		t.Errorf("batch detail %q", d)
	}
	if d := details["license.key.createkeyfromtemplate"]; !strings.Contains(d, fmt.Sprintf("template=%d", tpl.ID)) {
		t.Errorf("template key detail %q", d)
	}
}
