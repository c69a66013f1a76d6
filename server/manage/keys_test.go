package manage_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
)

func TestKeys(t *testing.T) {
	st := newStack(t)
	base := fmt.Sprintf("/products/%d/keys", st.Product.ID)
	r := call(t, st, "POST", base, `{"period":30,"features":[1,3],"notes":"for Ann","max_machines":2}`, simon)
	want(t, "create one", r, 201)
	k := r.JSON(t)
	key := k["key"].(string)
	if r.Header.Get("Location") != "/admin/v1"+base+"/"+key || r.Header.Get("ETag") == "" || k["notes"] != "for Ann" ||
		fmt.Sprint(k["features"]) != "[1 3]" || k["max_machines"] != float64(2) {
		t.Fatalf("create: %v %s", r.Header, r.Body)
	}
	r = call(t, st, "POST", base, `{"count":3,"period":10}`, simon)
	want(t, "create three", r, 201)
	if l, _ := items(t, r); len(l) != 3 {
		t.Fatalf("three keys: %s", r.Body)
	}
	for body, status := range map[string]int{
		`{"features":[9]}`:       400,
		`{"count":1001}`:         400,
		`{"period":-1}`:          400,
		`{"max_machines":-1}`:    400,
		`{"customer_id":424242}`: 404,
		`{"notes":"` + strings.Repeat("n", 20000) + `"}`: 400,
		`{"nope":1}`: 400,
		`[1]`:        400,
	} {
		want(t, "create "+body[:min(len(body), 30)], call(t, st, "POST", base, body, simon), status)
	}
	// A value out of range names its member, so that a form shows the problem beside that field.
	for body, field := range map[string]string{`{"max_machines":2000000}`: "max_machines", `{"max_machines":-1}`: "max_machines",
		`{"customer_id":-2}`: "customer_id", `{"count":1001}`: "count"} {
		r := call(t, st, "POST", base, body, simon)
		want(t, "create "+body, r, 400)
		if !strings.Contains(r.Body, `"field":"`+field+`"`) {
			t.Fatalf("create %s: %s", body, r.Body)
		}
	}

	// List: paged by id, filtered by prefix (any case) and by customer.
	var seen []string
	next := base + "?limit=3"
	for pages := 0; next != ""; pages++ {
		if pages > 2 {
			t.Fatal("paging does not end")
		}
		r := call(t, st, "GET", next, "", simon)
		want(t, "list", r, 200)
		var l []map[string]any
		l, next = items(t, r)
		for _, it := range l {
			seen = append(seen, it["key"].(string))
		}
	}
	if len(seen) != 4 || seen[0] != key {
		t.Fatalf("every key, paged: %v", seen)
	}
	if l, _ := items(t, call(t, st, "GET", base+"?key-prefix="+strings.ToLower(key[:11]), "", simon)); len(l) != 1 || l[0]["key"] != key {
		t.Fatalf("by prefix: %v", l)
	}
	if l, _ := items(t, call(t, st, "GET", base+"?customer=7", "", simon)); len(l) != 0 {
		t.Fatalf("by a customer with none: %v", l)
	}
	want(t, "bad customer filter", call(t, st, "GET", base+"?customer=x", "", simon), 400)
	want(t, "bad cursor", call(t, st, "GET", base+"?cursor=!!", "", simon), 400)

	// Show, then edit with If-Match.
	path := base + "/" + key
	r = call(t, st, "GET", path, "", simon)
	want(t, "show", r, 200)
	etag := r.Header.Get("ETag")
	if r.JSON(t)["activations"] == nil {
		t.Fatalf("show without activations: %s", r.Body)
	}
	want(t, "show a missing key", call(t, st, "GET", base+"/AAAAA-AAAAA-AAAAA-AAAAA", "", simon), 404)
	want(t, "edit without If-Match", call(t, st, "PATCH", path, `{"notes":"x"}`, simon), 428)
	want(t, "edit with a stale ETag", call(t, st, "PATCH", path, `{"notes":"x"}`, simon, "If-Match", `"old"`), 412)
	want(t, "edit bad features", call(t, st, "PATCH", path, `{"features":[0]}`, simon, "If-Match", etag), 400)
	want(t, "edit bad max machines", call(t, st, "PATCH", path, `{"max_machines":-2}`, simon, "If-Match", etag), 400)
	want(t, "edit to a missing customer", call(t, st, "PATCH", path, `{"customer_id":99}`, simon, "If-Match", etag), 404)
	r = call(t, st, "PATCH", path, `{"features":[2],"notes":"for Bob","max_machines":5,"blocked":true}`, simon, "If-Match", etag)
	want(t, "edit", r, 200)
	if m := r.JSON(t); fmt.Sprint(m["features"]) != "[2]" || m["notes"] != "for Bob" || m["max_machines"] != float64(5) || m["blocked"] != true {
		t.Fatalf("edited: %s", r.Body)
	}
	if r.Header.Get("ETag") == etag {
		t.Fatal("the ETag did not change with the key")
	}
	want(t, "edit over the edit", call(t, st, "PATCH", path, `{"blocked":false}`, simon, "If-Match", etag), 412)
	if stored, _ := st.Store.GetLicenseKey(t.Context(), st.Product.ID, key); !stored.Blocked || stored.Notes != "for Bob" {
		t.Fatalf("a refused edit changed the key: %+v", stored)
	}

	// Extend.
	before := r.JSON(t)["expires_at"].(string)
	for _, body := range []string{`{"days":0}`, `{"days":-3}`, `{"days":"x"}`, `{}`} {
		want(t, "extend "+body, call(t, st, "POST", path+"/extend", body, simon), 400)
	}
	r = call(t, st, "POST", path+"/extend", `{"days":5}`, simon)
	want(t, "extend", r, 200)
	if after := r.JSON(t)["expires_at"].(string); after <= before {
		t.Fatalf("extended from %s to %s", before, after)
	}

	// Activations: an app activates; the vendor sees it and frees the seat.
	call(t, st, "PATCH", path, `{"blocked":false}`, simon, "If-Match", "*")
	if _, err := st.Svc.Activate(t.Context(), license.Admin(), license.ActivateRequest{ProductID: st.Product.ID, Key: key, MachineCode: "machine-1"}); err != nil {
		t.Fatal(err)
	}
	r = call(t, st, "GET", path+"/activations", "", simon)
	want(t, "activations", r, 200)
	if l, _ := items(t, r); len(l) != 1 || l[0]["machine_code"] != "machine-1" {
		t.Fatalf("activations: %s", r.Body)
	}
	want(t, "free a seat floating=maybe", call(t, st, "DELETE", path+"/activations/machine-1?floating=maybe", "", simon), 400)
	want(t, "free a seat no one has", call(t, st, "DELETE", path+"/activations/machine-2", "", simon), 404)
	want(t, "free a seat", call(t, st, "DELETE", path+"/activations/machine-1", "", simon), 204)
	if l, _ := items(t, call(t, st, "GET", path+"/activations", "", simon)); len(l) != 0 {
		t.Fatalf("activations after freeing: %v", l)
	}

	// Delete: refused while a machine is activated; forced, the activations go with the key.
	if _, err := st.Svc.Activate(t.Context(), license.Admin(), license.ActivateRequest{ProductID: st.Product.ID, Key: key, MachineCode: "machine-3"}); err != nil {
		t.Fatal(err)
	}
	r = call(t, st, "DELETE", path, "", simon)
	want(t, "delete an activated key", r, 409)
	if !strings.Contains(r.Body, "1 activation") {
		t.Fatalf("the refusal does not say why: %s", r.Body)
	}
	want(t, "delete, bad force", call(t, st, "DELETE", path+"?force=please", "", simon), 400)
	r = call(t, st, "DELETE", path+"?force=true", "", simon)
	want(t, "forced delete", r, 200)
	if r.JSON(t)["activations"] != float64(1) {
		t.Fatalf("forced delete: %s", r.Body)
	}
	want(t, "show a deleted key", call(t, st, "GET", path, "", simon), 404)
	want(t, "delete it again", call(t, st, "DELETE", path, "", simon), 404)
	if l, _ := items(t, call(t, st, "GET", base, "", simon)); len(l) != 3 {
		t.Fatalf("keys after one was deleted: %v", l)
	}

	// The core audited every change with the acting account.
	var actions []string
	for _, e := range st.AuditLog(t) {
		if strings.HasPrefix(e.Action, "license.key.") || strings.HasPrefix(e.Action, "license.activation.remove") {
			if e.Actor != "simon0897" && e.Action != "license.key.create" {
				t.Errorf("%s by %q", e.Action, e.Actor)
			}
			if strings.Contains(e.Detail, key) {
				t.Errorf("%s names the whole key: %s", e.Action, e.Detail)
			}
			actions = append(actions, e.Action)
		}
	}
	for _, a := range []string{"license.key.changenotes", "license.key.blockkey", "license.key.extendlicense", "license.activation.remove", "license.key.delete"} {
		if !strings.Contains(strings.Join(actions, " "), a) {
			t.Errorf("no %s in %v", a, actions)
		}
	}
}

// TestKeyEditAtomic: a PATCH is one transaction with If-Match checked inside it; it sets the expiry too.
func TestKeyEditAtomic(t *testing.T) {
	st := newStack(t)
	k := st.NewKey(t, license.KeySpec{Period: 30})
	path := fmt.Sprintf("/products/%d/keys/%s", st.Product.ID, k.Key)
	etag := call(t, st, "GET", path, "", simon).Header.Get("ETag")

	for body, field := range map[string]string{
		`{"expires":"tomorrow"}`:              "expires",
		`{"expires":"10000-01-01T00:00:00Z"}`: "expires",
		`{"expires":"9999-12-31T23:59:60Z"}`:  "expires",
		`{"expires":"1969-12-31T23:59:59Z"}`:  "expires",
		`{"features":[9]}`:                    "features",
		`{"max_machines":-1}`:                 "max_machines",
		`{"customer_id":-5}`:                  "customer_id",
	} {
		r := call(t, st, "PATCH", path, body, simon, "If-Match", etag)
		want(t, "edit "+body, r, 400)
		if r.JSON(t)["field"] != field {
			t.Errorf("edit %s: the problem does not name %s: %s", body, field, r.Body)
		}
	}
	// A refusal in the middle of the body writes nothing of it.
	want(t, "edit with too long notes", call(t, st, "PATCH", path, `{"blocked":true,"notes":"`+strings.Repeat("n", 600)+`"}`,
		simon, "If-Match", etag), 400)
	if stored := mustKey(t, st, k.Key); stored != k {
		t.Fatalf("a refused edit changed the key: %+v", stored)
	}

	r := call(t, st, "PATCH", path, `{"expires":"9999-12-31T23:59:59Z","notes":"forever"}`, simon, "If-Match", etag)
	want(t, "edit the expiry", r, 200)
	if m := r.JSON(t); m["expires_at"] != "9999-12-31T23:59:59Z" || m["notes"] != "forever" {
		t.Fatalf("edited: %s", r.Body)
	}
	r = call(t, st, "PATCH", path, `{"expires":"2030-01-02T03:04:05+02:00"}`, simon, "If-Match", r.Header.Get("ETag"))
	want(t, "edit the expiry in another zone", r, 200)
	if got := mustKey(t, st, k.Key).ExpiresAt; !got.Equal(time.Date(2030, 1, 2, 1, 4, 5, 0, time.UTC)) {
		t.Fatalf("expiry stored: %v", got)
	}

	// Two PATCHes with the same ETag, at once: exactly one is made, the other answers 412.
	for round := range 4 {
		etag := call(t, st, "GET", path, "", simon).Header.Get("ETag")
		statuses := make([]int, 2)
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := fmt.Sprintf(`{"notes":"round %d writer %d","max_machines":%d}`, round, i, i+1)
				statuses[i] = call(t, st, "PATCH", path, body, simon, "If-Match", etag).Status
			}()
		}
		wg.Wait()
		slices.Sort(statuses)
		if statuses[0] != 200 || statuses[1] != 412 {
			t.Fatalf("round %d: %v, want one 200 and one 412", round, statuses)
		}
	}
	var setexpiry int
	for _, e := range st.AuditLog(t) {
		if e.Action == "license.key.setexpiry" {
			setexpiry++
		}
	}
	if setexpiry != 2 {
		t.Errorf("%d license.key.setexpiry events, want 2", setexpiry)
	}
}

// TestKeyActivationsPaged: a key's activations, one a page, each once, in the order of their machine codes
// whatever order they were made in.
func TestKeyActivationsPaged(t *testing.T) {
	st := newStack(t)
	k := st.NewKey(t, license.KeySpec{Period: 30, MaxNoOfMachines: 5})
	for _, m := range []string{"m-c", "m-a", "m-d", "m-b"} {
		if _, err := st.Svc.Activate(t.Context(), license.Admin(), license.ActivateRequest{ProductID: st.Product.ID, Key: k.Key, MachineCode: m}); err != nil {
			t.Fatal(err)
		}
		st.Clock.Add(time.Minute) // the store answers them by activation time
	}
	var seen []string
	next := fmt.Sprintf("/products/%d/keys/%s/activations?limit=1", st.Product.ID, k.Key)
	for pages := 0; next != ""; pages++ {
		if pages > 4 {
			t.Fatal("paging does not end")
		}
		r := call(t, st, "GET", next, "", simon)
		want(t, "activations", r, 200)
		var l []map[string]any
		l, next = items(t, r)
		for _, it := range l {
			seen = append(seen, it["machine_code"].(string))
		}
	}
	if got := strings.Join(seen, " "); got != "m-a m-b m-c m-d" {
		t.Fatalf("activations paged: %s", got)
	}
}
