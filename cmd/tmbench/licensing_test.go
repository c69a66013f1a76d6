package main

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

func TestParseSetupOutput(t *testing.T) {
	if id, err := parseCreatedProduct("created product 12 (Bench Editor) of admin"); err != nil || id != 12 {
		t.Errorf("product: %d %v", id, err)
	}
	for _, bad := range []string{"", "created store 1 of admin", "created product x (a) of b", "created product 0 (a) of b"} {
		if _, err := parseCreatedProduct(bad); err == nil {
			t.Errorf("product %q accepted", bad)
		}
	}
	if id, err := parseCreatedStore("created store 3 of admin"); err != nil || id != "3" {
		t.Errorf("store: %q %v", id, err)
	}
	if _, err := parseCreatedStore("created store -1 of admin"); err == nil {
		t.Error("store -1 accepted")
	}
	if id, err := parseWooActivation([]byte(`{"error":false,"status":200,"message":"License Key activated successfully.","data":{"activation_id":1765075200,"expire":null}}`)); err != nil || id != "1765075200" {
		t.Errorf("woo: %q %v", id, err)
	}
	for _, bad := range []string{`{"error":true,"status":500,"errors":{"license_key":["Invalid license key."]}}`, `{"data":{}}`, `nope`} {
		if _, err := parseWooActivation([]byte(bad)); err == nil {
			t.Errorf("woo %s accepted", bad)
		}
	}
	secret := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	if id, s, err := parsePowerAuthToken([]byte(`{"tokenId":"d71f000e","tokenSecret":"` + secret + `"}`)); err != nil || id != "d71f000e" || string(s) != "0123456789abcdef" {
		t.Errorf("powerauth: %q %q %v", id, s, err)
	}
	for _, bad := range []string{`{"tokenId":"x","tokenSecret":"c2hvcnQ="}`, `{"tokenSecret":"` + secret + `"}`, `[]`} {
		if _, _, err := parsePowerAuthToken([]byte(bad)); err == nil {
			t.Errorf("powerauth %s accepted", bad)
		}
	}
}

func TestCheckCryptolens(t *testing.T) {
	for _, c := range []struct {
		body   string
		signed bool
		ok     bool
	}{
		{`{"licenseKey":"eyJ…","signature":"QUJD","result":0,"message":""}`, true, true},
		{`{"licenseKey":"eyJ…","signature":null,"result":0,"message":""}`, false, true},
		{`{"licenseKey":"eyJ…","signature":null,"result":0,"message":""}`, true, false},
		{`{"licenseKey":"eyJ…","signature":"QUJD","result":0,"message":""}`, false, false},
		{`{"result":1,"message":"Access denied."}`, false, false},
		{`{"message":""}`, false, false},
		{`<html>`, false, false},
	} {
		if err := checkCryptolens("Activate", []byte(c.body), c.signed); (err == nil) != c.ok {
			t.Errorf("%s signed=%v: %v", c.body, c.signed, err)
		}
	}
}

// TestPowerAuthHeaders checks the load generator's headers the way the server does: each parses, carries the
// digest of its nonce and timestamp, and no two share a nonce.
func TestPowerAuthHeaders(t *testing.T) {
	secret := []byte("0123456789abcdef")
	vary := powerAuthHeaders("d71f000e-a332-44cf-863b-9b15294adece", secret)
	seen := map[string]bool{}
	for range 1000 {
		h, body, err := vary()
		if err != nil || body != nil {
			t.Fatal(err)
		}
		var value []string
		for name, v := range h {
			if name == powerauth.HeaderName { // sent with PowerAuth's own spelling, as its SDKs do
				value = v
			}
		}
		if len(value) != 1 || len(h) != 1 {
			t.Fatalf("header %v", h)
		}
		hd, err := powerauth.ParseHeader(value[0])
		if err != nil {
			t.Fatal(err)
		}
		nonce, _ := base64.StdEncoding.DecodeString(hd.Nonce)
		ts, _ := strconv.ParseInt(hd.Timestamp, 10, 64)
		want, err := powerauth.Digest(secret, nonce, ts, hd.Version)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := base64.StdEncoding.DecodeString(hd.Digest)
		if !hmac.Equal(got, want) || hd.Version != "3.3" || time.Since(time.UnixMilli(ts)) > time.Minute {
			t.Fatalf("header %+v", hd)
		}
		if seen[hd.Nonce] {
			t.Fatalf("nonce %s twice", hd.Nonce)
		}
		seen[hd.Nonce] = true
	}
}

func TestPlanLicensingFill(t *testing.T) {
	p := planLicensingFill(100_000, 100_000)
	if p.keys != 10_000 {
		t.Fatalf("keys %d", p.keys)
	}
	sumA, sumD := 0, 0
	for i := range p.keys {
		if p.actsPerKey[i] > fillMachinesPerKey || p.dataPerKey[i] > 2*100 {
			t.Fatalf("key %d: %d machines, %d objects", i, p.actsPerKey[i], p.dataPerKey[i])
		}
		sumA += p.actsPerKey[i]
		sumD += p.dataPerKey[i]
	}
	if sumA != 100_000 || sumD != 100_000 {
		t.Fatalf("%d activations, %d objects", sumA, sumD)
	}
	// Data objects without activations: enough keys that none holds more than the limit.
	p = planLicensingFill(0, 1001)
	if p.keys != 11 || p.dataPerKey[0] != 91 || p.actsPerKey[0] != 0 {
		t.Fatalf("%+v", p)
	}
	if p := planLicensingFill(0, 0); p.keys != 0 {
		t.Fatalf("%+v", p)
	}
}

// TestFillLicensing fills a real SQLite store through the storage interface, with the service's limits, and
// reads the rows back.
func TestFillLicensing(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tokenmanager.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Now()
	if err := store.CreateUser(ctx, storage.User{Name: "vendor", PasswordHash: "x", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := store.AddVendor(ctx, storage.Vendor{Name: "vendor", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	p, err := store.CreateProduct(ctx, storage.Product{Vendor: "vendor", Name: "P", PublicKey: []byte{1}, CreatedAt: now},
		func(int64) ([]byte, error) { return []byte{2}, nil })
	if err != nil {
		t.Fatal(err)
	}
	wantOnMachines := 0 // over both rounds
	for _, c := range []struct{ acts, data int }{{95, 190}, {0, 150}} {
		plan := planLicensingFill(c.acts, c.data)
		before, _ := store.ListLicenseKeys(ctx, p.ID)
		if err := fillLicensing(ctx, store, "vendor", p.ID, plan, t.Logf); err != nil {
			t.Fatal(err)
		}
		keys, err := store.ListLicenseKeys(ctx, p.ID)
		if err != nil || len(keys)-len(before) != plan.keys {
			t.Fatalf("%d keys, %v; want %d more", len(keys), err, plan.keys)
		}
		acts := 0
		for _, k := range keys[len(before):] {
			a, err := store.ListActivations(ctx, k.GlobalID)
			if err != nil {
				t.Fatal(err)
			}
			acts += len(a)
			for _, x := range a {
				if len(x.MachineCode) != 64 || x.Floating || x.IP == "" {
					t.Fatalf("activation %+v", x)
				}
			}
		}
		objs, err := store.ListDataObjects(ctx, storage.DataObjectFilter{Vendor: "vendor", Limit: 100_000})
		if err != nil {
			t.Fatal(err)
		}
		if acts != c.acts {
			t.Errorf("%+v: %d activations", c, acts)
		}
		onMachines := 0
		for _, o := range objs {
			if o.Owner.Type == storage.DataOnMachine {
				onMachines++
			}
		}
		t.Logf("%+v: %d data objects so far, %d on machines", c, len(objs), onMachines)
		for i := range plan.keys {
			wantOnMachines += plan.dataPerKey[i] / 2 * b2i(c.acts > 0)
		}
		if onMachines != wantOnMachines {
			t.Errorf("%+v: %d of %d objects on machines", c, onMachines, len(objs))
		}
	}
	objs, _ := store.ListDataObjects(ctx, storage.DataObjectFilter{Vendor: "vendor", Limit: 100_000})
	if len(objs) != 190+150 {
		t.Errorf("%d data objects", len(objs))
	}
}
