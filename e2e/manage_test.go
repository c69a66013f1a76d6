package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestManagementAPIExample runs the curl session of docs/management-api.md, as it stands,
// against a real server: the admin API token made by the CLI, a create, an edit with If-Match (and the stale
// edit refused with 412), paging to the end, a vendor and a product. Then the CLI lists and revokes the token,
// and the server refuses it.
func TestManagementAPIExample(t *testing.T) {
	srv := startServer(t)
	got := runDocBlock(t, srv, "docs/management-api.md", "management-api-example", "")
	for _, want := range []string{`"role":"operator"`, `"name":"alice","admin":false`, `"name":"alice","admin":true`, "\n412\n",
		`"items":[{"name":"admin"`, `"name":"Photo Editor"`, `"expires_at":"2030-12-31T23:59:59Z"`, `"notes":"renewed"`,
		`: features 1,3, max machines 0, customer -, expires 2030-12-31T23:59:59Z, blocked true, notes "renewed"`,
		"deleted with 0 activation(s)"} {
		if !strings.Contains(got, want) {
			t.Errorf("the example's output lacks %s:\n%s", want, got)
		}
	}
	if pages := strings.Count(got, `"items":[`); pages != 2 { // admin, then alice: one user a page
		t.Errorf("%d pages of users, want 2:\n%s", pages, got)
	}

	list := srv.mustCLI(t, "", "admintoken", "list", "--user", "admin")
	fields := strings.Fields(strings.Split(strings.TrimSpace(list), "\n")[1])
	if len(fields) < 6 || fields[1] != "admin" || fields[2] != "ci" || fields[5] != "live" {
		t.Fatalf("admintoken list:\n%s", list)
	}
	// Token key rotation over the API, on the server's own ring; the CLI lists the new primary key.
	rw := strings.TrimSpace(srv.mustCLI(t, "", "admintoken", "create", "admin", "--ttl", "1h"))
	req, _ := http.NewRequest("POST", srv.URL+"/admin/v1/token-keys", nil)
	req.Header.Set("Authorization", "Bearer "+rw)
	resp, err := httpClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("rotate over the API: %v %v", resp, err)
	}
	resp.Body.Close()
	if keys := srv.mustCLI(t, "", "tokenkey", "list"); !strings.Contains(strings.Join(strings.Fields(keys), " "), "original verify") || strings.Count(keys, "primary") != 1 {
		t.Fatalf("token keys after a rotation over the API:\n%s", keys)
	}
	tok := strings.TrimSpace(srv.mustCLI(t, "", "admintoken", "create", "admin", "--read-only"))
	if r := get(t, srv.URL+"/admin/v1/me", "", "", tok, nil); r.Status != 200 || !strings.Contains(string(r.Body), `"read_only":true`) {
		t.Fatalf("a read-only token: %s", r)
	}
	id := strings.Fields(strings.Split(strings.TrimSpace(srv.mustCLI(t, "", "admintoken", "list")), "\n")[1])[0]
	srv.mustCLI(t, "", "admintoken", "revoke", id)
	if r := get(t, srv.URL+"/admin/v1/me", "", "", tok, nil); r.Status != 401 {
		t.Fatalf("a revoked token: %s", r)
	}
	// The CLI's delete goes through the same core: alice is a vendor now, so refused.
	if _, err := srv.cli(t, "", "user", "delete", "alice", "--yes"); err == nil || !strings.Contains(err.Error(), "is a vendor") {
		t.Fatalf("user delete of a vendor: %v", err)
	}
	if out := srv.mustCLI(t, "", "product", "delete", "1"); !strings.Contains(out, "product 1 deleted with 0 key(s)") {
		t.Fatalf("product delete: %q", out)
	}
}
