package licensesoap_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

func TestLicenseSOAPWSDL(t *testing.T) {
	l := servertest.NewLicStack(t)
	r := servertest.Do(t, "GET", l.URL+servertest.LicPath+"?wsdl", "", nil)
	if r.Status != 200 || !strings.Contains(r.Body, `location="`+l.URL+servertest.LicPath+`"`) || !strings.Contains(r.Body, `targetNamespace="`+servertest.LicNS+`"`) {
		t.Fatalf("WSDL: %d %.300s", r.Status, r.Body)
	}
}

func TestLicenseSOAPOperations(t *testing.T) {
	l := servertest.NewLicStack(t)
	vendor := servertest.Basic("simon0897", "s3cret")
	pid := "<productId>" + strconv.FormatInt(l.Prod.ID, 10) + "</productId>"

	// createKey, with a new customer.
	w := l.OK(t, vendor, "createKey", pid+`<period>30</period><f1>true</f1><f8>1</f8><notes>a &amp; b</notes>`+
		`<maxNoOfMachines>1</maxNoOfMachines><newCustomer><name>Ada</name><email>ada@example.com</email></newCustomer>`)
	key := servertest.LicText(w, "return/key")
	if len(key) != 23 || servertest.LicText(w, "return/id") != "1" || servertest.LicText(w, "return/customerId") == "<absent>" {
		t.Fatalf("createKey: %s", key)
	}
	keyEl := "<key>" + key + "</key>"

	// getKey: the license as stored, with its signed form.
	w = l.OK(t, vendor, "getKey", pid+keyEl)
	ret := w.FindElement("return")
	for path, want := range map[string]string{"productId": strconv.FormatInt(l.Prod.ID, 10), "key": key, "period": "30", "f1": "true",
		"f2": "false", "f8": "true", "notes": "a & b", "block": "false", "maxNoOfMachines": "1", "customer/name": "Ada",
		"customer/email": "ada@example.com", "created": "2026-11-23T08:00:00Z", "expires": "2026-12-23T08:00:00Z",
		"signDate": "2026-11-23T08:00:00Z"} {
		if got := servertest.LicText(ret, path); got != want {
			t.Errorf("getKey %s = %q, want %q", path, got, want)
		}
	}
	checkSigned(t, l, ret, key)

	// activate: the machine is listed; a second machine is over the limit.
	w = l.OK(t, vendor, "activate", pid+keyEl+`<machineCode>m-1</machineCode><friendlyName>laptop</friendlyName>`)
	if got := servertest.LicText(w, "return/activatedMachine/mid"); got != "m-1" || servertest.LicText(w, "return/activatedMachine/ip") != "127.0.0.1" {
		t.Fatalf("activate: machine %q, ip %q", got, servertest.LicText(w, "return/activatedMachine/ip"))
	}
	checkSigned(t, l, w.FindElement("return"), key)
	l.Fault(t, vendor, "activate", pid+keyEl+`<machineCode>m-2</machineCode>`, 500, "Cannot activate the new device as the limit has been reached.")

	// fieldsToReturn hides fields (key: 1<<2, notes: 1<<3).
	w = l.OK(t, vendor, "getKey", pid+keyEl+`<fieldsToReturn>12</fieldsToReturn>`)
	if servertest.LicText(w, "return/key") != "<absent>" || servertest.LicText(w, "return/notes") != "<absent>" || servertest.LicText(w, "return/period") != "30" {
		t.Fatalf("hidden fields shown: key %q notes %q", servertest.LicText(w, "return/key"), servertest.LicText(w, "return/notes"))
	}

	// deactivate, twice.
	l.OK(t, vendor, "deactivate", pid+keyEl+`<machineCode>m-1</machineCode>`)
	l.Fault(t, vendor, "deactivate", pid+keyEl+`<machineCode>m-1</machineCode>`, 500,
		"Either the machine code was never activated or key activation feature was never set up.")

	// blockKey and unblockKey.
	l.OK(t, vendor, "blockKey", pid+keyEl)
	l.Fault(t, vendor, "getKey", pid+keyEl, 500, "The key is blocked and cannot be accessed.")
	l.Fault(t, vendor, "activate", pid+keyEl+`<machineCode>m-1</machineCode>`, 500, "The key is blocked and cannot be accessed.")
	l.OK(t, vendor, "unblockKey", pid+keyEl)

	// extendLicense.
	l.OK(t, vendor, "extendLicense", pid+keyEl+`<noOfDays>10</noOfDays>`)
	if got := servertest.LicText(l.OK(t, vendor, "getKey", pid+keyEl), "return/expires"); got != "2027-01-02T08:00:00Z" {
		t.Fatalf("expires after extendLicense = %q", got)
	}

	// Floating activations carry the prefix and their expiry.
	l.Clock.Add(time.Hour)
	w = l.OK(t, vendor, "activate", pid+keyEl+`<machineCode>f-1</machineCode><floatingTimeInterval>300</floatingTimeInterval>`)
	if servertest.LicText(w, "return/activatedMachine/mid") != "floating:f-1" || servertest.LicText(w, "return/activatedMachine/floatingExpires") != "2026-11-23T09:05:00Z" {
		t.Fatalf("floating activation: %q %q", servertest.LicText(w, "return/activatedMachine/mid"), servertest.LicText(w, "return/activatedMachine/floatingExpires"))
	}
	l.OK(t, vendor, "deactivate", pid+keyEl+`<machineCode>f-1</machineCode><floating>true</floating>`)
}

// checkSigned verifies the license's signature with the product's public key over the decoded licenseKey
// bytes, and that the signed JSON agrees with the XML.
func checkSigned(t *testing.T, l *servertest.LicStack, ret *etree.Element, key string) {
	t.Helper()
	body, err1 := base64.StdEncoding.DecodeString(servertest.LicText(ret, "licenseKey"))
	sig, err2 := base64.StdEncoding.DecodeString(servertest.LicText(ret, "signature"))
	if err1 != nil || err2 != nil {
		t.Fatalf("licenseKey/signature not base64: %v %v", err1, err2)
	}
	pub, err := license.PublicKey(l.Prod)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(body)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	var signed struct {
		Key      string
		SignDate int64
	}
	if err := json.Unmarshal(body, &signed); err != nil || signed.Key != key ||
		time.Unix(signed.SignDate, 0).UTC().Format(time.RFC3339) != servertest.LicText(ret, "signDate") {
		t.Fatalf("signed JSON %s disagrees with the XML (key %s, signDate %s)", body, key, servertest.LicText(ret, "signDate"))
	}
}

func TestLicenseSOAPAuthentication(t *testing.T) {
	l := servertest.NewLicStack(t)
	ctx := context.Background()
	k, err := l.Env.Svc.CreateKey(ctx, license.Admin(), l.Prod.ID, license.KeySpec{MaxNoOfMachines: 2})
	if err != nil {
		t.Fatal(err)
	}
	get := "<productId>" + strconv.FormatInt(l.Prod.ID, 10) + "</productId><key>" + k.Key.Key + "</key>"

	r := l.Fault(t, "", "getKey", get, 401, "authentication required")
	if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Fatalf("no Basic challenge: %v", r.Header)
	}
	l.Fault(t, servertest.Basic("simon0897", "wrong"), "getKey", get, 401, "invalid user name or password")
	l.Fault(t, servertest.Basic("paul1234", "pa55"), "getKey", get, 500, "Access denied.")

	// A licensing access token, as Bearer or as the password of an empty user name; its permissions hold.
	issued, err := l.Env.Svc.CreateAPIToken(ctx, "simon0897", license.TokenSpec{Methods: []license.Method{license.MethodGetKey}})
	if err != nil {
		t.Fatal(err)
	}
	for _, authz := range []string{"Bearer " + issued.Token, servertest.Basic("", issued.Token)} {
		if got := servertest.LicText(l.OK(t, authz, "getKey", get), "return/key"); got != k.Key.Key {
			t.Fatalf("getKey with a token: key %q", got)
		}
		l.Fault(t, authz, "activate", get+"<machineCode>m</machineCode>", 500, "Access denied.")
		l.Fault(t, authz, "blockKey", get, 500, "Access denied.")
	}
	l.Fault(t, "Bearer bm9wZQ==", "getKey", get, 401, "Unable to authenticate.")
	if err := l.Env.Svc.RevokeAPIToken(ctx, "", issued.Record.ID); err != nil {
		t.Fatal(err)
	}
	l.Fault(t, "Bearer "+issued.Token, "getKey", get, 401, "Unable to authenticate.")

	// A product lock keeps the token to its product; another vendor's product is not found.
	other, err := l.Env.Svc.CreateProduct(ctx, license.Admin(), "simon0897", license.ProductSpec{Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	locked, err := l.Env.Svc.CreateAPIToken(ctx, "simon0897", license.TokenSpec{Methods: []license.Method{license.MethodGetKey},
		ProductLock: other.ID})
	if err != nil {
		t.Fatal(err)
	}
	l.Fault(t, "Bearer "+locked.Token, "getKey", get, 500, "Access denied.")
	if err := l.Env.Svc.AddVendor(ctx, "paul1234"); err != nil {
		t.Fatal(err)
	}
	l.Fault(t, servertest.Basic("paul1234", "pa55"), "getKey", get, 500, "Could not find the product.")
}

func TestLicenseSOAPFaults(t *testing.T) {
	l := servertest.NewLicStack(t)
	vendor := servertest.Basic("simon0897", "s3cret")
	pid := "<productId>" + strconv.FormatInt(l.Prod.ID, 10) + "</productId>"
	l.Fault(t, vendor, "getKey", "<productId>999</productId><key>AAAAA-AAAAA-AAAAA-AAAAA</key>", 500, "Could not find the product.")
	l.Fault(t, vendor, "getKey", pid+"<key>AAAAA-AAAAA-AAAAA-AAAAA</key>", 500, "Could not find the key.")
	l.Fault(t, vendor, "getKey", "<key>AAAAA-AAAAA-AAAAA-AAAAA</key>", 500, "The input parameters were incorrect. (productId is required)")
	l.Fault(t, vendor, "getKey", "<productId>one</productId><key>K</key>", 500, "The input parameters were incorrect. (productId must be an integer)")
	l.Fault(t, vendor, "deactivate", pid+"<key>K</key><machineCode>m</machineCode><floating>maybe</floating>", 500,
		"The input parameters were incorrect. (floating must be true or false)")
	l.Fault(t, vendor, "createKey", pid+"<maxNoOfMachines>-1</maxNoOfMachines>", 500, "The input parameters were incorrect.")
	l.Fault(t, vendor, "createKey", pid+"<customerId>77</customerId>", 500, "Customer not found.")
	l.Fault(t, vendor, "extendLicense", pid+"<key>K</key>", 500, "The input parameters were incorrect. (noOfDays is required)")
	l.Fault(t, vendor, "nope", pid, 500, "unknown operation {"+servertest.LicNS+"}nope")
	// xsi:nil is absence.
	l.Fault(t, vendor, "getKey", `<productId xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/><key>K</key>`, 500,
		"The input parameters were incorrect. (productId is required)")

	// SOAP 1.2: Sender faults with 400.
	env := `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><l:getKey xmlns:l="` + servertest.LicNS + `">` +
		pid + `<key>AAAAA-AAAAA-AAAAA-AAAAA</key></l:getKey></env:Body></env:Envelope>`
	r := servertest.Do(t, "POST", l.URL+servertest.LicPath, env, map[string]string{"Content-Type": "application/soap+xml; charset=utf-8", "Authorization": vendor})
	if code, msg := servertest.FaultString(t, r.Body); r.Status != 400 || code != "soap:Sender" || msg != "Could not find the key." {
		t.Fatalf("SOAP 1.2 fault: HTTP %d %s %q", r.Status, code, msg)
	}
}
