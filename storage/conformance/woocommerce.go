package conformance

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

func mustWooStore(t *testing.T, s storage.Store, vendor, code string) storage.WooStore {
	t.Helper()
	ws, err := s.CreateWooStore(context.Background(), storage.WooStore{Vendor: vendor, Name: "shop of " + vendor,
		CodeHash: []byte("hash-" + code), CreatedAt: base})
	if err != nil {
		t.Fatalf("CreateWooStore(%q): %v", vendor, err)
	}
	return ws
}

func testWooStores(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "plain")
	if _, err := s.CreateWooStore(ctx, storage.WooStore{Vendor: "plain", CodeHash: []byte("h"), CreatedAt: base}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CreateWooStore(user is no vendor) = %v, want ErrNotFound", err)
	}
	mustVendor(t, s, "acme")
	mustVendor(t, s, "other")
	a := mustWooStore(t, s, "acme", "a")
	b := mustWooStore(t, s, "acme", "b")
	o := mustWooStore(t, s, "other", "o")
	if a.ID == 0 || a.ID == b.ID || b.ID == o.ID {
		t.Fatalf("store ids %d, %d, %d", a.ID, b.ID, o.ID)
	}
	if _, err := s.CreateWooStore(ctx, storage.WooStore{Vendor: "other", CodeHash: []byte("hash-a"), CreatedAt: base}); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("CreateWooStore(same code as another store) = %v, want ErrConflict", err)
	}

	got, err := s.FindWooStore(ctx, []byte("hash-b"))
	if err != nil || got.ID != b.ID || got.Vendor != "acme" || got.Name != "shop of acme" || !got.CreatedAt.Equal(base) ||
		got.RequireToken || got.ErrorsByCode {
		t.Fatalf("FindWooStore = %+v, %v", got, err)
	}
	if _, err := s.FindWooStore(ctx, []byte("hash-x")); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("FindWooStore(unknown code) = %v, want ErrNotFound", err)
	}
	if _, err := s.GetWooStore(ctx, 999); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetWooStore(missing) = %v, want ErrNotFound", err)
	}
	list, err := s.ListWooStores(ctx, "acme")
	if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("ListWooStores(acme) = %+v, %v", list, err)
	}
	if all, err := s.ListWooStores(ctx, ""); err != nil || len(all) != 3 {
		t.Fatalf("ListWooStores(all) = %d stores, %v", len(all), err)
	}

	upd, err := s.UpdateWooStore(ctx, a.ID, func(w *storage.WooStore) error {
		w.Name, w.CodeHash, w.RequireToken, w.ErrorsByCode = "renamed", []byte("hash-a2"), true, true
		return nil
	})
	if err != nil || upd.Name != "renamed" || !upd.RequireToken || !upd.ErrorsByCode {
		t.Fatalf("UpdateWooStore = %+v, %v", upd, err)
	}
	got, err = s.GetWooStore(ctx, a.ID)
	if err != nil || got.Name != "renamed" || !bytes.Equal(got.CodeHash, []byte("hash-a2")) || !got.RequireToken || !got.ErrorsByCode {
		t.Fatalf("after update: %+v, %v", got, err)
	}
	if _, err := s.FindWooStore(ctx, []byte("hash-a")); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the old code still finds the store: %v", err)
	}
	if _, err := s.UpdateWooStore(ctx, a.ID, func(w *storage.WooStore) error {
		w.CodeHash = []byte("hash-o")
		return nil
	}); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("UpdateWooStore(another store's code) = %v, want ErrConflict", err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateWooStore(ctx, a.ID, func(w *storage.WooStore) error {
		w.RequireToken = false
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("UpdateWooStore(aborting) = %v, want the updater's error", err)
	}
	if got, _ := s.GetWooStore(ctx, a.ID); !got.RequireToken {
		t.Fatal("an aborted update was written")
	}
	if _, err := s.UpdateWooStore(ctx, 999, func(*storage.WooStore) error { return nil }); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("UpdateWooStore(missing) = %v, want ErrNotFound", err)
	}
}

func testWooSKUs(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	p1 := mustProduct(t, s, "acme", "Editor")
	p2 := mustProduct(t, s, "acme", "Viewer")
	st := mustWooStore(t, s, "acme", "a")
	other := mustWooStore(t, s, "acme", "b")

	if err := s.PutWooSKU(ctx, storage.WooSKU{StoreID: 999, SKU: "X", ProductID: p1.ID}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("PutWooSKU(no such store) = %v, want ErrNotFound", err)
	}
	if err := s.PutWooSKU(ctx, storage.WooSKU{StoreID: st.ID, SKU: "X", ProductID: 999}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("PutWooSKU(no such product) = %v, want ErrNotFound", err)
	}
	for _, k := range []storage.WooSKU{
		{StoreID: st.ID, SKU: "ed-pro", ProductID: p1.ID},
		{StoreID: st.ID, SKU: "APP", ProductID: p2.ID, Desktop: true},
		{StoreID: other.ID, SKU: "ed-pro", ProductID: p2.ID},
	} {
		if err := s.PutWooSKU(ctx, k); err != nil {
			t.Fatalf("PutWooSKU(%+v): %v", k, err)
		}
	}
	got, err := s.GetWooSKU(ctx, st.ID, "ed-pro")
	if err != nil || got != (storage.WooSKU{StoreID: st.ID, SKU: "ed-pro", ProductID: p1.ID}) {
		t.Fatalf("GetWooSKU = %+v, %v", got, err)
	}
	if got, _ := s.GetWooSKU(ctx, other.ID, "ed-pro"); got.ProductID != p2.ID {
		t.Fatalf("SKUs are per store: got %+v", got)
	}
	if _, err := s.GetWooSKU(ctx, st.ID, "ED-PRO"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetWooSKU(other case) = %v, want ErrNotFound: SKUs compare exactly, as WooCommerce's", err)
	}
	// Put replaces.
	if err := s.PutWooSKU(ctx, storage.WooSKU{StoreID: st.ID, SKU: "ed-pro", ProductID: p2.ID, Desktop: true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetWooSKU(ctx, st.ID, "ed-pro"); got.ProductID != p2.ID || !got.Desktop {
		t.Fatalf("after replace: %+v", got)
	}
	list, err := s.ListWooSKUs(ctx, st.ID)
	if err != nil || len(list) != 2 || list[0].SKU != "APP" || list[1].SKU != "ed-pro" || !list[0].Desktop {
		t.Fatalf("ListWooSKUs = %+v, %v", list, err)
	}
	if err := s.DeleteWooSKU(ctx, st.ID, "APP"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWooSKU(ctx, st.ID, "APP"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("DeleteWooSKU(twice) = %v, want ErrNotFound", err)
	}
	if list, _ := s.ListWooSKUs(ctx, st.ID); len(list) != 1 {
		t.Fatalf("after delete: %+v", list)
	}
}

func testWooKeysAndTokens(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	p := mustProduct(t, s, "acme", "Editor")
	k1 := mustKey(t, s, storage.LicenseKey{ProductID: p.ID, Key: "AAAAA-AAAAA-AAAAA-AAAAA", MaxNoOfMachines: 2})
	k2 := mustKey(t, s, storage.LicenseKey{ProductID: p.ID, Key: "BBBBB-BBBBB-BBBBB-BBBBB"})

	got, err := s.GetLicenseKeyByGlobalID(ctx, k1.GlobalID)
	if err != nil || got.Key != k1.Key || got.ProductID != p.ID || got.ID != k1.ID || got.MaxNoOfMachines != 2 {
		t.Fatalf("GetLicenseKeyByGlobalID = %+v, %v", got, err)
	}
	if _, err := s.GetLicenseKeyByGlobalID(ctx, k2.GlobalID+100); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetLicenseKeyByGlobalID(missing) = %v, want ErrNotFound", err)
	}

	if err := s.CreateWooToken(ctx, storage.WooToken{Hash: []byte("t0"), KeyGlobalID: k2.GlobalID + 100, CreatedAt: base,
		ExpiresAt: base.Add(time.Minute)}); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CreateWooToken(no such key) = %v, want ErrNotFound", err)
	}
	tokens := []storage.WooToken{
		{Hash: []byte("t1"), KeyGlobalID: k1.GlobalID, CreatedAt: base, ExpiresAt: base.Add(time.Minute)},
		{Hash: []byte("t2"), KeyGlobalID: k1.GlobalID, CreatedAt: base, ExpiresAt: base.Add(2 * time.Minute)},
		{Hash: []byte("t3"), KeyGlobalID: k2.GlobalID, CreatedAt: base, ExpiresAt: base.Add(time.Hour)},
	}
	for _, tok := range tokens {
		if err := s.CreateWooToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateWooToken(ctx, tokens[0]); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("CreateWooToken(same hash) = %v, want ErrConflict", err)
	}
	tok, err := s.GetWooToken(ctx, []byte("t3"))
	if err != nil || tok.KeyGlobalID != k2.GlobalID || !tok.CreatedAt.Equal(base) || !tok.ExpiresAt.Equal(base.Add(time.Hour)) ||
		!bytes.Equal(tok.Hash, []byte("t3")) {
		t.Fatalf("GetWooToken = %+v, %v", tok, err)
	}
	if _, err := s.GetWooToken(ctx, []byte("nope")); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetWooToken(missing) = %v, want ErrNotFound", err)
	}

	// Trimming keeps the newest live tokens of the key and leaves other keys' and expired ones alone.
	for i, at := range []time.Duration{3, 1, 2, 5, 4} {
		tok := storage.WooToken{Hash: []byte{'k', byte('0' + i)}, KeyGlobalID: k2.GlobalID, CreatedAt: base.Add(at * time.Second),
			ExpiresAt: base.Add(time.Hour)}
		if err := s.CreateWooToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.TrimWooTokens(ctx, k2.GlobalID, base.Add(90*time.Second), 3); err != nil || n != 3 {
		t.Fatalf("TrimWooTokens(keep 3 of 6) = %d, %v; want 3 (t3, k1, k2: the oldest)", n, err)
	}
	for hash, wantGone := range map[string]bool{"t1": false, "t2": false, "t3": true, "k0": false, "k1": true, "k2": true, "k3": false, "k4": false} {
		_, err := s.GetWooToken(ctx, []byte(hash))
		if gone := errors.Is(err, storage.ErrNotFound); gone != wantGone {
			t.Errorf("after trimming: token %s gone=%v (%v), want %v", hash, gone, err, wantGone)
		}
	}
	if n, err := s.TrimWooTokens(ctx, k2.GlobalID, base.Add(90*time.Second), 3); err != nil || n != 0 {
		t.Fatalf("TrimWooTokens again = %d, %v; want 0", n, err)
	}
	if err := s.CreateWooToken(ctx, tokens[2]); err != nil { // t3 back, for what follows
		t.Fatal(err)
	}

	cutoff := base.Add(5 * time.Minute) // t1 and t2 have expired by then, t3 has not
	if n, err := s.DeleteWooTokens(ctx, cutoff, 1); err != nil || n != 1 {
		t.Fatalf("DeleteWooTokens(limit 1) = %d, %v", n, err)
	}
	if n, err := s.DeleteWooTokens(ctx, cutoff, 100); err != nil || n != 1 {
		t.Fatalf("DeleteWooTokens = %d, %v; want the remaining 1", n, err)
	}
	for hash, wantGone := range map[string]bool{"t1": true, "t2": true, "t3": false} {
		_, err := s.GetWooToken(ctx, []byte(hash))
		if gone := errors.Is(err, storage.ErrNotFound); gone != wantGone {
			t.Errorf("token %s gone=%v (%v), want %v", hash, gone, err, wantGone)
		}
	}
}
