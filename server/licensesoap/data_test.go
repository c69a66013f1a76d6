package licensesoap_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// TestLicenseSOAPDataObjects: the data-object operations on a key and on a machine, the key's objects in its
// signed license, bounds, another vendor and bad input.
func TestLicenseSOAPDataObjects(t *testing.T) {
	l := servertest.NewLicStack(t)
	ctx := context.Background()
	k, err := l.Env.Svc.CreateKey(ctx, license.Admin(), l.Prod.ID, license.KeySpec{MaxNoOfMachines: 1})
	if err != nil {
		t.Fatal(err)
	}
	vendor := servertest.Basic("simon0897", "s3cret")
	target := "<productId>" + strconv.FormatInt(l.Prod.ID, 10) + "</productId><key>" + k.Key.Key + "</key>"

	w := l.OK(t, vendor, "addDataObject", target+`<name>usage</name><stringValue>a &amp; b</stringValue><intValue>1</intValue>`)
	id := servertest.LicText(w, "return")
	if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 {
		t.Fatalf("addDataObject returned %q", id)
	}
	l.Fault(t, vendor, "addDataObject", target+`<name>usage</name><checkForDuplicates>true</checkForDuplicates>`, 500,
		"A data object with the same name already exists.")
	if w = l.OK(t, vendor, "incrementIntValue", target+`<name>usage</name><intValue>4</intValue><bound>5</bound>`); servertest.LicText(w, "return") != "5" {
		t.Fatalf("increment returned %q", servertest.LicText(w, "return"))
	}
	l.Fault(t, vendor, "incrementIntValue", target+`<id>`+id+`</id><intValue>1</intValue><bound>5</bound>`, 500,
		"The new value would pass the bound, or is out of range.")
	if w = l.OK(t, vendor, "decrementIntValue", target+`<id>`+id+`</id><intValue>2</intValue>`); servertest.LicText(w, "return") != "3" {
		t.Fatalf("decrement returned %q", servertest.LicText(w, "return"))
	}
	l.OK(t, vendor, "setStringValue", target+`<id>`+id+`</id><stringValue>x</stringValue>`)

	// The key's objects are in the license, and in its signed JSON.
	w = l.OK(t, vendor, "getKey", target)
	ret := w.FindElement("return")
	if servertest.LicText(ret, "dataObject/id") != id || servertest.LicText(ret, "dataObject/name") != "usage" ||
		servertest.LicText(ret, "dataObject/stringValue") != "x" || servertest.LicText(ret, "dataObject/intValue") != "3" {
		t.Fatalf("getKey dataObject: id %q name %q", servertest.LicText(ret, "dataObject/id"), servertest.LicText(ret, "dataObject/name"))
	}
	checkSigned(t, l, ret, k.Key.Key)
	raw, _ := base64.StdEncoding.DecodeString(servertest.LicText(ret, "licenseKey"))
	var signed struct {
		DataObjects []struct {
			Name     string
			IntValue int
		}
	}
	if json.Unmarshal(raw, &signed) != nil || len(signed.DataObjects) != 1 || signed.DataObjects[0].IntValue != 3 {
		t.Fatalf("signed DataObjects: %s", raw)
	}

	// A machine's objects: only once it is activated, apart from the key's.
	machine := target + `<machineCode>m-1</machineCode>`
	l.Fault(t, vendor, "addDataObject", machine+`<name>m</name>`, 500,
		"Either the machine code was never activated or key activation feature was never set up.")
	l.OK(t, vendor, "activate", machine)
	l.OK(t, vendor, "addDataObject", machine+`<name>m</name><intValue>7</intValue>`)
	l.OK(t, vendor, "setIntValue", machine+`<name>m</name><intValue>8</intValue>`)
	w = l.OK(t, vendor, "listDataObjects", machine)
	if len(w.FindElements("return")) != 1 || servertest.LicText(w, "return/intValue") != "8" {
		t.Fatalf("machine's objects: %d", len(w.FindElements("return")))
	}
	w = l.OK(t, vendor, "listDataObjects", target+`<contains>sag</contains>`)
	if len(w.FindElements("return")) != 1 || servertest.LicText(w, "return/id") != id {
		t.Fatalf("key's objects: %d", len(w.FindElements("return")))
	}
	l.Fault(t, vendor, "removeDataObject", machine+`<id>`+id+`</id>`, 500, "Could not find the data object.")
	l.OK(t, vendor, "removeDataObject", target+`<id>`+id+`</id>`)

	// Another vendor reaches nothing; bad input is a Client fault and changes nothing.
	if err := l.Env.Svc.AddVendor(ctx, "paul1234"); err != nil {
		t.Fatal(err)
	}
	l.Fault(t, servertest.Basic("paul1234", "pa55"), "listDataObjects", target, 500, "Could not find the product.")
	l.Fault(t, vendor, "setIntValue", target+`<name>m</name>`, 500, "The input parameters were incorrect. (intValue is required)")
	l.Fault(t, vendor, "incrementIntValue", target+`<name>m</name><intValue>99999999999</intValue>`, 500, "The input parameters were incorrect. (intValue must be an integer)")
	l.Fault(t, vendor, "addDataObject", target+"<name>"+strings.Repeat("a", 101)+"</name>", 500, "The input parameters were incorrect.")
	if w = l.OK(t, vendor, "listDataObjects", target); len(w.FindElements("return")) != 0 {
		t.Fatalf("after refused calls the key has %d objects", len(w.FindElements("return")))
	}
}
