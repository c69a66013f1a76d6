package server_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
	"github.com/tokenmanager/tokenmanager/storage"
)

// badText are values no stored text field takes: NUL, invalid UTF-8, a terminal escape, a C1 control (CSI,
// which XML 1.0 allows), and one byte too many.
var badText = map[string]string{
	"NUL":           "mach\x00ine",
	"invalid UTF-8": "mach\xffine",
	"ESC":           "\x1b[2Jmachine",
	"C1 CSI":        "mach\u009bine",
	"too long":      strings.Repeat("m", license.MaxMachineCodeLen+1),
}

// TestCryptolensStoredTextRefused: Activate with a bad MachineCode or FriendlyName, CreateTrialKey and
// CreateKey with bad text answer Cryptolens' bad-input error and store nothing.
func TestCryptolensStoredTextRefused(t *testing.T) {
	cl := servertest.NewCLStack(t)
	ctx := context.Background()
	k := cl.NewKey(t, license.KeySpec{MaxNoOfMachines: 5})
	tok := cl.Token(t, license.TokenSpec{})
	for name, v := range badText {
		servertest.MustFail(t, "Activate, MachineCode "+name, cl.Post(t, "key/Activate", cl.Form(tok, cl.Product.ID, k.Key, "MachineCode", v)),
			"The input parameters were incorrect.")
		servertest.MustFail(t, "Activate, FriendlyName "+name, cl.Post(t, "key/Activate", cl.Form(tok, cl.Product.ID, k.Key, "MachineCode", "m1",
			"FriendlyName", v)), "The input parameters were incorrect.")
		servertest.MustFail(t, "CreateTrialKey, MachineCode "+name, cl.Post(t, "key/CreateTrialKey", url.Values{"token": {tok},
			"ProductId": {fmt.Sprint(cl.Product.ID)}, "MachineCode": {v}}), "The input parameters were incorrect.")
		servertest.MustFail(t, "CreateKey, customer name "+name, cl.Post(t, "key/CreateKey", url.Values{"token": {tok},
			"ProductId": {fmt.Sprint(cl.Product.ID)}, "NewCustomer": {"true"}, "Name": {v}}), "The input parameters were incorrect.")
	}
	servertest.MustFail(t, "CreateKey, Notes with ESC", cl.Post(t, "key/CreateKey", url.Values{"token": {tok},
		"ProductId": {fmt.Sprint(cl.Product.ID)}, "Notes": {"a\x1b]0;x\x07"}}), "The input parameters were incorrect.")
	if acts, err := cl.Store.ListActivations(ctx, k.GlobalID); err != nil || len(acts) != 0 {
		t.Fatalf("refused activations stored %+v (%v)", acts, err)
	}
	if keys, err := cl.Store.ListLicenseKeys(ctx, cl.Product.ID); err != nil || len(keys) != 1 {
		t.Fatalf("refused CreateKey/CreateTrialKey stored keys: %d (%v)", len(keys), err)
	}
	if cs, err := cl.Store.ListCustomers(ctx, "simon0897"); err != nil || len(cs) != 0 {
		t.Fatalf("refused CreateKey stored customers %v (%v)", cs, err)
	}
	// Multi-line fields keep their line breaks; the Mid a client gets back is the machine code it sent.
	servertest.MustOK(t, "CreateKey with two lines of notes", cl.Post(t, "key/CreateKey", url.Values{"token": {tok},
		"ProductId": {fmt.Sprint(cl.Product.ID)}, "Notes": {"line 1\r\nline 2\tend"}, "AllowedMachines": {"a\nb"}}))
	_, lk := servertest.Verified(t, cl.PubXML, cl.Post(t, "key/Activate", cl.Form(tok, cl.Product.ID, k.Key, "MachineCode", "Ünïcode-mä",
		"Sign", "true", "SignMethod", "1")))
	if ms := lk["ActivatedMachines"].([]any); len(ms) != 1 || ms[0].(map[string]any)["Mid"] != "Ünïcode-mä" {
		t.Fatalf("ActivatedMachines = %v", ms)
	}
}

// TestLicenseSOAPStoredTextRefused: the SOAP LicenseService refuses the same text with a Client fault
// carrying Cryptolens' message, and stores nothing.
func TestLicenseSOAPStoredTextRefused(t *testing.T) {
	l := servertest.NewLicStack(t)
	k, err := l.Env.Svc.CreateKey(context.Background(), license.Admin(), l.Prod.ID, license.KeySpec{MaxNoOfMachines: 5})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"C1 CSI": "mach\u009bine", "DEL": "mach\u007fine", "escaped ESC": "mach&#27;ine"} {
		inner := fmt.Sprintf("<productId>%d</productId><key>%s</key><machineCode>%s</machineCode>", l.Prod.ID, k.Key.Key, v)
		r := l.Call(t, servertest.Basic("simon0897", "s3cret"), "activate", inner)
		if code, msg := servertest.FaultString(t, r.Body); r.Status != 500 || !strings.Contains(code, "Client") ||
			(msg != "The input parameters were incorrect." && name != "escaped ESC") {
			t.Fatalf("activate, machineCode %s: HTTP %d %s %q", name, r.Status, code, msg)
		}
	}
	if acts, err := l.Store.ListActivations(context.Background(), k.Key.GlobalID); err != nil || len(acts) != 0 {
		t.Fatalf("refused activations stored %+v (%v)", acts, err)
	}
}

// TestWooStoredTextRefused: a domain with a control character (WordPress's sanitizing removes only NUL) is
// refused with the plugin's error envelope, and no activation is recorded.
func TestWooStoredTextRefused(t *testing.T) {
	w := servertest.NewWooStack(t, woo.StoreSpec{Name: "Simon's shop"})
	k := w.Key(t, license.KeySpec{MaxNoOfMachines: 2})
	r := w.Post(t, "activate", servertest.WooForm(servertest.WooParamsFor(k, "shop\x1b[2J.example", 0)...), nil)
	servertest.WooWantBody(t, "activate with ESC in the domain", r, 500, `{"error":true,"status":500,"errors":{"domain":["Invalid domain."]}}`)
	if acts, err := w.Store.ListActivations(context.Background(), k.GlobalID); err != nil || len(acts) != 0 {
		t.Fatalf("refused activation stored %+v (%v)", acts, err)
	}
}

// TestUserAuthLoginStoredTextRefused: userauth/Login refuses a bad DeviceName, VendorAppName or MachineCode
// with Cryptolens' bad-input error and records no authorization and no device.
func TestUserAuthLoginStoredTextRefused(t *testing.T) {
	s := servertest.NewAppStack(t)
	good := map[string]string{"MachineCode": "m-1", "DeviceName": "laptop", "VendorAppName": "CLI"}
	for field := range good {
		for name, v := range badText {
			if name == "too long" && field != "MachineCode" {
				v = strings.Repeat("d", 257)
			}
			f := url.Values{"token": {s.Parent}, "UserName": {"paul1234"}, "Password": {"pa55"}}
			for k, gv := range good {
				f.Set(k, gv)
			}
			f.Set(field, v)
			servertest.MustFail(t, "Login, "+field+" "+name, s.Post(t, "userauth/Login", f), "The input parameters were incorrect.")
		}
	}
	ctx := context.Background()
	if as, err := s.Store.ListAppAuthorizations(ctx, storage.AppAuthorizationFilter{}); err != nil || len(as) != 0 {
		t.Fatalf("refused logins stored authorizations %v (%v)", as, err)
	}
	if ds, err := s.Store.ListAppDevices(ctx, "paul1234"); err != nil || len(ds) != 0 {
		t.Fatalf("refused logins stored devices %v (%v)", ds, err)
	}
}

// TestCryptolensExtendLicenseBounded: extensions that would carry the expiry past year 9999 are refused with
// Cryptolens' bad-input error and leave the key as it was; so are bad NoOfDays.
func TestCryptolensExtendLicenseBounded(t *testing.T) {
	cl := servertest.NewCLStack(t)
	ctx := context.Background()
	k := cl.NewKey(t, license.KeySpec{Period: 30})
	tok := cl.Token(t, license.TokenSpec{})
	for _, n := range []string{"-1", "36601", "99999999999", "x"} {
		servertest.MustFail(t, "ExtendLicense NoOfDays="+n, cl.Post(t, "key/ExtendLicense", cl.Form(tok, cl.Product.ID, k.Key, "NoOfDays", n)),
			"The input parameters were incorrect.")
	}
	refused := 0
	for i := range 100 { // 100 × 36,600 days would be year 12,000
		m := cl.Post(t, "key/ExtendLicense", cl.Form(tok, cl.Product.ID, k.Key, "NoOfDays", "36600"))
		if m["result"] == float64(1) {
			servertest.MustFail(t, fmt.Sprintf("extension %d", i), m, "The input parameters were incorrect.")
			refused++
		}
	}
	got, err := cl.Store.GetLicenseKey(ctx, cl.Product.ID, k.Key)
	if err != nil {
		t.Fatal(err)
	}
	if refused == 0 || got.ExpiresAt.After(license.MaxExpiry) || got.ExpiresAt.Year() < 9900 {
		t.Fatalf("after 100 extensions (%d refused) the key expires %v", refused, got.ExpiresAt)
	}
}
