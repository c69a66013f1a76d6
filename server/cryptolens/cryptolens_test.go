package cryptolens_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// topKeys returns an object's keys in document order.
func topKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", raw)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

var wantLicenseKeys = []string{"ProductId", "ID", "Key", "Created", "Expires", "Period", "F1", "F2", "F3", "F4", "F5", "F6",
	"F7", "F8", "Notes", "Block", "GlobalId", "Customer", "ActivatedMachines", "TrialActivation", "MaxNoOfMachines",
	"AllowedMachines", "DataObjects", "SignDate"}

func TestCryptolensActivateSigned(t *testing.T) {
	cl := servertest.NewCLStack(t)
	ctx := context.Background()
	cust, err := cl.Svc.CreateCustomer(ctx, license.Admin(), "simon0897", license.CustomerSpec{Name: "Carol", Email: "carol@example.com", Company: "Example Ltd"})
	if err != nil {
		t.Fatal(err)
	}
	k := cl.NewKey(t, license.KeySpec{Period: 30, MaxNoOfMachines: 2, Features: [8]bool{true, false, false, true},
		Notes: "for Carol", CustomerID: cust.ID, AllowedMachines: "spare-1\nspare-2"})
	tok := cl.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodActivate}})
	now := cl.Clock.Now()

	// The .NET SDK's form: PascalCase, Sign=True, SignMethod as the enum name, v and modelversion.
	m := cl.Post(t, "key/Activate", cl.Form(tok, cl.Product.ID, k.Key, "MachineCode", "machine-A", "FriendlyName", "laptop",
		"Sign", "True", "SignMethod", "StringSign", "v", "1", "modelversion", "3", "FieldsToReturn", "0"))
	raw, lk := servertest.Verified(t, cl.PubXML, m)
	if got := topKeys(t, raw); strings.Join(got, ",") != strings.Join(wantLicenseKeys, ",") {
		t.Fatalf("license key JSON keys:\n got %v\nwant %v", got, wantLicenseKeys)
	}
	if m["message"] != "" || len(m) != 4 {
		t.Fatalf("envelope %v: want result, message \"\", licenseKey, signature", m)
	}
	want := map[string]any{"ProductId": float64(cl.Product.ID), "ID": float64(k.ID), "Key": k.Key,
		"Created": float64(now.Unix()), "Expires": float64(now.Add(30 * 24 * time.Hour).Unix()), "Period": float64(30),
		"F1": true, "F2": false, "F4": true, "Notes": "for Carol", "Block": false, "GlobalId": float64(k.GlobalID),
		"TrialActivation": false, "MaxNoOfMachines": float64(2), "AllowedMachines": "spare-1\nspare-2",
		"SignDate": float64(now.Unix())}
	for key, v := range want {
		if lk[key] != v {
			t.Errorf("%s = %#v, want %#v", key, lk[key], v)
		}
	}
	if d, ok := lk["DataObjects"].([]any); !ok || len(d) != 0 {
		t.Errorf("DataObjects = %#v, want []", lk["DataObjects"])
	}
	c, _ := lk["Customer"].(map[string]any)
	if c == nil || c["Id"] != float64(cust.ID) || c["Name"] != "Carol" || c["Email"] != "carol@example.com" ||
		c["CompanyName"] != "Example Ltd" || c["Created"] != float64(now.Unix()) || len(c) != 5 {
		t.Errorf("Customer = %v", lk["Customer"])
	}
	machines, _ := lk["ActivatedMachines"].([]any)
	if len(machines) != 1 {
		t.Fatalf("ActivatedMachines = %v", lk["ActivatedMachines"])
	}
	mach := machines[0].(map[string]any)
	if mach["Mid"] != "machine-A" || mach["FriendlyName"] != "laptop" || mach["IP"] != "127.0.0.1" ||
		mach["Time"] != float64(now.Unix()) || mach["FloatingExpires"] != float64(0) || len(mach) != 5 {
		t.Errorf("activated machine = %v; want exactly Mid, FriendlyName, IP, Time, FloatingExpires", mach)
	}

	// Python's form: lower-case names, "True", ModelVersion; re-activation lists the machine once.
	cl.Clock.Add(time.Hour)
	m = cl.Post(t, "key/activate", url.Values{"token": {tok}, "ProductId": {fmt.Sprint(cl.Product.ID)}, "key": {k.Key},
		"MachineCode": {"machine-A"}, "metadata": {"False"}, "Sign": {"True"}, "SignMethod": {"1"}, "ModelVersion": {"3"},
		"FloatingTimeInterval": {"0"}, "MaxOverdraft": {"0"}})
	_, lk = servertest.Verified(t, cl.PubXML, m)
	if ms := lk["ActivatedMachines"].([]any); len(ms) != 1 || lk["SignDate"] != float64(now.Add(time.Hour).Unix()) {
		t.Fatalf("re-activation: machines %v, SignDate %v", ms, lk["SignDate"])
	}

	// A GET query with names in odd cases works the same; a second machine takes the second seat, a third is refused.
	q := url.Values{"TOKEN": {tok}, "pRoDuCtId": {fmt.Sprint(cl.Product.ID)}, "KEY": {k.Key}, "machinecode": {"machine-B"}, "sign": {"true"}, "signmethod": {"1"}}
	r := servertest.Do(t, "GET", cl.URL+"/api/key/Activate?"+q.Encode(), "", nil)
	_, lk = servertest.Verified(t, cl.PubXML, r.JSON(t))
	if ms := lk["ActivatedMachines"].([]any); len(ms) != 2 {
		t.Fatalf("after the second machine: %v", ms)
	}
	servertest.MustFail(t, "third machine", cl.Post(t, "key/Activate", cl.Form(tok, cl.Product.ID, k.Key, "MachineCode", "machine-C", "Sign", "True", "SignMethod", "1")), "Cannot activate the new device as the limit has been reached.")
	// A machine in AllowedMachines is admitted past the limit.
	servertest.Verified(t, cl.PubXML, cl.Post(t, "key/Activate", cl.Form(tok, cl.Product.ID, k.Key, "MachineCode", "spare-2", "Sign", "True", "SignMethod", "1")))

	// Unsigned: licenseKey still there, signature null.
	m = cl.Post(t, "key/Activate", cl.Form(tok, cl.Product.ID, k.Key, "MachineCode", "machine-A"))
	if m["result"] != float64(0) || m["signature"] != nil || m["licenseKey"] == "" {
		t.Fatalf("unsigned activation: %v", m)
	}
}

func TestCryptolensMetadata(t *testing.T) {
	cl := servertest.NewCLStack(t)
	k := cl.NewKey(t, license.KeySpec{Period: 10, MaxNoOfMachines: 3})
	tok := cl.Token(t, license.TokenSpec{})
	cl.Post(t, "key/Activate", cl.Form(tok, cl.Product.ID, k.Key, "MachineCode", "float-1", "FloatingTimeInterval", "100"))
	m := cl.Post(t, "key/Activate", cl.Form(tok, cl.Product.ID, k.Key, "MachineCode", "m1", "Sign", "true", "SignMethod", "1", "Metadata", "true"))
	servertest.Verified(t, cl.PubXML, m)
	md, _ := m["metadata"].(map[string]any)
	if md == nil || md["activatedMachines"] != float64(1) || md["usedFloatingMachines"] != float64(1) {
		t.Fatalf("metadata = %v", m["metadata"])
	}
	st := md["licenseStatus"].(map[string]any)
	if st["isValid"] != true || st["reasonForInvalidity"] != float64(0) {
		t.Fatalf("licenseStatus = %v", st)
	}
	wrapped, err := base64.StdEncoding.DecodeString(md["signature"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var w struct{ Data, Signature string }
	if err := json.Unmarshal(wrapped, &w); err != nil {
		t.Fatal(err)
	}
	data, _ := base64.StdEncoding.DecodeString(w.Data)
	sig, _ := base64.StdEncoding.DecodeString(w.Signature)
	d := sha512.Sum512(data)
	if err := rsa.VerifyPKCS1v15(servertest.ParseRSAKeyValue(t, cl.PubXML), crypto.SHA512, d[:], sig); err != nil {
		t.Fatalf("metadata signature (SHA-512 over Data): %v", err)
	}
	var signedMD map[string]any
	json.Unmarshal(data, &signedMD)
	if signedMD["activatedMachines"] != float64(1) || signedMD["usedFloatingMachines"] != float64(1) {
		t.Fatalf("signed metadata data = %s", data)
	}
	// GetKey with Metadata, after the floating seat ran out.
	cl.Clock.Add(101 * time.Second)
	m = cl.Post(t, "key/GetKey", cl.Form(tok, cl.Product.ID, k.Key, "Sign", "true", "SignMethod", "1", "Metadata", "true", "FloatingTimeInterval", "100"))
	servertest.Verified(t, cl.PubXML, m)
	if md := m["metadata"].(map[string]any); md["usedFloatingMachines"] != float64(0) || md["activatedMachines"] != float64(1) {
		t.Fatalf("GetKey metadata = %v", md)
	}
}

func TestCryptolensFloating(t *testing.T) {
	cl := servertest.NewCLStack(t)
	k := cl.NewKey(t, license.KeySpec{MaxNoOfMachines: 1})
	tok := cl.Token(t, license.TokenSpec{})
	act := func(machine string, extra ...string) map[string]any {
		return cl.Post(t, "key/Activate", cl.Form(tok, cl.Product.ID, k.Key, append([]string{"MachineCode", machine,
			"FloatingTimeInterval", "100", "Sign", "True", "SignMethod", "1"}, extra...)...))
	}
	_, lk := servertest.Verified(t, cl.PubXML, act("alpha"))
	ms := lk["ActivatedMachines"].([]any)
	first := ms[0].(map[string]any)
	if len(ms) != 1 || first["Mid"] != "floating:alpha" || first["FloatingExpires"] != float64(cl.Clock.Now().Add(100*time.Second).Unix()) {
		t.Fatalf("floating activation: %v", ms)
	}
	servertest.MustFail(t, "second floating machine", act("beta"), "Cannot activate the new device as the limit has been reached.")
	_, lk = servertest.Verified(t, cl.PubXML, act("beta", "MaxOverdraft", "1"))
	if mid := lk["ActivatedMachines"].([]any)[0].(map[string]any)["Mid"]; mid != "floating:overdraft:beta" {
		t.Fatalf("overdraft Mid = %v", mid)
	}
	servertest.MustFail(t, "beyond the overdraft", act("gamma", "MaxOverdraft", "1"), "Cannot activate the new device as the limit has been reached.")
	cl.Clock.Add(100 * time.Second) // alpha's and beta's seats run out
	_, lk = servertest.Verified(t, cl.PubXML, act("gamma"))
	if mid := lk["ActivatedMachines"].([]any)[0].(map[string]any)["Mid"]; mid != "floating:gamma" {
		t.Fatalf("after expiry: %v", mid)
	}
	// Floating deactivation releases the seat and is never an error.
	for _, m := range []string{"gamma", "gamma", "nobody"} {
		servertest.MustOK(t, "floating deactivate "+m, cl.Post(t, "key/Deactivate", cl.Form(tok, cl.Product.ID, k.Key, "MachineCode", m, "Floating", "true")))
	}
	servertest.Verified(t, cl.PubXML, act("delta"))
}

func TestCryptolensLastSeatRace(t *testing.T) {
	cl := servertest.NewCLStack(t)
	k := cl.NewKey(t, license.KeySpec{MaxNoOfMachines: 1})
	tok := cl.Token(t, license.TokenSpec{})
	const racers = 8
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make(chan map[string]any, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results <- cl.Post(t, "key/Activate", cl.Form(tok, cl.Product.ID, k.Key, "MachineCode", fmt.Sprint("racer-", i)))
		}()
	}
	close(start)
	wg.Wait()
	close(results)
	won := 0
	for m := range results {
		switch {
		case m["result"] == float64(0):
			won++
		case m["message"] != "Cannot activate the new device as the limit has been reached.":
			t.Errorf("racer: %v", m)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d racers got the only seat", won, racers)
	}
}

func TestCryptolensErrors(t *testing.T) {
	cl := servertest.NewCLStack(t)
	ctx := context.Background()
	k := cl.NewKey(t, license.KeySpec{MaxNoOfMachines: 1})
	blocked := cl.NewKey(t, license.KeySpec{Blocked: true})
	blockedFree := cl.NewKey(t, license.KeySpec{MaxNoOfMachines: 3})
	other := cl.NewProduct(t, "paul1234")
	otherKey := cl.NewKeyIn(t, other.ID, license.KeySpec{})
	tok := cl.Token(t, license.TokenSpec{})
	only := cl.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodGetKey}})
	cl.Post(t, "key/Activate", cl.Form(tok, cl.Product.ID, k.Key, "MachineCode", "m1"))

	revoked, err := cl.Svc.CreateAPIToken(ctx, "simon0897", license.TokenSpec{Methods: servertest.AllMethods})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Svc.RevokeAPIToken(ctx, "", revoked.Record.ID); err != nil {
		t.Fatal(err)
	}
	pid := cl.Product.ID
	long := strings.Repeat("x", license.MaxMachineCodeLen+1)
	for _, tc := range []struct {
		name, method string
		form         url.Values
		msg          string
	}{
		{"no token", "key/Activate", url.Values{"ProductId": {fmt.Sprint(pid)}, "Key": {k.Key}}, "Unable to authenticate."},
		{"garbage token", "key/GetKey", cl.Form("bm9wZQ==", pid, k.Key), "Unable to authenticate."},
		{"revoked token", "key/GetKey", cl.Form(revoked.Token, pid, k.Key), "Unable to authenticate."},
		{"method not granted", "key/Activate", cl.Form(only, pid, k.Key, "MachineCode", "m"), "Access denied."},
		{"ProductId not a number", "key/Activate", cl.Form(tok, 0, k.Key, "ProductId", "abc"), "The input parameters were incorrect."},
		{"ProductId missing", "key/GetKey", url.Values{"token": {tok}, "Key": {k.Key}}, "The input parameters were incorrect."},
		{"Key missing", "key/GetKey", url.Values{"token": {tok}, "ProductId": {fmt.Sprint(pid)}}, "The input parameters were incorrect."},
		{"bad boolean", "key/Activate", cl.Form(tok, pid, k.Key, "MachineCode", "m1", "Sign", "maybe"), "The input parameters were incorrect."},
		{"bad SignMethod", "key/Activate", cl.Form(tok, pid, blockedFree.Key, "MachineCode", "fresh", "SignMethod", "7"), "The input parameters were incorrect."},
		{"machine code too long", "key/Activate", cl.Form(tok, pid, k.Key, "MachineCode", long), "The input parameters were incorrect."},
		{"negative interval", "key/Activate", cl.Form(tok, pid, k.Key, "MachineCode", "m1", "FloatingTimeInterval", "-5"), "The input parameters were incorrect."},
		{"node-locked without machine code", "key/Activate", cl.Form(tok, pid, k.Key), "The input parameters were incorrect."},
		{"notes too long", "key/CreateKey", cl.Form(tok, pid, "", "Notes", strings.Repeat("n", 501)), "The input parameters were incorrect."},
		{"too many keys at once", "key/CreateKey", cl.Form(tok, pid, "", "NoOfKeys", "1001"), "The input parameters were incorrect."},
		{"no such product", "key/GetKey", cl.Form(tok, 9999, k.Key), "Could not find the product."},
		{"another vendor's product", "key/GetKey", cl.Form(tok, other.ID, otherKey.Key), "Could not find the product."},
		{"no such key", "key/Activate", cl.Form(tok, pid, "AAAAA-AAAAA-AAAAA-AAAAA", "MachineCode", "m"), "Could not find the key."},
		{"blocked key", "key/Activate", cl.Form(tok, pid, blocked.Key, "MachineCode", "m"), "The key is blocked and cannot be accessed."},
		{"blocked key GetKey", "key/GetKey", cl.Form(tok, pid, blocked.Key), "The key is blocked and cannot be accessed."},
		{"blocked key Deactivate", "key/Deactivate", cl.Form(tok, pid, blocked.Key, "MachineCode", "m"), "The key is blocked and cannot be accessed."},
		{"limit", "key/Activate", cl.Form(tok, pid, k.Key, "MachineCode", "m2"), "Cannot activate the new device as the limit has been reached."},
		{"deactivate unknown machine", "key/Deactivate", cl.Form(tok, pid, k.Key, "MachineCode", "m9"), "Either the machine code was never activated or key activation feature was never set up."},
		{"no such customer", "key/CreateKey", cl.Form(tok, pid, "", "CustomerId", "9999"), "Customer not found."},
		{"KeyLock without key lock -1", "auth/KeyLock", cl.Form(tok, pid, k.Key), "Access denied."},
	} {
		t.Run(tc.name, func(t *testing.T) { servertest.MustFail(t, tc.name, cl.Post(t, tc.method, tc.form), tc.msg) })
	}
	// The refused calls changed nothing: m1 is still the key's only machine.
	if d, err := cl.Svc.ShowKey(ctx, license.Admin(), pid, k.Key); err != nil || len(d.Activations) != 1 || d.Activations[0].MachineCode != "m1" {
		t.Fatalf("activations after refused calls: %+v, %v", d.Activations, err)
	}
	if d, err := cl.Svc.ShowKey(ctx, license.Admin(), pid, blockedFree.Key); err != nil || len(d.Activations) != 0 {
		t.Fatalf("a call refused for its SignMethod recorded an activation: %+v, %v", d.Activations, err)
	}

	// Transport-level refusals keep the envelope.
	r := servertest.Do(t, "PUT", cl.URL+"/api/key/Activate", "", nil)
	if r.Status != 405 || r.JSON(t)["result"] != float64(1) {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	if r := servertest.Do(t, "POST", cl.URL+"/api/key/NoSuchMethod", "token="+url.QueryEscape(tok), nil); r.Status != 404 || r.JSON(t)["result"] != float64(1) {
		t.Fatalf("unknown method: %d %s", r.Status, r.Body)
	}
	huge := "token=" + url.QueryEscape(tok) + "&Notes=" + strings.Repeat("a", 70<<10)
	servertest.MustFail(t, "body over 64 KiB", servertest.Do(t, "POST", cl.URL+"/api/key/GetKey", huge, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}).JSON(t), "The input parameters were incorrect.")
	many := cl.Form(tok, pid, k.Key)
	for i := range 70 {
		many.Set(fmt.Sprint("p", i), "v")
	}
	servertest.MustFail(t, "too many parameters", cl.Post(t, "key/GetKey", many), "The input parameters were incorrect.")
	servertest.MustFail(t, "JSON body", servertest.Do(t, "POST", cl.URL+"/api/key/GetKey", `{"token":"x"}`, map[string]string{"Content-Type": "application/json"}).JSON(t), "The input parameters were incorrect.")
}

func TestCryptolensPermissions(t *testing.T) {
	cl := servertest.NewCLStack(t)
	pid := cl.Product.ID
	// Each method: a token with every other permission is refused; a token with only this one succeeds.
	for _, tc := range []struct {
		method string
		perm   license.Method
		extra  []string
	}{
		{"key/Activate", license.MethodActivate, []string{"MachineCode", "m1"}},
		{"key/GetKey", license.MethodGetKey, nil},
		{"key/Deactivate", license.MethodDeactivate, []string{"MachineCode", "m0"}},
		{"key/CreateKey", license.MethodCreateKey, nil},
		{"key/CreateTrialKey", license.MethodCreateTrialKey, []string{"MachineCode", "m1"}},
		{"key/BlockKey", license.MethodBlockKey, nil},
		{"key/UnblockKey", license.MethodUnblockKey, nil},
		{"key/ExtendLicense", license.MethodExtendLicense, []string{"NoOfDays", "3"}},
	} {
		t.Run(tc.method, func(t *testing.T) {
			k := cl.NewKey(t, license.KeySpec{MaxNoOfMachines: 5})
			if _, err := cl.Svc.Activate(context.Background(), license.Admin(), license.ActivateRequest{ProductID: pid, Key: k.Key, MachineCode: "m0"}); err != nil {
				t.Fatal(err)
			}
			var others []license.Method
			for _, m := range servertest.AllMethods {
				if m != tc.perm {
					others = append(others, m)
				}
			}
			servertest.MustFail(t, "without "+string(tc.perm), cl.Post(t, tc.method, cl.Form(cl.Token(t, license.TokenSpec{Methods: others}), pid, k.Key, tc.extra...)), "Access denied.")
			servertest.MustOK(t, "with only "+string(tc.perm), cl.Post(t, tc.method, cl.Form(cl.Token(t, license.TokenSpec{Methods: []license.Method{tc.perm}}), pid, k.Key, tc.extra...)))
		})
	}
}

func TestCryptolensLocks(t *testing.T) {
	cl := servertest.NewCLStack(t)
	pid := cl.Product.ID
	second := cl.NewProduct(t, "simon0897")
	k1 := cl.NewKey(t, license.KeySpec{Notes: "n1", MaxNoOfMachines: 3})
	k2 := cl.NewKey(t, license.KeySpec{Notes: "n2", MaxNoOfMachines: 3})
	k3 := cl.NewKeyIn(t, second.ID, license.KeySpec{})

	// Product lock.
	pl := cl.Token(t, license.TokenSpec{ProductLock: second.ID})
	servertest.MustFail(t, "product lock, other product", cl.Post(t, "key/GetKey", cl.Form(pl, pid, k1.Key)), "Access denied.")
	servertest.MustOK(t, "product lock, its product", cl.Post(t, "key/GetKey", cl.Form(pl, second.ID, k3.Key)))
	servertest.MustFail(t, "product lock, CreateKey elsewhere", cl.Post(t, "key/CreateKey", cl.Form(pl, pid, "")), "Access denied.")

	// Key lock.
	kl := cl.Token(t, license.TokenSpec{ProductLock: pid, KeyLock: k2.ID})
	servertest.MustFail(t, "key lock, other key", cl.Post(t, "key/GetKey", cl.Form(kl, pid, k1.Key)), "Access denied.")
	servertest.MustFail(t, "key lock, Activate other key", cl.Post(t, "key/Activate", cl.Form(kl, pid, k1.Key, "MachineCode", "m")), "Access denied.")
	servertest.MustOK(t, "key lock, its key", cl.Post(t, "key/Activate", cl.Form(kl, pid, k2.Key, "MachineCode", "m")))
	servertest.MustFail(t, "key lock, CreateKey", cl.Post(t, "key/CreateKey", cl.Form(kl, pid, "")), "Access denied.")

	// auth/KeyLock: with key lock -1, a token for one key.
	parent := cl.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodGetKey}, KeyLock: license.KeyLockAny})
	m := cl.Post(t, "auth/KeyLock", cl.Form(parent, pid, k1.Key))
	servertest.MustOK(t, "KeyLock", m)
	if m["keyId"] != float64(k1.ID) || m["message"] != "" {
		t.Fatalf("KeyLock answer %v", m)
	}
	child := m["token"].(string)
	servertest.Verified(t, cl.PubXML, cl.Post(t, "key/GetKey", cl.Form(child, pid, k1.Key, "Sign", "true", "SignMethod", "1")))
	servertest.MustFail(t, "KeyLock child, other key", cl.Post(t, "key/GetKey", cl.Form(child, pid, k2.Key)), "Access denied.")
	servertest.MustFail(t, "KeyLock child, method of no parent", cl.Post(t, "key/Activate", cl.Form(child, pid, k1.Key, "MachineCode", "m")), "Access denied.")
	servertest.MustFail(t, "KeyLock of a missing key", cl.Post(t, "auth/KeyLock", cl.Form(parent, pid, "NOPE")), "Could not find the key.")

	// Feature lock: a FieldsToReturn mask the request cannot undo.
	fl := cl.Token(t, license.TokenSpec{FeatureLock: int64(license.HideNotes | license.HideActivatedMachines)})
	cl.Post(t, "key/Activate", cl.Form(fl, pid, k1.Key, "MachineCode", "other-machine"))
	_, lk := servertest.Verified(t, cl.PubXML, cl.Post(t, "key/Activate", cl.Form(fl, pid, k1.Key, "MachineCode", "this-machine",
		"Sign", "true", "SignMethod", "1", "FieldsToReturn", "0")))
	ms := lk["ActivatedMachines"].([]any)
	if lk["Notes"] != nil || len(ms) != 1 || ms[0].(map[string]any)["Mid"] != "this-machine" || lk["Key"] != k1.Key {
		t.Fatalf("feature lock: Notes %v, machines %v, Key %v", lk["Notes"], ms, lk["Key"])
	}
	// FieldsToReturn from the request hides more.
	_, lk = servertest.Verified(t, cl.PubXML, cl.Post(t, "key/GetKey", cl.Form(fl, pid, k1.Key, "Sign", "true", "SignMethod", "1",
		"FieldsToReturn", fmt.Sprint(int(license.HideKey|license.HideID|license.HideGlobalID|license.HideMaxNoOfMachines|license.HideAllowedMachines|license.HideCustomer)))))
	for _, f := range []string{"Key", "ID", "GlobalId", "MaxNoOfMachines", "Notes", "Customer"} {
		if v, present := lk[f]; !present || v != nil {
			t.Errorf("%s = %v (present %v), want null", f, v, present)
		}
	}
	if lk["AllowedMachines"] != "" || len(lk["ActivatedMachines"].([]any)) != 0 || lk["ProductId"] != float64(pid) {
		t.Errorf("masked GetKey: %v", lk)
	}
}

func TestCryptolensKeyMethods(t *testing.T) {
	cl := servertest.NewCLStack(t)
	pid := cl.Product.ID
	tok := cl.Token(t, license.TokenSpec{FeatureLock: 0})
	// CreateKey as the Node SDK sends it: null defaults arrive as the string "null".
	m := cl.Post(t, "key/CreateKey", url.Values{"token": {tok}, "ProductId": {fmt.Sprint(pid)}, "Period": {"20"}, "Notes": {""},
		"Block": {"false"}, "CustomerId": {"null"}, "TrialActivation": {"false"}, "MaxNoOfMachines": {"1"}, "AllowedMachines": {"null"},
		"ResellerId": {"0"}, "NoOfKeys": {"1"}, "F1": {"true"}, "F2": {"false"}, "F3": {"false"}, "F4": {"false"}, "F5": {"false"},
		"F6": {"false"}, "F7": {"false"}, "F8": {"true"}, "NewCustomer": {"false"}, "AddOrUseExistingCustomer": {"false"}})
	servertest.MustOK(t, "CreateKey", m)
	key, _ := m["key"].(string)
	if len(key) != 23 || len(m) != 3 {
		t.Fatalf("CreateKey answer %v", m)
	}
	_, lk := servertest.Verified(t, cl.PubXML, cl.Post(t, "key/GetKey", cl.Form(tok, pid, key, "Sign", "true", "SignMethod", "1")))
	created := cl.Clock.Now()
	if lk["F1"] != true || lk["F8"] != true || lk["Period"] != float64(20) || lk["MaxNoOfMachines"] != float64(1) ||
		lk["AllowedMachines"] != "" || lk["Expires"] != float64(created.Add(20*24*time.Hour).Unix()) {
		t.Fatalf("created key: %v", lk)
	}
	// NewCustomer answers the customer's id and links it.
	m = cl.Post(t, "key/CreateKey", cl.Form(tok, pid, "", "NewCustomer", "True", "Name", "Dora", "Email", "dora@example.com", "CompanyName", "D Ltd"))
	servertest.MustOK(t, "CreateKey with NewCustomer", m)
	_, lk = servertest.Verified(t, cl.PubXML, cl.Post(t, "key/GetKey", cl.Form(tok, pid, m["key"].(string), "Sign", "true", "SignMethod", "1")))
	if c := lk["Customer"].(map[string]any); c["Id"] != m["customerId"] || c["Name"] != "Dora" {
		t.Fatalf("new customer %v, answer %v", c, m)
	}

	// ExtendLicense moves Expires; Block/Unblock toggle access.
	servertest.MustOK(t, "ExtendLicense", cl.Post(t, "key/ExtendLicense", cl.Form(tok, pid, key, "NoOfDays", "10")))
	_, lk = servertest.Verified(t, cl.PubXML, cl.Post(t, "key/GetKey", cl.Form(tok, pid, key, "Sign", "true", "SignMethod", "1")))
	if lk["Expires"] != float64(created.Add(30*24*time.Hour).Unix()) {
		t.Fatalf("Expires after extending by 10 days: %v", lk["Expires"])
	}
	servertest.MustOK(t, "BlockKey", cl.Post(t, "key/BlockKey", cl.Form(tok, pid, key)))
	servertest.MustFail(t, "activate blocked", cl.Post(t, "key/Activate", cl.Form(tok, pid, key, "MachineCode", "m")), "The key is blocked and cannot be accessed.")
	servertest.MustOK(t, "UnblockKey", cl.Post(t, "key/UnblockKey", cl.Form(tok, pid, key)))
	servertest.MustOK(t, "activate unblocked", cl.Post(t, "key/Activate", cl.Form(tok, pid, key, "MachineCode", "m")))

	// Expired keys: advisory, until the product blocks expired keys.
	cl.Clock.Add(31 * 24 * time.Hour)
	servertest.MustOK(t, "expired key, lenient product", cl.Post(t, "key/Activate", cl.Form(tok, pid, key, "MachineCode", "m")))
	if _, err := cl.Svc.SetBlockExpired(context.Background(), license.Admin(), pid, true); err != nil {
		t.Fatal(err)
	}
	servertest.MustFail(t, "expired key, strict product", cl.Post(t, "key/Activate", cl.Form(tok, pid, key, "MachineCode", "m")), "The key is blocked and cannot be accessed.")

	// CreateTrialKey: length from the feature lock, the same key again for the same machine.
	trialTok := cl.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodCreateTrialKey, license.MethodActivate}, FeatureLock: 5})
	m = cl.Post(t, "key/CreateTrialKey", url.Values{"token": {trialTok}, "ProductId": {fmt.Sprint(pid)}, "MachineCode": {"trial-box"}})
	servertest.MustOK(t, "CreateTrialKey", m)
	again := cl.Post(t, "key/CreateTrialKey", url.Values{"token": {trialTok}, "ProductId": {fmt.Sprint(pid)}, "MachineCode": {"trial-box"}})
	if again["key"] != m["key"] {
		t.Fatalf("second CreateTrialKey for the machine: %v, first %v", again, m)
	}
	_, lk = servertest.Verified(t, cl.PubXML, cl.Post(t, "key/Activate", cl.Form(trialTok, pid, m["key"].(string), "MachineCode", "trial-box", "Sign", "true", "SignMethod", "1")))
	if lk["Period"] != float64(5) || lk["Expires"] != float64(cl.Clock.Now().Add(5*24*time.Hour).Unix()) || lk["MaxNoOfMachines"] != float64(1) {
		t.Fatalf("trial key: %v", lk)
	}
	servertest.MustFail(t, "trial key on another machine", cl.Post(t, "key/Activate", cl.Form(trialTok, pid, m["key"].(string), "MachineCode", "other-box")), "Cannot activate the new device as the limit has been reached.")
}
