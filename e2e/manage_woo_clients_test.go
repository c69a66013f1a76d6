package e2e

import (
	"strings"
	"testing"
)

// TestManagementAPIWooClientsExample runs the WooCommerce stores and API clients block of
// docs/management-api.md, as it stands, against a real server: a vendor account with a product, an operator's
// admin API token.
func TestManagementAPIWooClientsExample(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.mustCLI(t, "acme-password-1\n", "user", "add", "acme", "--password-stdin")
	srv.mustCLI(t, "", "vendor", "add", "acme")
	if out := srv.mustCLI(t, "", "product", "add", "Editor", "--vendor", "acme"); !strings.Contains(out, "1") {
		t.Fatalf("product add: %q", out)
	}
	tok := strings.TrimSpace(srv.mustCLI(t, "", "admintoken", "create", adminUser, "--ttl", "1h"))
	got := runDocBlock(t, srv, "docs/management-api.md", "management-api-woo-clients-example", "", "AUTH=Authorization: Bearer "+tok,
		"VENDOR_AUTH=Authorization: Basic YWNtZTphY21lLXBhc3N3b3JkLTE=") // acme:acme-password-1
	for _, want := range []string{`"vendor":"acme","name":"Acme shop"`, `"code":"`, `"require_token":true`, `{"sku":"ED-PRO","product":1,"desktop":false}`,
		`{"skus":0}`, `"primary_key":"`, `"scopes":["Partner","Reports"]`, `"slot":"primary","key":"`} {
		if !strings.Contains(got, want) {
			t.Errorf("the example's output lacks %s:\n%s", want, got)
		}
	}
	if list := srv.mustCLI(t, "", "client", "list"); strings.Contains(list, "billing") {
		t.Fatalf("the deleted client is listed:\n%s", list)
	}
	// client edit, through the core the PATCH calls: only the flags given change.
	srv.mustCLI(t, "", "client", "add", "reports", "--scope", "Reports", "--description", "kept")
	out2 := srv.mustCLI(t, "", "client", "edit", "reports", "--scope", "Reports Partner", "--token-lifetime", "10m")
	norm := strings.Join(strings.Fields(out2), " ")
	for _, want := range []string{"scopes: Reports Partner", "token_lifetime: 10m0s", "description: kept"} {
		if !strings.Contains(norm, want) {
			t.Errorf("client edit printed %q, lacking %q", out2, want)
		}
	}
	if _, err := srv.cli(t, "", "client", "edit", "reports", "--token-lifetime", "48h"); err == nil {
		t.Error("client edit took a 48h token lifetime")
	}
}
