package e2e

import (
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestManagementAPICustomersExample runs the customers and API token session of docs/management-api.md, as it
// stands, against a real server; then the CLI sees what it made, and the token it answered works on /api/.
func TestManagementAPICustomersExample(t *testing.T) {
	srv := startServer(t)
	got := runDocBlock(t, srv, "docs/management-api.md", "management-api-customers-example", "")
	for _, want := range []string{`"vendor":"bob","name":"Carol","email":"carol@example.com"`, `"company":"Example Ltd"`,
		`"has_secret":true`, `"secret":"`, `"methods":["Activate","GetKey"]`, `{"keys":0,"end_users":0,"devices":0}`} {
		if !strings.Contains(got, want) {
			t.Errorf("the example's output lacks %s:\n%s", want, got)
		}
	}
	if list := srv.mustCLI(t, "", "customer", "list", "--vendor", "bob"); strings.Contains(list, "Carol") {
		t.Errorf("the deleted customer is still listed:\n%s", list)
	}
	if list := srv.mustCLI(t, "", "apitoken", "list", "--vendor", "bob"); !strings.Contains(list, "desktop app") {
		t.Errorf("the API token is not listed:\n%s", list)
	}
	// The token answered works on the Cryptolens-compatible API: GetKey is allowed (an unknown product is
	// refused as such), CreateKey is not.
	tok := regexp.MustCompile(`"token":"([^"]+)"`).FindStringSubmatch(got)
	if tok == nil {
		t.Fatalf("no token in the example's output:\n%s", got)
	}
	for method, want := range map[string]string{"GetKey": "Could not find the product.", "CreateKey": "Access denied."} {
		res, err := httpClient.PostForm(srv.URL+"/api/key/"+method, url.Values{"token": {tok[1]}, "ProductId": {"999"}, "Key": {"AAAAA-AAAAA-AAAAA-AAAAA"}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
		res.Body.Close()
		if !strings.Contains(string(b), want) {
			t.Errorf("%s with the token: %s, want %q", method, b, want)
		}
	}
}
