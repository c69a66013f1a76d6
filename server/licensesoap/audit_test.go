package licensesoap_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// TestLicenseSOAPChangesAreAudited: the licensing changes made over SOAP are audit events, as over the
// Cryptolens API, with the caller's address and the key by its first block only.
func TestLicenseSOAPChangesAreAudited(t *testing.T) {
	l := servertest.NewLicStack(t)
	vendor := servertest.Basic("simon0897", "s3cret")
	pid := "<productId>" + strconv.FormatInt(l.Prod.ID, 10) + "</productId>"
	key := servertest.LicText(l.OK(t, vendor, "createKey", pid+`<period>30</period><maxNoOfMachines>1</maxNoOfMachines>`), "return/key")
	keyEl := "<key>" + key + "</key>"
	l.OK(t, vendor, "activate", pid+keyEl+`<machineCode>m-1</machineCode>`)
	l.Fault(t, vendor, "activate", pid+keyEl+`<machineCode>m-2</machineCode>`, 500, "Cannot activate the new device as the limit has been reached.")
	l.OK(t, vendor, "deactivate", pid+keyEl+`<machineCode>m-1</machineCode>`)
	l.OK(t, vendor, "blockKey", pid+keyEl)
	l.OK(t, vendor, "unblockKey", pid+keyEl)
	l.OK(t, vendor, "extendLicense", pid+keyEl+`<noOfDays>10</noOfDays>`)

	var got []string
	for _, e := range l.AuditLog(t) {
		if !strings.HasPrefix(e.Action, "license.") || e.ClientHost == "" {
			continue // the stack's own setup, made without a client
		}
		got = append([]string{e.Action + " " + e.Outcome + " " + e.Actor}, got...)
		if e.ClientHost != "127.0.0.1" || strings.Contains(e.Detail, key) || !strings.Contains(e.Detail, key[:5]+"-…") {
			t.Errorf("%s: client %q, detail %q", e.Action, e.ClientHost, e.Detail)
		}
	}
	want := []string{
		"license.key.create ok simon0897",
		"license.activate ok simon0897",
		"license.activate refused: license: machine limit reached simon0897",
		"license.deactivate ok simon0897",
		"license.key.blockkey ok simon0897",
		"license.key.unblockkey ok simon0897",
		"license.key.extendlicense ok simon0897",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
