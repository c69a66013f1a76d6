package license_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/audit"
	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/storage"
)

// audited is the fixture's store behind a service that records its changes in the audit log and keeps the
// web API log, each written by its batched writer.
type audited struct {
	*fixture
	svc   *license.Service
	rec   *audit.Recorder
	calls *audit.Batcher[storage.WebAPILogEntry]
}

func newAudited(t testing.TB) *audited {
	t.Helper()
	f := newFixture(t)
	rec := audit.New(f.Store, audit.Options{Now: f.Clock.Now})
	calls := audit.NewBatcher("web API log", f.Store.AppendWebAPILog, nil, audit.Options{Now: f.Clock.Now})
	t.Cleanup(rec.Close)
	t.Cleanup(calls.Close)
	svc := license.New(f.Store, keys.NewSealerFor(master, keys.PurposeLicenseSigningKeys), license.Options{Now: f.Clock.Now,
		GenerateKey: func() (*rsa.PrivateKey, error) { return testKeys()[0], nil }, Audit: rec, CallLog: calls})
	return &audited{fixture: f, svc: svc, rec: rec, calls: calls}
}

func (a *audited) events(t *testing.T) []storage.AuditEvent {
	t.Helper()
	if err := a.rec.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	evs, err := a.Store.ListAudit(context.Background(), storage.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(evs)
	return evs
}

// TestEveryLicensingChangeIsAudited: each change to vendors, products, customers, keys, activations, tokens,
// messages, usage and WooCommerce stores writes one audit event naming the vendor, made through the core, so
// that the CLI, the Cryptolens API and the SOAP LicenseService all record it. No event holds a whole key.
func TestEveryLicensingChangeIsAudited(t *testing.T) {
	a := newAudited(t)
	ctx := license.WithClient(context.Background(), "192.0.2.9")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	admin := license.Admin()
	must(a.svc.AddVendor(ctx, "plain"))
	p, err := a.svc.CreateProduct(ctx, admin, "acme", license.ProductSpec{Name: "Editor"})
	must(err)
	_, err = a.svc.CreateCustomer(ctx, admin, "acme", license.CustomerSpec{Name: "Ann"})
	must(err)
	issued, err := a.svc.CreateAPIToken(ctx, "acme", license.TokenSpec{Name: "app", Methods: license.Methods})
	must(err)
	tok, err := a.svc.Authenticate(ctx, issued.Token)
	must(err)
	created, err := a.svc.CreateKey(ctx, tok, p.ID, license.KeySpec{Period: 30, MaxNoOfMachines: 2,
		NewCustomer: &license.CustomerSpec{Name: "Bo"}})
	must(err)
	key := created.Key.Key
	_, err = a.svc.CreateTrialKey(ctx, tok, p.ID, "trial-pc")
	must(err)
	must(a.svc.BlockKey(ctx, tok, p.ID, key, true))
	must(a.svc.BlockKey(ctx, tok, p.ID, key, false))
	must(a.svc.ExtendLicense(ctx, tok, p.ID, key, 10))
	_, err = a.svc.Activate(ctx, tok, license.ActivateRequest{ProductID: p.ID, Key: key, MachineCode: "pc-1"})
	must(err)
	must(a.svc.Deactivate(ctx, tok, license.DeactivateRequest{ProductID: p.ID, Key: key, MachineCode: "pc-1"}))
	_, err = a.svc.Activate(ctx, tok, license.ActivateRequest{ProductID: p.ID, Key: key, MachineCode: "pc-2"})
	must(err)
	must(a.svc.RemoveActivation(ctx, admin, p.ID, key, "pc-2", false))
	_, err = a.svc.SetBlockExpired(ctx, admin, p.ID, true)
	must(err)
	_, err = a.svc.RotateProductKey(ctx, admin, p.ID)
	must(err)
	m, err := a.svc.CreateMessage(ctx, tok, license.MessageSpec{Content: "hello"})
	must(err)
	must(a.svc.RemoveMessage(ctx, tok, m.ID))
	_, err = a.svc.RecordUsage(ctx, tok, p.ID, key, 4)
	must(err)
	must(a.svc.RevokeAPIToken(ctx, "acme", issued.Record.ID))
	wooSvc := woo.New(a.svc, a.Store, woo.Options{})
	vendor, err := a.svc.Vendor(ctx, "acme")
	must(err)
	st, err := wooSvc.CreateStore(ctx, vendor, "acme", woo.StoreSpec{Name: "shop", Code: "store-code-secret-1"})
	must(err)
	code := "store-code-secret-2"
	_, err = wooSvc.UpdateStore(ctx, vendor, st.ID, woo.StoreChange{Code: &code})
	must(err)
	must(wooSvc.SetSKU(ctx, vendor, st.ID, "EDITOR-1", p.ID, false))
	must(wooSvc.RemoveSKU(ctx, vendor, st.ID, "EDITOR-1"))
	// A refusal for lack of authority is recorded too; bad input is not (it changes nothing).
	narrow, err := a.svc.CreateAPIToken(ctx, "acme", license.TokenSpec{Name: "narrow", Methods: []license.Method{license.MethodBlockKey},
		ProductLock: p.ID, KeyLock: 999})
	must(err)
	narrowTok, err := a.svc.Authenticate(ctx, narrow.Token)
	must(err)
	if err := a.svc.BlockKey(ctx, narrowTok, p.ID, key, true); !errors.Is(err, license.ErrAccessDenied) {
		t.Fatalf("BlockKey by a token locked to another key = %v", err)
	}
	if err := a.svc.ExtendLicense(ctx, tok, p.ID, key, -1); !errors.Is(err, license.ErrInvalidInput) {
		t.Fatal(err)
	}

	want := []string{
		"license.vendor.add ok plain", "license.product.create ok acme", "license.customer.create ok acme",
		"license.token.create ok acme", "license.customer.create ok acme", "license.key.create ok acme",
		"license.key.create_trial ok acme", "license.key.blockkey ok acme", "license.key.unblockkey ok acme",
		"license.key.extendlicense ok acme", "license.activate ok acme", "license.deactivate ok acme", "license.activate ok acme",
		"license.activation.remove ok ", "license.product.block_expired ok acme", "license.product.rotate_key ok acme",
		"license.message.create ok acme", "license.message.remove ok acme", "license.usage.record ok acme",
		"license.token.revoke ok acme", "woo.store.create ok acme", "woo.store.update ok acme", "woo.sku.set ok acme",
		"woo.sku.remove ok acme", "license.token.create ok acme", "license.key.blockkey refused: license: access denied acme",
	}
	var got []string
	for _, e := range a.events(t) {
		got = append(got, e.Action+" "+e.Outcome+" "+e.Subject)
		if strings.Contains(e.Detail, key) || strings.Contains(e.Detail, "store-code-secret") {
			t.Errorf("%s: detail %q holds a secret", e.Action, e.Detail)
		}
		if e.ClientHost != "192.0.2.9" {
			t.Errorf("%s: client %q, want the caller's address", e.Action, e.ClientHost)
		}
		if strings.HasPrefix(e.Action, "license.key.") && !regexp.MustCompile(`key=[A-Z]{5}-… `).MatchString(e.Detail+" ") {
			t.Errorf("%s: detail %q does not name the key by its first block", e.Action, e.Detail)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestActivityRetention: the web API log and events older than the retention are pruned, and past the row
// cap only the newest are kept; the clock is the service's.
func TestActivityRetention(t *testing.T) {
	a := newAudited(t)
	ctx := context.Background()
	p := a.Product(t, "acme")
	k := a.Key(t, p.ID, license.KeySpec{Period: 30})
	issued, err := a.svc.CreateAPIToken(ctx, "acme", license.TokenSpec{Name: "app", Methods: license.Methods})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.svc.Authenticate(ctx, issued.Token)
	if err != nil {
		t.Fatal(err)
	}
	logDay := func(n int) {
		for range n {
			a.svc.LogCall(tok, license.CallRecord{Method: "key/getkey", ProductID: p.ID, Key: k.Key})
			if err := a.svc.RegisterEvents(ctx, tok, license.EventTarget{ProductID: p.ID}, []license.EventSpec{{EventName: "e"}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.calls.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	count := func() (int, int) {
		logs, err := a.svc.GetWebAPILog(ctx, tok, license.LogQuery{ListQuery: license.ListQuery{Limit: 1000}})
		if err != nil {
			t.Fatal(err)
		}
		evs, err := a.svc.GetEvents(ctx, tok, license.ListQuery{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return len(logs), len(evs)
	}
	logDay(3)
	a.Clock.Add(20 * 24 * time.Hour)
	logDay(2)
	a.Clock.Add(15 * 24 * time.Hour) // the first day's are 35 days old, the second's 15
	if n, err := a.svc.PruneActivity(ctx, 30*24*time.Hour, 0); n != 6 || err != nil {
		t.Fatalf("PruneActivity(30 days) = %d, %v; want the first day's 3 log entries and 3 events", n, err)
	}
	if logs, evs := count(); logs != 2 || evs != 2 {
		t.Fatalf("after the retention: %d log entries, %d events; want 2 and 2", logs, evs)
	}
	logDay(3)
	if _, err := a.svc.PruneActivity(ctx, 0, 4); err != nil {
		t.Fatal(err)
	}
	if logs, evs := count(); logs != 4 || evs != 4 {
		t.Fatalf("after the row cap: %d log entries, %d events; want 4 and 4", logs, evs)
	}
}

// TestActivityBounds: the core refuses what would grow a vendor's records without bound.
func TestActivityBounds(t *testing.T) {
	a := newAudited(t)
	ctx := context.Background()
	admin := license.Admin()
	if _, err := a.svc.GetMessages(ctx, admin, "", time.Time{}); !errors.Is(err, license.ErrInvalidInput) {
		t.Fatalf("GetMessages as the operator = %v, want ErrInvalidInput (messages belong to a vendor)", err)
	}
	vendor, err := a.svc.Vendor(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	many := make([]license.EventSpec, license.MaxEventsPerCall+1)
	if err := a.svc.RegisterEvents(ctx, vendor, license.EventTarget{}, many); !errors.Is(err, license.ErrInvalidInput) {
		t.Fatalf("RegisterEvents(%d) = %v", len(many), err)
	}
	future := []license.EventSpec{{EventName: "e", Time: a.Clock.Now().Add(48 * time.Hour)}}
	if err := a.svc.RegisterEvents(ctx, vendor, license.EventTarget{}, future); !errors.Is(err, license.ErrInvalidInput) {
		t.Fatalf("RegisterEvents(two days ahead) = %v", err)
	}
	if _, err := a.svc.CreateMessage(ctx, vendor, license.MessageSpec{Content: "x", Time: license.MaxExpiry.Add(time.Hour)}); !errors.Is(err, license.ErrInvalidInput) {
		t.Fatalf("CreateMessage(past MaxExpiry) = %v", err)
	}
}

// BenchmarkLogCall is what the web API log adds to a licensing call: a hash of the key and a queued record;
// the batch writes run on the batcher's goroutine.
func BenchmarkLogCall(b *testing.B) {
	a := newAudited(b)
	tok, err := a.svc.Vendor(context.Background(), "acme")
	if err != nil {
		b.Fatal(err)
	}
	rec := license.CallRecord{Method: "key/activate", ProductID: 1, Key: "MUYVD-LSEBY-CXHRQ-XFAGY", MachineCode: "machine", IP: "127.0.0.1"}
	b.ReportAllocs()
	for b.Loop() {
		a.svc.LogCall(tok, rec)
	}
	b.StopTimer()
	if err := a.calls.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(a.calls.Dropped()), "dropped")
}
