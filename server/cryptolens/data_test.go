package cryptolens_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

const (
	msgNoDataObject = "Could not find the data object."
	msgBound        = "The new value would pass the bound, or is out of range."
	msgExists       = "A data object with the same name already exists."
	msgAccess       = "Access denied."
	msgBadInput     = "The input parameters were incorrect."
)

// dataObjects returns the dataObjects of a list answer, checking its shape.
func dataObjects(t *testing.T, m map[string]any) []map[string]any {
	t.Helper()
	servertest.MustOK(t, "list", m)
	list, ok := m["dataObjects"].([]any)
	if !ok {
		t.Fatalf("dataObjects = %#v", m["dataObjects"])
	}
	out := make([]map[string]any, len(list))
	for i, o := range list {
		out[i] = o.(map[string]any)
	}
	return out
}

// TestDataObjectsToKey walks the key-specific methods with the SDKs' request shapes (.NET: PascalCase and
// True/False; Python: str(bool), Id=0 with a Name; Node: camelCase), and the key's objects in its signed license.
func TestDataObjectsToKey(t *testing.T) {
	cl := servertest.NewCLStack(t)
	k := cl.NewKey(t, license.KeySpec{Period: 30})
	tok := cl.Token(t, license.TokenSpec{KeyLock: license.KeyLockAny})

	// Node's AddDataObjectToKey: camelCase names, null defaults as "null".
	m := cl.Post(t, "data/AddDataObjectToKey", url.Values{"token": {tok}, "productId": {fmt.Sprint(cl.Product.ID)},
		"key": {k.Key}, "checkForDuplicates": {"false"}, "name": {"usage"}, "stringValue": {"null"}, "intValue": {"0"}})
	servertest.MustOK(t, "add (node)", m)
	usage := m["id"].(float64)
	if usage <= 0 || len(m) != 3 {
		t.Fatalf("add answer %v", m)
	}
	// .NET: CheckForDuplicates refuses a second "usage".
	servertest.MustFail(t, "duplicate", cl.Post(t, "data/adddataobjecttokey/", cl.Form(tok, cl.Product.ID, k.Key,
		"Name", "usage", "CheckForDuplicates", "True")), msgExists)
	servertest.MustOK(t, "add features", cl.Post(t, "data/AddDataObjectToKey", cl.Form(tok, cl.Product.ID, k.Key,
		"Name", "cryptolens_features", "StringValue", `["f1",["f2",["voice"]]]`, "IntValue", "-7", "CheckForDuplicates", "True")))

	// Python: Id=0 and a Name, EnableBound as str(True).
	inc := func(by, bound int) map[string]any {
		return cl.Post(t, "data/IncrementIntValueToKey/", cl.Form(tok, cl.Product.ID, k.Key, "Id", "0", "Name", "usage",
			"IntValue", fmt.Sprint(by), "EnableBound", "True", "Bound", fmt.Sprint(bound)))
	}
	servertest.MustOK(t, "increment", inc(3, 5))
	servertest.MustOK(t, "increment to the bound", inc(-2, 5)) // unsigned: -2 counts as 2
	servertest.MustFail(t, "increment past the bound", inc(1, 5), msgBound)
	servertest.MustOK(t, "decrement by id", cl.Post(t, "data/decrementintvaluetokey", cl.Form(tok, cl.Product.ID, k.Key,
		"Id", fmt.Sprint(usage), "IntValue", "4", "EnableBound", "False", "Bound", "0")))
	servertest.MustFail(t, "decrement below the bound", cl.Post(t, "data/decrementintvaluetokey", cl.Form(tok, cl.Product.ID, k.Key,
		"Name", "usage", "IntValue", "2", "EnableBound", "true", "Bound", "0")), msgBound)

	list := dataObjects(t, cl.Post(t, "data/ListDataObjectsToKey", cl.Form(tok, cl.Product.ID, k.Key, "Contains", "usa")))
	if len(list) != 1 || list[0]["id"] != usage || list[0]["name"] != "usage" || list[0]["intValue"] != float64(1) ||
		list[0]["stringValue"] != "" || len(list[0]) != 4 {
		t.Fatalf("list = %v", list)
	}
	servertest.MustOK(t, "set int", cl.Post(t, "data/SetIntValueToKey", cl.Form(tok, cl.Product.ID, k.Key, "Name", "usage", "IntValue", "-2147483648")))
	servertest.MustOK(t, "set string", cl.Post(t, "data/SetStringValueToKey", cl.Form(tok, cl.Product.ID, k.Key,
		"Id", fmt.Sprint(usage), "StringValue", "héllo\nworld")))
	servertest.MustFail(t, "decrement out of int32", cl.Post(t, "data/DecrementIntValueToKey", cl.Form(tok, cl.Product.ID, k.Key,
		"Name", "usage", "IntValue", "1")), msgBound)

	// The license carries the key's objects, signed.
	_, lk := servertest.Verified(t, cl.PubXML, cl.Post(t, "key/GetKey", cl.Form(tok, cl.Product.ID, k.Key, "Sign", "True", "SignMethod", "1")))
	objs, _ := lk["DataObjects"].([]any)
	if len(objs) != 2 {
		t.Fatalf("DataObjects = %v", lk["DataObjects"])
	}
	first := objs[0].(map[string]any)
	if first["Id"] != usage || first["Name"] != "usage" || first["StringValue"] != "héllo\nworld" ||
		first["IntValue"] != float64(-2147483648) || len(first) != 4 {
		t.Fatalf("DataObjects[0] = %v", first)
	}
	// FieldsToReturn bit 9 hides them.
	_, lk = servertest.Verified(t, cl.PubXML, cl.Post(t, "key/GetKey", cl.Form(tok, cl.Product.ID, k.Key, "Sign", "True",
		"SignMethod", "1", "FieldsToReturn", fmt.Sprint(1<<9))))
	if objs, _ := lk["DataObjects"].([]any); objs == nil || len(objs) != 0 {
		t.Fatalf("hidden DataObjects = %#v", lk["DataObjects"])
	}

	servertest.MustOK(t, "remove by name", cl.Post(t, "data/RemoveDataObjectToKey", cl.Form(tok, cl.Product.ID, k.Key, "Id", "0", "Name", "usage")))
	servertest.MustFail(t, "remove again", cl.Post(t, "data/RemoveDataObjectToKey", cl.Form(tok, cl.Product.ID, k.Key, "Id", fmt.Sprint(usage))), msgNoDataObject)
	if list := dataObjects(t, cl.Post(t, "data/listdataobjectstokey", cl.Form(tok, cl.Product.ID, k.Key))); len(list) != 1 {
		t.Fatalf("after remove: %v", list)
	}
}

// TestDataObjectsGeneral: the general methods, on the account (the .NET SDK's default ReferencerType), a
// product (its enum name) and a key (its GlobalId), objects by Id, and ShowAll naming each referencer.
func TestDataObjectsGeneral(t *testing.T) {
	cl := servertest.NewCLStack(t)
	k := cl.NewKey(t, license.KeySpec{})
	tok := cl.Token(t, license.TokenSpec{})
	add := func(kv ...string) float64 {
		t.Helper()
		f := url.Values{"token": {tok}}
		for i := 0; i < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		m := cl.Post(t, "data/AddDataObject", f)
		servertest.MustOK(t, "add", m)
		return m["id"].(float64)
	}
	account := add()
	product := add("Name", "p", "ReferencerType", "Product", "ReferencerId", fmt.Sprint(cl.Product.ID), "IntValue", "10")
	key := add("Name", "k", "ReferencerType", "2", "ReferencerId", fmt.Sprint(k.GlobalID), "StringValue", "s")

	byID := func(method string, id float64, kv ...string) map[string]any {
		f := url.Values{"token": {tok}, "Id": {fmt.Sprint(id)}}
		for i := 0; i < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return cl.Post(t, "data/"+method, f)
	}
	servertest.MustOK(t, "increment", byID("IncrementIntValue", product, "IntValue", "5", "EnableBound", "True", "Bound", "15"))
	servertest.MustFail(t, "increment past", byID("IncrementIntValue", product, "IntValue", "1", "EnableBound", "True", "Bound", "15"), msgBound)
	servertest.MustOK(t, "decrement", byID("DecrementIntValue", product, "IntValue", "20"))
	servertest.MustOK(t, "set int", byID("SetIntValue", account, "IntValue", "7"))
	servertest.MustOK(t, "set string", byID("SetStringValue", key, "StringValue", "t"))

	m := cl.Post(t, "data/listdataobjects", url.Values{"token": {tok}, "ShowAll": {"True"}})
	list := dataObjects(t, m)
	want := map[float64]string{account: "0:0:7:", product: fmt.Sprintf("1:%d:-5:", cl.Product.ID), key: fmt.Sprintf("2:%d:0:t", k.GlobalID)}
	if len(list) != 3 {
		t.Fatalf("ShowAll = %v", list)
	}
	for _, o := range list {
		got := fmt.Sprintf("%v:%v:%v:%v", o["referencerType"], o["referencerId"], o["intValue"], o["stringValue"])
		if got != want[o["id"].(float64)] {
			t.Errorf("object %v: %s, want %s", o["id"], got, want[o["id"].(float64)])
		}
	}
	list = dataObjects(t, cl.Post(t, "data/ListDataObjects", url.Values{"token": {tok}, "ReferencerType": {"1"}, "ReferencerId": {fmt.Sprint(cl.Product.ID)}}))
	if len(list) != 1 || list[0]["id"] != product || list[0]["referencerType"] != nil {
		t.Fatalf("product's objects = %v", list)
	}
	// A key's object made by the general method is the key's: …ToKey lists it, and the general Remove removes it.
	if l := dataObjects(t, cl.Post(t, "data/ListDataObjectsToKey", cl.Form(tok, cl.Product.ID, k.Key))); len(l) != 1 || l[0]["id"] != key {
		t.Fatalf("key's objects = %v", l)
	}
	servertest.MustOK(t, "remove", byID("RemoveDataObject", key))
	servertest.MustFail(t, "remove again", byID("RemoveDataObject", key), msgNoDataObject)
}

// TestDataObjectsToMachineCode: objects on one activated machine, apart from the key's.
func TestDataObjectsToMachineCode(t *testing.T) {
	cl := servertest.NewCLStack(t)
	k := cl.NewKey(t, license.KeySpec{MaxNoOfMachines: 2})
	tok := cl.Token(t, license.TokenSpec{})
	form := func(machine string, kv ...string) url.Values {
		return cl.Form(tok, cl.Product.ID, k.Key, append([]string{"MachineCode", machine}, kv...)...)
	}
	servertest.MustFail(t, "machine not activated", cl.Post(t, "data/AddDataObjectToMachineCode", form("m1", "Name", "n")),
		"Either the machine code was never activated or key activation feature was never set up.")
	servertest.MustOK(t, "activate", cl.Post(t, "key/Activate", cl.Form(tok, cl.Product.ID, k.Key, "MachineCode", "m1")))
	m := cl.Post(t, "data/AddDataObjectToMachineCode/", form("m1", "Name", "n", "IntValue", "1"))
	servertest.MustOK(t, "add", m)
	id := fmt.Sprint(m["id"])
	servertest.MustOK(t, "increment", cl.Post(t, "data/incrementintvaluetomachinecode", form("m1", "Name", "n", "IntValue", "2")))
	servertest.MustOK(t, "set string", cl.Post(t, "data/setstringvaluetomachinecode", form("m1", "Id", id, "StringValue", "x")))
	servertest.MustOK(t, "set int", cl.Post(t, "data/setintvaluetomachinecode", form("m1", "Name", "n", "IntValue", "9")))
	servertest.MustOK(t, "decrement", cl.Post(t, "data/decrementintvaluetomachinecode", form("m1", "Id", id, "IntValue", "4")))
	list := dataObjects(t, cl.Post(t, "data/listdataobjectstomachinecode", form("m1")))
	if len(list) != 1 || list[0]["intValue"] != float64(5) || list[0]["stringValue"] != "x" {
		t.Fatalf("machine's objects = %v", list)
	}
	// Another machine, and the key itself, do not see it; nor does the license.
	servertest.MustFail(t, "other machine by id", cl.Post(t, "data/SetIntValueToMachineCode", form("m2", "Id", id, "IntValue", "1")), msgNoDataObject)
	if l := dataObjects(t, cl.Post(t, "data/ListDataObjectsToKey", cl.Form(tok, cl.Product.ID, k.Key))); len(l) != 0 {
		t.Fatalf("key's objects = %v", l)
	}
	servertest.MustFail(t, "key form by id", cl.Post(t, "data/RemoveDataObjectToKey", cl.Form(tok, cl.Product.ID, k.Key, "Id", id)), msgNoDataObject)
	servertest.MustOK(t, "remove", cl.Post(t, "data/removedataobjecttomachinecode", form("m1", "Id", id)))
}

// TestDataObjectsAccess: permissions per method group, product and key locks, the feature lock as the largest
// step, and another vendor's objects and keys answered as absent.
func TestDataObjectsAccess(t *testing.T) {
	cl := servertest.NewCLStack(t)
	ctx := context.Background()
	k := cl.NewKey(t, license.KeySpec{})
	k2 := cl.NewKey(t, license.KeySpec{})
	owner := cl.Token(t, license.TokenSpec{})
	m := cl.Post(t, "data/AddDataObjectToKey", cl.Form(owner, cl.Product.ID, k.Key, "Name", "n"))
	servertest.MustOK(t, "add", m)
	id := fmt.Sprint(m["id"])

	listOnly := cl.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodListDataObjects}})
	for _, method := range []string{"AddDataObjectToKey", "SetIntValueToKey", "IncrementIntValueToKey", "DecrementIntValueToKey",
		"SetStringValueToKey", "RemoveDataObjectToKey", "UploadValuesToKey", "AddDataObject", "RemoveDataObject"} {
		servertest.MustFail(t, method+" without its permission", cl.Post(t, "data/"+method,
			cl.Form(listOnly, cl.Product.ID, k.Key, "Id", id, "Name", "n", "Data", base64.StdEncoding.EncodeToString([]byte(`[{"Id":`+id+`,"IntValue":1}]`)))), msgAccess)
	}
	servertest.MustOK(t, "list", cl.Post(t, "data/ListDataObjectsToKey", cl.Form(listOnly, cl.Product.ID, k.Key)))

	// Another vendor: its token reaches neither the product, nor the key by its GlobalId, nor the object by Id.
	issued, err := cl.Svc.CreateAPIToken(ctx, "paul1234", license.TokenSpec{Methods: servertest.AllMethods})
	if err != nil {
		t.Fatal(err)
	}
	paul := issued.Token
	servertest.MustFail(t, "other vendor, keyed", cl.Post(t, "data/IncrementIntValueToKey", cl.Form(paul, cl.Product.ID, k.Key, "Id", id, "IntValue", "1")), "Could not find the product.")
	servertest.MustFail(t, "other vendor, by id", cl.Post(t, "data/SetIntValue", url.Values{"token": {paul}, "Id": {id}, "IntValue": {"5"}}), msgNoDataObject)
	servertest.MustFail(t, "other vendor, key referencer", cl.Post(t, "data/AddDataObject", url.Values{"token": {paul},
		"ReferencerType": {"Key"}, "ReferencerId": {fmt.Sprint(k.GlobalID)}}), "Could not find the key.")
	if l := dataObjects(t, cl.Post(t, "data/ListDataObjects", url.Values{"token": {paul}, "ShowAll": {"true"}})); len(l) != 0 {
		t.Fatalf("paul lists %v", l)
	}

	// A token locked to k reaches k's objects only, and no account- or product-wide ones.
	locked := cl.Token(t, license.TokenSpec{ProductLock: cl.Product.ID, KeyLock: k.ID})
	servertest.MustOK(t, "locked, own key", cl.Post(t, "data/IncrementIntValueToKey", cl.Form(locked, cl.Product.ID, k.Key, "Id", id, "IntValue", "1")))
	servertest.MustOK(t, "locked, own key by id", cl.Post(t, "data/IncrementIntValue", url.Values{"token": {locked}, "Id": {id}, "IntValue": {"1"}}))
	servertest.MustFail(t, "locked, other key", cl.Post(t, "data/AddDataObjectToKey", cl.Form(locked, cl.Product.ID, k2.Key, "Name", "x")), msgAccess)
	servertest.MustFail(t, "locked, account", cl.Post(t, "data/AddDataObject", url.Values{"token": {locked}}), msgAccess)
	servertest.MustFail(t, "locked, product", cl.Post(t, "data/ListDataObjects", url.Values{"token": {locked},
		"ReferencerType": {"1"}, "ReferencerId": {fmt.Sprint(cl.Product.ID)}}), msgAccess)
	servertest.MustFail(t, "locked, ShowAll", cl.Post(t, "data/ListDataObjects", url.Values{"token": {locked}, "ShowAll": {"True"}}), msgAccess)

	// The feature lock bounds one step.
	step := cl.Token(t, license.TokenSpec{FeatureLock: 1})
	servertest.MustOK(t, "step 1", cl.Post(t, "data/IncrementIntValueToKey", cl.Form(step, cl.Product.ID, k.Key, "Name", "n", "IntValue", "1")))
	servertest.MustFail(t, "step 2", cl.Post(t, "data/DecrementIntValueToKey", cl.Form(step, cl.Product.ID, k.Key, "Name", "n", "IntValue", "2")), msgAccess)
	list := dataObjects(t, cl.Post(t, "data/ListDataObjectsToKey", cl.Form(owner, cl.Product.ID, k.Key)))
	if len(list) != 1 || list[0]["intValue"] != float64(3) {
		t.Fatalf("after the locked calls: %v", list)
	}
}

// TestDataObjectsBadInput: malformed or out-of-range parameters are refused with Cryptolens' message and
// write nothing.
func TestDataObjectsBadInput(t *testing.T) {
	cl := servertest.NewCLStack(t)
	k := cl.NewKey(t, license.KeySpec{})
	tok := cl.Token(t, license.TokenSpec{})
	m := cl.Post(t, "data/AddDataObjectToKey", cl.Form(tok, cl.Product.ID, k.Key, "Name", "n", "IntValue", "1"))
	servertest.MustOK(t, "add", m)
	id := fmt.Sprint(m["id"])
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		method string
		kv     []string
		msg    string
	}{
		{"AddDataObjectToKey", []string{"Name", strings.Repeat("n", 101)}, msgBadInput},
		{"AddDataObjectToKey", []string{"Name", "ok", "StringValue", strings.Repeat("s", 10001)}, msgBadInput},
		{"AddDataObjectToKey", []string{"Name", "a\x00b"}, msgBadInput},
		{"AddDataObjectToKey", []string{"Name", "ok", "IntValue", "2147483648"}, msgBadInput},
		{"AddDataObjectToKey", []string{"Name", "ok", "IntValue", "1.5"}, msgBadInput},
		{"AddDataObjectToKey", []string{"Name", "ok", "CheckForDuplicates", "maybe"}, msgBadInput},
		{"AddDataObject", []string{"ReferencerType", "7"}, msgBadInput},
		{"AddDataObject", []string{"ReferencerType", "1", "ReferencerId", "0"}, msgBadInput},
		{"IncrementIntValueToKey", []string{"Id", "0"}, msgBadInput}, // neither id nor name
		{"IncrementIntValueToKey", []string{"Id", "-3", "IntValue", "1"}, msgBadInput},
		{"IncrementIntValueToKey", []string{"Id", id, "IntValue", "1", "EnableBound", "True", "Bound", "x"}, msgBadInput},
		{"IncrementIntValueToKey", []string{"Name", "missing", "IntValue", "1"}, msgNoDataObject},
		{"SetIntValue", []string{}, msgBadInput}, // no Id
		{"SetStringValueToKey", []string{"Id", id, "StringValue", strings.Repeat("é", 10001)}, msgBadInput},
		{"AddDataObjectToMachineCode", []string{"Name", "x"}, msgBadInput}, // no MachineCode
		{"UploadValuesToKey", []string{"Data", "not base64!"}, msgBadInput},
		{"UploadValuesToKey", []string{"Data", b64(`{"Id":1}`)}, msgBadInput},
		{"UploadValuesToKey", []string{"Data", b64(`[{"Id":` + id + `,"IntValue":1,"Extra":1}]`)}, msgBadInput},
		{"UploadValuesToKey", []string{"Data", b64(`[{"Id":` + id + `}]`)}, msgBadInput},
		{"UploadValuesToKey", []string{"Data", b64(`[{"Id":` + id + `,"Name":"n","IntValue":1}]`)}, msgBadInput},
		{"UploadValuesToKey", []string{"Data", b64(`[]`)}, msgBadInput},
		{"UploadValuesToKey", []string{"Data", b64("[" + strings.Repeat(`{"Name":"n","IntValue":1},`, 1000) + `{"Name":"n","IntValue":1}]`)}, msgBadInput},
	}
	for _, c := range cases {
		servertest.MustFail(t, fmt.Sprintf("%s %.60v", c.method, c.kv), cl.Post(t, "data/"+c.method,
			cl.Form(tok, cl.Product.ID, k.Key, c.kv...)), c.msg)
	}
	list := dataObjects(t, cl.Post(t, "data/ListDataObjects", url.Values{"token": {tok}, "ShowAll": {"1"}}))
	if len(list) != 1 || list[0]["intValue"] != float64(1) || list[0]["name"] != "n" {
		t.Fatalf("after refused calls: %v", list)
	}
}

// TestDataObjectsUploadValues: a batch of increments and decrements applies entirely, or not at all.
func TestDataObjectsUploadValues(t *testing.T) {
	cl := servertest.NewCLStack(t)
	k := cl.NewKey(t, license.KeySpec{})
	tok := cl.Token(t, license.TokenSpec{})
	add := func(name, v string) string {
		m := cl.Post(t, "data/AddDataObjectToKey", cl.Form(tok, cl.Product.ID, k.Key, "Name", name, "IntValue", v))
		servertest.MustOK(t, "add", m)
		return fmt.Sprint(m["id"])
	}
	a, _ := add("a", "0"), add("b", "2147483647")
	upload := func(tok, data string) map[string]any {
		return cl.Post(t, "data/UploadValuesToKey", cl.Form(tok, cl.Product.ID, k.Key, "Id", a,
			"Data", base64.StdEncoding.EncodeToString([]byte(data))))
	}
	servertest.MustOK(t, "upload", upload(tok, `[{"Id":`+a+`,"IntValue":5},{"Name":"a","IntValue":-2},{"Name":"b","IntValue":-7}]`))
	servertest.MustFail(t, "upload past int32", upload(tok, `[{"Id":`+a+`,"IntValue":5},{"Name":"b","IntValue":8}]`), msgBound)
	servertest.MustFail(t, "upload to an unknown name", upload(tok, `[{"Id":`+a+`,"IntValue":5},{"Name":"zz","IntValue":1}]`), msgNoDataObject)
	incOnly := cl.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodIncrementIntValue}})
	servertest.MustOK(t, "increments only", upload(incOnly, `[{"Name":"a","IntValue":1}]`))
	servertest.MustFail(t, "a decrement without its permission", upload(incOnly, `[{"Name":"a","IntValue":1},{"Name":"a","IntValue":-1}]`), msgAccess)
	list := dataObjects(t, cl.Post(t, "data/ListDataObjectsToKey", cl.Form(tok, cl.Product.ID, k.Key)))
	if len(list) != 2 || list[0]["intValue"] != float64(4) || list[1]["intValue"] != float64(2147483640) {
		t.Fatalf("after uploads: %v", list)
	}
}

// TestDataObjectsIncrementRaceOverHTTP: racing bounded increments through the whole stack stop exactly at the
// bound, and every one below it counts.
func TestDataObjectsIncrementRaceOverHTTP(t *testing.T) {
	cl := servertest.NewCLStack(t)
	k := cl.NewKey(t, license.KeySpec{})
	tok := cl.Token(t, license.TokenSpec{})
	servertest.MustOK(t, "add", cl.Post(t, "data/AddDataObjectToKey", cl.Form(tok, cl.Product.ID, k.Key, "Name", "n")))
	const racers, steps, bound = 8, 25, 150
	var mu sync.Mutex
	ok, refused := 0, 0
	var wg sync.WaitGroup
	for range racers {
		wg.Go(func() {
			for range steps {
				m := cl.Post(t, "data/IncrementIntValueToKey", cl.Form(tok, cl.Product.ID, k.Key, "Name", "n", "IntValue", "1",
					"EnableBound", "true", "Bound", fmt.Sprint(bound)))
				mu.Lock()
				switch {
				case m["result"] == float64(0):
					ok++
				case m["message"] == msgBound:
					refused++
				default:
					t.Errorf("increment: %v", m)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	list := dataObjects(t, cl.Post(t, "data/ListDataObjectsToKey", cl.Form(tok, cl.Product.ID, k.Key)))
	if ok != bound || refused != racers*steps-bound || list[0]["intValue"] != float64(bound) {
		t.Fatalf("%d increments succeeded, %d refused, value %v; want %d, %d, %d", ok, refused, list[0]["intValue"], bound, racers*steps-bound, bound)
	}
}

// TestDataObjectChangesAreAudited: every change, granted or refused, reaches the audit log.
func TestDataObjectChangesAreAudited(t *testing.T) {
	cl := servertest.NewCLStack(t)
	k := cl.NewKey(t, license.KeySpec{})
	tok := cl.Token(t, license.TokenSpec{})
	m := cl.Post(t, "data/AddDataObjectToKey", cl.Form(tok, cl.Product.ID, k.Key, "Name", "n"))
	id := fmt.Sprint(m["id"])
	cl.Post(t, "data/IncrementIntValueToKey", cl.Form(tok, cl.Product.ID, k.Key, "Id", id, "IntValue", "3", "EnableBound", "true", "Bound", "2"))
	cl.Post(t, "data/RemoveDataObject", url.Values{"token": {tok}, "Id": {id}})
	var got []string
	for _, e := range cl.AuditLog(t) {
		if strings.HasPrefix(e.Action, "data.") {
			got = append([]string{e.Action + " " + strings.SplitN(e.Outcome, ":", 2)[0] + " " + e.Actor}, got...)
			if strings.Contains(e.Detail, k.Key) {
				t.Errorf("detail %q names the whole key", e.Detail)
			}
		}
	}
	want := "data.add ok simon0897\ndata.increment refused simon0897\ndata.remove ok simon0897"
	if strings.Join(got, "\n") != want {
		t.Fatalf("data audit events:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}
