package server_test

import (
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/license"
)

// TestLicenseActivationsAreAudited: activations and deactivations, granted or refused, reach the audit log,
// naming the key only by its first block.
func TestLicenseActivationsAreAudited(t *testing.T) {
	cl := newCLStack(t)
	k := cl.newKey(t, license.KeySpec{Period: 30, MaxNoOfMachines: 1})
	tok := cl.token(t, license.TokenSpec{Methods: []license.Method{license.MethodActivate, license.MethodDeactivate}})
	cl.post(t, "key/Activate", cl.form(tok, cl.product.ID, k.Key, "MachineCode", "machine-A"))
	cl.post(t, "key/Activate", cl.form(tok, cl.product.ID, k.Key, "MachineCode", "machine-B")) // over the limit
	cl.post(t, "key/Deactivate", cl.form(tok, cl.product.ID, k.Key, "MachineCode", "machine-A"))

	var got []string
	for _, e := range cl.auditLog(t) {
		if strings.HasPrefix(e.Action, "license.") {
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
