package cryptolens_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// TestLicenseActivationsAreAudited: activations and deactivations, granted or refused, reach the audit log,
// naming the key only by its first block.
func TestLicenseActivationsAreAudited(t *testing.T) {
	cl := servertest.NewCLStack(t)
	k := cl.NewKey(t, license.KeySpec{Period: 30, MaxNoOfMachines: 1})
	tok := cl.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodActivate, license.MethodDeactivate}})
	cl.Post(t, "key/Activate", cl.Form(tok, cl.Product.ID, k.Key, "MachineCode", "machine-A"))
	cl.Post(t, "key/Activate", cl.Form(tok, cl.Product.ID, k.Key, "MachineCode", "machine-B")) // over the limit
	cl.Post(t, "key/Deactivate", cl.Form(tok, cl.Product.ID, k.Key, "MachineCode", "machine-A"))

	var got []string
	for _, e := range cl.AuditLog(t) {
		if e.Action == "license.activate" || e.Action == "license.deactivate" {
			got = append([]string{e.Action + " " + e.Outcome + " " + e.Actor}, got...)
			if strings.Contains(e.Detail, k.Key) || !strings.Contains(e.Detail, k.Key[:5]+"-…") {
				t.Errorf("detail %q: want the key's first block only", e.Detail)
			}
		}
	}
	want := []string{
		"license.activate ok simon0897",
		"license.activate refused: license: machine limit reached simon0897",
		"license.deactivate ok simon0897",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("license audit events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestAdminFreesALicenseSeat: an administrator lists a key's machines and removes one; the seat is free again.
func TestAdminFreesALicenseSeat(t *testing.T) {
	cl := servertest.NewCLStack(t, servertest.WithAdmin(t))
	k := cl.NewKey(t, license.KeySpec{Period: 30, MaxNoOfMachines: 1})
	tok := cl.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodActivate}})
	cl.Post(t, "key/Activate", cl.Form(tok, cl.Product.ID, k.Key, "MachineCode", "old-laptop"))
	if m := cl.Post(t, "key/Activate", cl.Form(tok, cl.Product.ID, k.Key, "MachineCode", "new-laptop")); m["result"] != float64(1) {
		t.Fatalf("the second machine was admitted over the limit: %v", m)
	}
	q := fmt.Sprintf("?product=%d&key=%s", cl.Product.ID, k.Key)
	var list struct {
		Activations []struct {
			MachineCode string `json:"machine_code"`
		} `json:"items"`
	}
	r := cl.AdminCall(t, "GET", "/license/activations"+q, servertest.RootBasic)
	if r.Status != 200 || json.Unmarshal([]byte(r.Body), &list) != nil || len(list.Activations) != 1 || list.Activations[0].MachineCode != "old-laptop" {
		t.Fatalf("activations: %d %s", r.Status, r.Body)
	}
	if r := cl.AdminCall(t, "DELETE", "/license/activations"+q+"&machine=old-laptop", servertest.RootBasic); r.Status != 204 {
		t.Fatalf("remove: %d %s", r.Status, r.Body)
	}
	if r := cl.AdminCall(t, "DELETE", "/license/activations"+q+"&machine=old-laptop", servertest.RootBasic); r.Status != 404 {
		t.Fatalf("remove again: %d", r.Status)
	}
	if m := cl.Post(t, "key/Activate", cl.Form(tok, cl.Product.ID, k.Key, "MachineCode", "new-laptop")); m["result"] != float64(0) {
		t.Fatalf("the freed seat was not given to the new machine: %v", m)
	}
	if r := cl.AdminCall(t, "GET", "/license/activations?product=x", servertest.RootBasic); r.Status != 400 {
		t.Fatalf("bad query: %d", r.Status)
	}
}

// TestCryptolensDoubleSlash: Cryptolens' Python client posts UnblockKey to /api//key/UnblockKey; it is served,
// not redirected.
func TestCryptolensDoubleSlash(t *testing.T) {
	cl := servertest.NewCLStack(t)
	k := cl.NewKey(t, license.KeySpec{Period: 30, Blocked: true})
	tok := cl.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodUnblockKey}})
	r := servertest.Send(t, "POST", cl.URL+"/api//key/UnblockKey", cl.Form(tok, cl.Product.ID, k.Key).Encode(), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if r.Status != 200 || !strings.Contains(r.Body, `"result":0`) {
		t.Fatalf("POST /api//key/UnblockKey: %d %s", r.Status, r.Body)
	}
}
