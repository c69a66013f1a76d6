package e2e

import (
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestLicensingActivity: against the built binary, a vendor set up with the CLI posts and reads messages,
// registers events, records usage and reads back the web API log, where its calls appear with the key's first
// block only; the audit log (read with the CLI) holds the CLI's and the API's licensing changes; /metrics counts
// the calls by method and result.
func TestLicensingActivity(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--license-log-retention", "48h", "--license-log-max-rows", "1000")
	srv.mustCLI(t, "", "vendor", "add", adminUser)
	product := createdID(t, srv.mustCLI(t, "", "product", "add", "Desktop App", "--vendor", adminUser), "product")
	key := strings.TrimSpace(srv.mustCLI(t, "", "key", "create", "--product", product, "--period", "30", "--max-machines", "1"))
	token := strings.TrimSpace(srv.mustCLI(t, "", "apitoken", "create", "--vendor", adminUser, "--name", "activity", "--methods",
		"Activate,BlockKey,GetMessages,CreateMessage,RemoveMessage,RegisterEvent,GetEvents,GetWebAPILog,RecordUsage"))
	call := func(method string, kv ...string) map[string]any {
		t.Helper()
		form := url.Values{"token": {token}}
		for i := 0; i+1 < len(kv); i += 2 {
			form.Set(kv[i], kv[i+1])
		}
		res, err := httpClient.PostForm(srv.URL+"/api/"+method, form)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: HTTP %d %s", method, res.StatusCode, body)
		}
		if strings.Contains(string(body), key) && method == "ai/GetWebAPILog" {
			t.Fatalf("the web API log answers a whole key: %s", body)
		}
		return m
	}
	ok := func(method string, m map[string]any) {
		t.Helper()
		if m["result"] != float64(0) {
			t.Fatalf("%s: %v", method, m)
		}
	}
	ok("Activate", call("key/Activate", "ProductId", product, "Key", key, "MachineCode", "pc-1"))
	ok("CreateMessage", call("message/CreateMessage", "Channel", "stable", "Content", "Version 2 is out"))
	if msgs := call("message/GetMessages", "Channel", "stable")["messages"].([]any); len(msgs) != 1 {
		t.Fatalf("GetMessages = %v", msgs)
	}
	ok("RegisterEvent", call("ai/RegisterEvent", "ProductId", product, "Key", key, "FeatureName", "export", "EventName", "start", "Value", "2"))
	if evs := call("ai/GetEvents", "ProductId", product)["events"].([]any); len(evs) != 1 || evs[0].(map[string]any)["key"] != key {
		t.Fatalf("GetEvents = %v", evs)
	}
	if m := call("subscription/RecordUsage", "ProductId", product, "Key", key, "Amount", "3"); m["total"] != float64(3) {
		t.Fatalf("RecordUsage = %v", m)
	}
	ok("BlockKey", call("key/BlockKey", "ProductId", product, "Key", key))

	// The log is written in batches: poll briefly for the calls above.
	var logs []any
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if logs = call("ai/GetWebAPILog", "ProductId", product, "Key", key)["logs"].([]any); len(logs) >= 4 {
			break
		}
	}
	// The polls themselves are logged too, after the calls above.
	var methods []string
	for _, l := range logs[:min(4, len(logs))] {
		e := l.(map[string]any)
		methods = append(methods, e["method"].(string))
		if e["key"] != key[:5]+"-…" {
			t.Errorf("log entry key %v", e["key"])
		}
	}
	if strings.Join(methods, " ") != "key/activate ai/registerevent subscription/recordusage key/blockkey" {
		t.Fatalf("web API log of the key: %v", methods)
	}

	audit := srv.mustCLI(t, "", "audit", "--action", "license.", "--limit", "50")
	for _, want := range []string{"license.vendor.add", "license.product.create", "license.key.create", "license.token.create",
		"license.activate", "license.message.create", "license.usage.record", "license.key.blockkey"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit log lacks %s:\n%s", want, audit)
		}
	}
	if strings.Contains(audit, key) {
		t.Errorf("the audit log holds a whole key:\n%s", audit)
	}
	res, err := httpClient.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(metrics), `tokenmanager_licensing_calls_total{method="key/activate",result="ok"} 1`) {
		t.Errorf("/metrics does not count the activation")
	}
}
