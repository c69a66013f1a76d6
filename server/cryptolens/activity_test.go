package cryptolens_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// paulToken is a token of the other vendor, paul1234, with every method.
func paulToken(t *testing.T, cl *servertest.CLStack) string {
	t.Helper()
	issued, err := cl.Svc.CreateAPIToken(context.Background(), "paul1234", license.TokenSpec{Name: "paul", Methods: servertest.AllMethods})
	if err != nil {
		t.Fatal(err)
	}
	return issued.Token
}

func wantResult(t *testing.T, what string, m map[string]any, result int, message string) {
	t.Helper()
	if m["result"] != float64(result) || (message != "" && m["message"] != message) {
		t.Fatalf("%s: %v; want result %d %q", what, m, result, message)
	}
}

// TestMessages: message/CreateMessage, GetMessages and RemoveMessage as the Python and .NET SDKs send them.
func TestMessages(t *testing.T) {
	cl := servertest.NewCLStack(t)
	tok := cl.Token(t, license.TokenSpec{})
	now := cl.Clock.Now().Unix()
	first := cl.Post(t, "message/CreateMessage/", servertest.Values("token", tok, "Channel", "stable", "Content", "Version 2 is out", "Time", "0"))
	wantResult(t, "CreateMessage", first, 0, "")
	cl.Post(t, "message/createmessage", servertest.Values("token", tok, "Channel", "beta", "Content", "Beta 3", "Time", fmt.Sprint(now+60)))
	got := cl.Post(t, "message/getmessages/", servertest.Values("token", tok, "Channel", "", "Time", "0"))
	wantResult(t, "GetMessages", got, 0, "")
	msgs := got["messages"].([]any)
	if len(msgs) != 2 || msgs[0].(map[string]any)["content"] != "Beta 3" || msgs[1].(map[string]any)["created"] != float64(now) ||
		msgs[1].(map[string]any)["id"] != first["messageId"] || msgs[1].(map[string]any)["channel"] != "stable" {
		t.Fatalf("GetMessages = %v", got)
	}
	// Time: strictly after; Channel: only that one.
	after := cl.Post(t, "message/GetMessages", servertest.Values("token", tok, "Time", fmt.Sprint(now)))
	if m := after["messages"].([]any); len(m) != 1 || m[0].(map[string]any)["channel"] != "beta" {
		t.Fatalf("GetMessages(Time) = %v", after)
	}
	stable := cl.Post(t, "message/GetMessages", servertest.Values("token", tok, "Channel", "stable"))
	if m := stable["messages"].([]any); len(m) != 1 {
		t.Fatalf("GetMessages(Channel) = %v", stable)
	}
	id := fmt.Sprint(int64(first["messageId"].(float64)))

	// Another vendor's token: neither sees nor removes simon0897's messages.
	paul := paulToken(t, cl)
	if m := cl.Post(t, "message/GetMessages", servertest.Values("token", paul))["messages"].([]any); len(m) != 0 {
		t.Fatalf("paul1234 sees %v", m)
	}
	wantResult(t, "RemoveMessage(another vendor's)", cl.Post(t, "message/RemoveMessage", servertest.Values("token", paul, "Id", id)), 1,
		"Could not find the message.")

	// Bad input.
	for _, form := range [][]string{
		{"message/GetMessages", "Time", "yesterday"},
		{"message/GetMessages", "Time", "-5"},
		{"message/CreateMessage", "Content", strings.Repeat("x", license.MaxMessageLen+1)},
		{"message/CreateMessage", "Content", "bell\a"},
		{"message/CreateMessage", "Channel", strings.Repeat("c", license.MaxChannelLen+1)},
		{"message/RemoveMessage", "Id", "0"},
		{"message/RemoveMessage", "Id", "one"},
	} {
		wantResult(t, strings.Join(form, " "), cl.Post(t, form[0], servertest.Values("token", tok, form[1], form[2])), 1, "The input parameters were incorrect.")
	}
	// Permission: a token without GetMessages.
	narrow := cl.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodActivate}})
	wantResult(t, "GetMessages without the permission", cl.Post(t, "message/GetMessages", servertest.Values("token", narrow)), 1, "Access denied.")

	wantResult(t, "RemoveMessage", cl.Post(t, "message/RemoveMessage/", servertest.Values("token", tok, "Id", id)), 0, "")
	wantResult(t, "RemoveMessage(again)", cl.Post(t, "message/RemoveMessage/", servertest.Values("token", tok, "Id", id)), 1, "Could not find the message.")
}

// TestEvents: ai/RegisterEvent (Python's shape), ai/RegisterEvents (.NET's: Events as JSON) and ai/GetEvents.
func TestEvents(t *testing.T) {
	cl := servertest.NewCLStack(t)
	tok := cl.Token(t, license.TokenSpec{})
	k := cl.NewKey(t, license.KeySpec{Period: 30})
	pid := fmt.Sprint(cl.Product.ID)
	wantResult(t, "RegisterEvent", cl.Post(t, "/ai/RegisterEvent", servertest.Values("token", tok, "ProductId", pid, "Key", k.Key,
		"MachineCode", "m1", "FeatureName", "export", "EventName", "start", "Value", "3", "Currency", "EUR", "Metadata", `{"v":"1.2"}`)), 0, "")
	wantResult(t, "RegisterEvent without a product", cl.Post(t, "ai/RegisterEvent", servertest.Values("token", tok, "ProductId", "-1",
		"EventName", "opened")), 0, "")
	then := cl.Clock.Now().Add(-3600).Unix()
	events := fmt.Sprintf(`[{"FeatureName":"print","EventName":"start","Value":1,"Currency":"","Time":%d,"Metadata":null},
		{"FeatureName":"print","EventName":"stop","Value":0,"Currency":""}]`, then)
	wantResult(t, "RegisterEvents", cl.Post(t, "ai/RegisterEvents", servertest.Values("token", tok, "ProductId", pid, "Key", k.Key,
		"MachineCode", "m2", "Events", events)), 0, "")

	got := cl.Post(t, "ai/GetEvents", servertest.Values("token", tok, "Limit", "10", "StartingAfter", "0", "ProductId", "0", "Key", ""))
	wantResult(t, "GetEvents", got, 0, "")
	evs := got["events"].([]any)
	if len(evs) != 4 {
		t.Fatalf("GetEvents = %v", got)
	}
	e := evs[0].(map[string]any)
	if e["productId"] != float64(cl.Product.ID) || e["key"] != k.Key || e["machineCode"] != "m1" || e["featureName"] != "export" ||
		e["eventName"] != "start" || e["value"] != float64(3) || e["currency"] != "EUR" || e["metadata"] != `{"v":"1.2"}` ||
		e["time"] != float64(cl.Clock.Now().Unix()) {
		t.Fatalf("event = %v", e)
	}
	if e := evs[2].(map[string]any); e["time"] != float64(then) || e["machineCode"] != "m2" {
		t.Fatalf("an event with its own time = %v", e)
	}
	byKey := cl.Post(t, "ai/GetEvents", servertest.Values("token", tok, "ProductId", pid, "Key", k.Key, "Limit", "2",
		"StartingAfter", fmt.Sprint(e["id"])))
	if evs := byKey["events"].([]any); len(evs) != 2 || evs[0].(map[string]any)["featureName"] != "print" {
		t.Fatalf("GetEvents(key, paged) = %v", byKey)
	}

	// Another vendor: not found on simon0897's product, and none of simon0897's events listed.
	paul := paulToken(t, cl)
	wantResult(t, "RegisterEvent on another vendor's product", cl.Post(t, "ai/RegisterEvent", servertest.Values("token", paul,
		"ProductId", pid, "EventName", "x")), 1, "Could not find the product.")
	wantResult(t, "GetEvents on another vendor's product", cl.Post(t, "ai/GetEvents", servertest.Values("token", paul, "ProductId", pid)),
		1, "Could not find the product.")
	if evs := cl.Post(t, "ai/GetEvents", servertest.Values("token", paul))["events"].([]any); len(evs) != 0 {
		t.Fatalf("paul1234 sees %v", evs)
	}
	// A token locked to another key cannot write or read this key's events.
	other := cl.NewKey(t, license.KeySpec{Period: 30})
	locked := cl.Token(t, license.TokenSpec{ProductLock: cl.Product.ID, KeyLock: other.ID})
	wantResult(t, "RegisterEvent on a key the token is not locked to", cl.Post(t, "ai/RegisterEvent", servertest.Values("token", locked,
		"ProductId", pid, "Key", k.Key, "EventName", "x")), 1, "Access denied.")
	wantResult(t, "GetEvents without the locked key", cl.Post(t, "ai/GetEvents", servertest.Values("token", locked)), 1, "Access denied.")

	// Bad input changes nothing.
	for _, kv := range [][]string{
		{"ai/RegisterEvents", "Events", "not json", "Events must be a JSON array of events."},
		{"ai/RegisterEvents", "Events", "[]", "Between 1 and 100 events can be registered in one call."},
		{"ai/RegisterEvents", "Events", "[" + strings.Repeat(`{"EventName":"e"},`, 100) + `{"EventName":"e"}]`, "Between 1 and 100 events can be registered in one call."},
		{"ai/RegisterEvents", "Events", `[{"EventName":"ok"},{"EventName":"` + strings.Repeat("n", license.MaxEventNameLen+1) + `"}]`, "The input parameters were incorrect."},
		{"ai/RegisterEvents", "Events", `[{"EventName":"old","Time":1000}]`, "The input parameters were incorrect."},
		{"ai/RegisterEvent", "Value", "lots", "The input parameters were incorrect."},
		{"ai/RegisterEvent", "Currency", strings.Repeat("E", license.MaxCurrencyLen+1), "The input parameters were incorrect."},
		{"ai/GetEvents", "Limit", "1001", "The input parameters were incorrect."},
		{"ai/GetEvents", "Key", k.Key, "The input parameters were incorrect."}, // a key without its product
	} {
		wantResult(t, kv[0]+" "+kv[1], cl.Post(t, kv[0], servertest.Values("token", tok, kv[1], kv[2])), 1, kv[3])
	}
	if evs := cl.Post(t, "ai/GetEvents", servertest.Values("token", tok, "Limit", "100"))["events"].([]any); len(evs) != 4 {
		t.Fatalf("after refused calls: %d events, want 4", len(evs))
	}
}

// TestWebAPILog: every licensing call is logged for its vendor, the key only by its first block; ai/GetWebAPILog
// answers the fields of the SDKs' WebAPILog model.
func TestWebAPILog(t *testing.T) {
	cl := servertest.NewCLStack(t)
	tok := cl.Token(t, license.TokenSpec{})
	k := cl.NewKey(t, license.KeySpec{Period: 30, MaxNoOfMachines: 1})
	other := cl.NewKey(t, license.KeySpec{Period: 30})
	pid := fmt.Sprint(cl.Product.ID)
	cl.Post(t, "key/Activate", servertest.Values("token", tok, "ProductId", pid, "Key", k.Key, "MachineCode", "pc-1", "FriendlyName", "office"))
	cl.Post(t, "key/Activate", servertest.Values("token", tok, "ProductId", pid, "Key", k.Key, "MachineCode", "pc-2")) // over the limit
	cl.Post(t, "key/GetKey", servertest.Values("token", tok, "ProductId", pid, "Key", other.Key))
	cl.Post(t, "key/GetKey", servertest.Values("token", tok, "ProductId", pid, "Key", "NOSUCH-KEY"))
	paul := paulToken(t, cl)
	cl.Post(t, "key/GetKey", servertest.Values("token", paul, "ProductId", pid, "Key", k.Key)) // paul1234's, not found
	if err := cl.Calls.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	r := servertest.Do(t, "POST", cl.URL+"/api/ai/GetWebAPILog", servertest.Values("token", tok, "ProductId", pid, "Key", k.Key,
		"MachineCode", "", "FriendlyName", "", "Limit", "10", "StartingAfter", "0", "OrderBy", "", "EndingBefore", "0").Encode(),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if strings.Contains(r.Body, k.Key) {
		t.Fatalf("the web API log answers a whole key: %s", r.Body)
	}
	var got struct {
		Result int
		Logs   []map[string]any
	}
	if err := json.Unmarshal([]byte(r.Body), &got); err != nil || got.Result != 0 || len(got.Logs) != 2 {
		t.Fatalf("GetWebAPILog(key) = %s", r.Body)
	}
	first := got.Logs[0]
	for field, want := range map[string]any{"productId": float64(cl.Product.ID), "key": k.Key[:5] + "-…", "ip": "127.0.0.1",
		"time": float64(cl.Clock.Now().Unix()), "state": float64(license.StateOK), "machineCode": "pc-1", "friendlyName": "office",
		"floatingExpires": float64(0), "doIntValue": float64(0), "doId": float64(0), "method": "key/activate", "callResult": "ok"} {
		if first[field] != want {
			t.Errorf("log field %s = %v, want %v", field, first[field], want)
		}
	}
	if got.Logs[1]["state"] != float64(license.StateLimit) || got.Logs[1]["callResult"] != "limit" {
		t.Errorf("the refused activation is logged as %v", got.Logs[1])
	}
	all := cl.Post(t, "ai/GetWebAPILog", servertest.Values("token", tok, "OrderBy", "Id descending", "Limit", "100"))
	logs := all["logs"].([]any)
	if len(logs) != 4 || logs[0].(map[string]any)["callResult"] != "not_found" {
		t.Fatalf("GetWebAPILog(all, newest first) = %v; want simon0897's 4 calls", all)
	}
	// paul1234 sees only the call made with its own token, and nothing of simon0897's product.
	mine := cl.Post(t, "ai/GetWebAPILog", servertest.Values("token", paul))
	if logs := mine["logs"].([]any); len(logs) != 1 || logs[0].(map[string]any)["state"] != float64(license.StateNotFound) {
		t.Fatalf("paul1234's log = %v", mine)
	}
	wantResult(t, "GetWebAPILog on another vendor's product", cl.Post(t, "ai/GetWebAPILog", servertest.Values("token", paul,
		"ProductId", pid)), 1, "Could not find the product.")
	for _, kv := range [][]string{{"OrderBy", "Time", "OrderBy must be Id or Id descending."}, {"Limit", "-1", ""},
		{"EndingBefore", "soon", ""}, {"StartingAfter", "-3", ""}} {
		wantResult(t, "GetWebAPILog "+kv[0], cl.Post(t, "ai/GetWebAPILog", servertest.Values("token", tok, kv[0], kv[1])), 1, kv[2])
	}
}

// TestRecordUsage: subscription/RecordUsage adds to the key's metered usage; no payment provider is involved.
func TestRecordUsage(t *testing.T) {
	cl := servertest.NewCLStack(t)
	tok := cl.Token(t, license.TokenSpec{})
	k := cl.NewKey(t, license.KeySpec{Period: 30})
	pid := fmt.Sprint(cl.Product.ID)
	wantResult(t, "RecordUsage", cl.Post(t, "/subscription/RecordUsage/", servertest.Values("token", tok, "ProductId", pid, "Key", k.Key, "Amount", "5")), 0, "")
	got := cl.Post(t, "subscription/recordusage", servertest.Values("token", tok, "ProductId", pid, "Key", k.Key, "Amount", "2"))
	if got["result"] != float64(0) || got["total"] != float64(7) {
		t.Fatalf("RecordUsage = %v; want total 7", got)
	}
	wantResult(t, "RecordUsage by another vendor", cl.Post(t, "subscription/RecordUsage", servertest.Values("token", paulToken(t, cl),
		"ProductId", pid, "Key", k.Key, "Amount", "1")), 1, "Could not find the product.")
	otherKey := cl.NewKey(t, license.KeySpec{Period: 30})
	locked := cl.Token(t, license.TokenSpec{ProductLock: cl.Product.ID, KeyLock: otherKey.ID})
	wantResult(t, "RecordUsage on a key the token is not locked to", cl.Post(t, "subscription/RecordUsage", servertest.Values("token", locked,
		"ProductId", pid, "Key", k.Key, "Amount", "1")), 1, "Access denied.")
	for _, amount := range []string{"-1", "ten", "2147483648"} {
		wantResult(t, "RecordUsage Amount="+amount, cl.Post(t, "subscription/RecordUsage", servertest.Values("token", tok,
			"ProductId", pid, "Key", k.Key, "Amount", amount)), 1, "The input parameters were incorrect.")
	}
	wantResult(t, "RecordUsage without a key", cl.Post(t, "subscription/RecordUsage", servertest.Values("token", tok, "ProductId", pid, "Amount", "1")),
		1, "The input parameters were incorrect.")
	wantResult(t, "RecordUsage on no such key", cl.Post(t, "subscription/RecordUsage", servertest.Values("token", tok, "ProductId", pid,
		"Key", "NOPE", "Amount", "1")), 1, "Could not find the key.")
	if n, err := cl.Svc.KeyUsage(context.Background(), license.Admin(), cl.Product.ID, k.Key); n != 7 || err != nil {
		t.Fatalf("KeyUsage = %d, %v; want 7 (refused calls add nothing)", n, err)
	}
}

// TestPaymentFormNotSupported: paymentform/CreateSession answers a clear refusal in Cryptolens' envelope.
func TestPaymentFormNotSupported(t *testing.T) {
	cl := servertest.NewCLStack(t)
	tok := cl.Token(t, license.TokenSpec{})
	wantResult(t, "CreateSession", cl.Post(t, "paymentform/CreateSession/", servertest.Values("token", tok, "PaymentFormId", "1",
		"Price", "10", "Currency", "USD", "Heading", "Pro", "ProductName", "App", "Expires", "60")), 1, "Payment forms are not supported by this server.")
	wantResult(t, "CreateSession without a token", cl.Post(t, "paymentform/CreateSession", servertest.Values("PaymentFormId", "1")), 1,
		"Unable to authenticate.")
}

// TestLicensingCallMetrics: /metrics counts licensing calls by method and result.
func TestLicensingCallMetrics(t *testing.T) {
	cl := servertest.NewCLStack(t)
	tok := cl.Token(t, license.TokenSpec{})
	k := cl.NewKey(t, license.KeySpec{Period: 30})
	pid := fmt.Sprint(cl.Product.ID)
	cl.Post(t, "key/Activate", servertest.Values("token", tok, "ProductId", pid, "Key", k.Key, "MachineCode", "a"))
	cl.Post(t, "key/Activate", servertest.Values("token", tok, "ProductId", pid, "Key", k.Key, "MachineCode", "b"))
	cl.Post(t, "key/GetKey", servertest.Values("token", tok, "ProductId", pid, "Key", "NOPE"))
	cl.Post(t, "key/GetKey", servertest.Values("token", "bogus", "ProductId", pid, "Key", k.Key))
	cl.Post(t, "key/Activate", servertest.Values("token", tok, "ProductId", "x"))
	servertest.Do(t, "POST", cl.URL+"/api/no/such", "", nil)
	body := servertest.Do(t, "GET", cl.URL+"/metrics", "", nil).Body
	for _, want := range []string{
		`tokenmanager_licensing_calls_total{method="key/activate",result="ok"} 2`,
		`tokenmanager_licensing_calls_total{method="key/activate",result="bad_input"} 1`,
		`tokenmanager_licensing_calls_total{method="key/getkey",result="not_found"} 1`,
		`tokenmanager_licensing_calls_total{method="key/getkey",result="denied"} 1`,
		`tokenmanager_licensing_calls_total{method="other",result="no_such_method"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, `method="no/such"`) {
		t.Error("an unknown method became a label")
	}
}
