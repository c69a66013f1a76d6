package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestUserAccountsListLicenses: against the built binary, a vendor adds a customer over the Cryptolens API, gives
// it a key, registers a user account for it; the user signs in with userauth/Login and gets that key, and the
// customer secret reaches the same list. A new password by reset token replaces the old one.
func TestUserAccountsListLicenses(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.mustCLI(t, "", "vendor", "add", adminUser)
	product := createdID(t, srv.mustCLI(t, "", "product", "add", "Desktop App", "--vendor", adminUser), "product")
	admin := strings.TrimSpace(srv.mustCLI(t, "", "apitoken", "create", "--vendor", adminUser, "--name", "shop",
		"--methods", "AddCustomer,GetCustomerLicensesBySecret,UserAuthAdmin"))
	app := strings.TrimSpace(srv.mustCLI(t, "", "apitoken", "create", "--vendor", adminUser, "--name", "app",
		"--methods", "UserAuthNormal", "--product-lock", product))

	call := func(method string, form url.Values) map[string]any {
		t.Helper()
		resp, err := http.PostForm(srv.URL+"/api/"+method, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: HTTP %d, %v", method, resp.StatusCode, err)
		}
		return m
	}
	ok := func(what string, m map[string]any) map[string]any {
		t.Helper()
		if m["result"] != float64(0) {
			t.Fatalf("%s: %v", what, m)
		}
		return m
	}
	added := ok("AddCustomer", call("customer/AddCustomer", url.Values{"token": {admin}, "Name": {"Carol"}, "Email": {"carol@example.com"}}))
	customer := jsonNumber(added["customerId"])
	key := strings.TrimSpace(srv.mustCLI(t, "", "key", "create", "--product", product, "--period", "30", "--customer", customer))
	ok("Register", call("userauth/Register", url.Values{"token": {admin}, "UserName": {"carol"}, "Password": {"correct-horse"},
		"CustomerId": {customer}}))

	keysOf := func(m map[string]any) []string {
		t.Helper()
		ok("licenses", m)
		var out []string
		for _, k := range m["licenseKeys"].([]any) {
			out = append(out, k.(map[string]any)["key"].(string))
		}
		return out
	}
	if got := keysOf(call("userauth/Login", url.Values{"token": {app}, "UserName": {"Carol"}, "Password": {"correct-horse"}})); len(got) != 1 || got[0] != key {
		t.Fatalf("Login listed %v, want [%s]", got, key)
	}
	if got := keysOf(call("customer/GetCustomerLicensesBySecret", url.Values{"token": {admin}, "Secret": {added["secret"].(string)}})); len(got) != 1 || got[0] != key {
		t.Fatalf("GetCustomerLicensesBySecret listed %v", got)
	}
	reset := ok("ResetPasswordToken", call("userauth/ResetPasswordToken", url.Values{"token": {admin}, "UserName": {"carol"}}))
	ok("ChangePassword", call("userauth/ChangePassword", url.Values{"token": {app}, "UserName": {"carol"}, "NewPassword": {"battery-staple"},
		"PasswordResetToken": {reset["passwordResetToken"].(string)}}))
	if m := call("userauth/Login", url.Values{"token": {app}, "UserName": {"carol"}, "Password": {"correct-horse"}}); m["message"] != "Unable to authenticate user." {
		t.Fatalf("Login with the old password: %v", m)
	}
	ok("Login with the new password", call("userauth/Login", url.Values{"token": {app}, "UserName": {"carol"}, "Password": {"battery-staple"}}))
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
