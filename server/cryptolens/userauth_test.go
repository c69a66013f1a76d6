package cryptolens_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// userAuthTokens: simon0897's UserAuthAdmin and UserAuthNormal tokens, and paul1234's UserAuthAdmin token.
func userAuthTokens(t *testing.T, cl *servertest.CLStack) (admin, normal, paul string) {
	t.Helper()
	admin = cl.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodUserAuthAdmin}})
	normal = cl.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodUserAuthNormal}})
	issued, err := cl.Svc.CreateAPIToken(context.Background(), "paul1234", license.TokenSpec{Methods: []license.Method{license.MethodUserAuthAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	return admin, normal, issued.Token
}

func TestUserAuthFlow(t *testing.T) {
	cl := servertest.NewCLStack(t)
	ctx := context.Background()
	admin, normal, _ := userAuthTokens(t, cl)
	cust, err := cl.Svc.AddCustomer(ctx, mustVendorAccess(t, cl, "simon0897"), license.CustomerSettings{CustomerSpec: license.CustomerSpec{Name: "Carol"}})
	if err != nil {
		t.Fatal(err)
	}
	k := cl.NewKey(t, license.KeySpec{Period: 30, CustomerID: cust.Customer.ID})

	// Register as .NET sends it (RegisterUserModel), the customer by its secret; and as Python sends it.
	servertest.MustOK(t, "Register (.NET)", cl.Post(t, "userauth/register/", dotnetForm(admin, 1, "UserName", "carol", "Password", "verysecurepassword",
		"CustomerId", "0", "CustomerSecret", cust.Secret, "Email", "carol@example.com")))
	servertest.MustOK(t, "Register (Python)", cl.Post(t, "userauth/Register/", pyForm(admin, "username", "dave", "password", "pw", "email", "",
		"customerid", "0")))
	servertest.MustFail(t, "Register a taken name", cl.Post(t, "userauth/Register/", pyForm(admin, "username", "Carol", "password", "x")),
		"Username already exists. Please pick a different one.")
	u, err := cl.Store.GetEndUser(ctx, "simon0897", "carol")
	if err != nil || u.CustomerID != cust.Customer.ID || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Fatalf("stored user %+v, %v", u, err)
	}
	if _, err := cl.Store.GetUser(ctx, "carol"); err == nil {
		t.Fatal("an end user became an operator user")
	}

	// Login (both permissions may) answers the customer's keys in the form LicenseKey reads.
	login := func(token, name, pass string) map[string]any {
		return cl.Post(t, "userauth/login/", dotnetForm(token, 1, "UserName", name, "Password", pass))
	}
	for _, tok := range []string{admin, normal} {
		keys := licenseKeysOf(t, login(tok, "carol", "verysecurepassword"))
		if len(keys) != 1 || keys[0].Key != k.Key || keys[0].Customer == nil || keys[0].Customer.ID != cust.Customer.ID {
			t.Fatalf("Login keys = %+v", keys)
		}
	}
	if keys := licenseKeysOf(t, cl.Post(t, "userauth/login/", pyForm(normal, "username", "DAVE", "password", "pw"))); len(keys) != 0 {
		t.Fatalf("a user without a customer has keys: %+v", keys)
	}
	servertest.MustFail(t, "Login, wrong password", login(normal, "carol", "nope"), "Unable to authenticate user.")
	servertest.MustFail(t, "Login, unknown user", login(normal, "nobody", "nope"), "Unable to authenticate user.")
	servertest.MustFail(t, "Login, no password", login(normal, "carol", ""), "No username or password supplied.")

	// ChangePassword with the old password (UserAuthNormal), as the .NET SDK's test does.
	change := func(token string, kv ...string) map[string]any {
		return cl.Post(t, "userauth/ChangePassword/", dotnetForm(token, 1, append([]string{"OldPassword", "", "PasswordResetToken", "",
			"AdminMode", "False"}, kv...)...))
	}
	servertest.MustFail(t, "ChangePassword, wrong old", change(normal, "UserName", "carol", "OldPassword", "nope", "NewPassword", "test"),
		"Could not update the password.")
	servertest.MustOK(t, "ChangePassword", change(normal, "UserName", "carol", "OldPassword", "verysecurepassword", "NewPassword", "test"))
	servertest.MustFail(t, "Login, old password", login(normal, "carol", "verysecurepassword"), "Unable to authenticate user.")
	servertest.MustOK(t, "Login, new password", login(normal, "carol", "test"))

	// A reset token: once, before it expires, and the latest only.
	reset := func() string {
		m := cl.Post(t, "userauth/ResetPasswordToken/", pyForm(admin, "username", "carol"))
		servertest.MustOK(t, "ResetPasswordToken", m)
		return m["passwordResetToken"].(string)
	}
	first := reset()
	second := reset()
	servertest.MustFail(t, "an earlier token", change(normal, "UserName", "carol", "PasswordResetToken", first, "NewPassword", "p2"),
		"Could not update the password.")
	servertest.MustOK(t, "ChangePassword by token", change(normal, "UserName", "carol", "PasswordResetToken", second, "NewPassword", "p2"))
	servertest.MustFail(t, "a token twice", change(normal, "UserName", "carol", "PasswordResetToken", second, "NewPassword", "p3"),
		"Could not update the password.")
	servertest.MustOK(t, "Login after reset", login(normal, "carol", "p2"))
	late := reset()
	cl.Clock.Add(license.ResetTokenLifetime + time.Second)
	servertest.MustFail(t, "an expired token", change(normal, "UserName", "carol", "PasswordResetToken", late, "NewPassword", "p3"),
		"Could not update the password.")
	if stored, _ := cl.Store.GetEndUser(ctx, "simon0897", "carol"); strings.Contains(stored.ResetHash, late) || stored.ResetHash == "" {
		t.Fatalf("reset token stored as %q", stored.ResetHash)
	}

	// Admin mode needs UserAuthAdmin.
	servertest.MustFail(t, "AdminMode with UserAuthNormal", change(normal, "UserName", "carol", "NewPassword", "p4", "AdminMode", "True"), "Access denied.")
	servertest.MustOK(t, "AdminMode", change(admin, "UserName", "carol", "NewPassword", "p4", "AdminMode", "True"))
	servertest.MustOK(t, "Login after admin change", login(normal, "carol", "p4"))

	// GetUsers, Associate, Dissociate.
	users := func(kv ...string) string {
		m := cl.Post(t, "userauth/GetUsers/", pyForm(admin, kv...))
		servertest.MustOK(t, "GetUsers", m)
		var out []string
		for _, x := range m["users"].([]any) {
			o := x.(map[string]any)
			if _, err := time.Parse(time.RFC3339, o["created"].(string)); err != nil {
				t.Fatalf("user %v", o)
			}
			out = append(out, fmt.Sprintf("%s:%s:%v", o["username"], o["email"], o["customerId"]))
		}
		return strings.Join(out, ",")
	}
	cid := fmt.Sprint(cust.Customer.ID)
	if got := users("customerid", "0"); got != "carol:carol@example.com:"+cid+",dave::0" {
		t.Fatalf("GetUsers = %s", got)
	}
	servertest.MustOK(t, "Associate", cl.Post(t, "userauth/Associate/", pyForm(admin, "username", "dave", "customerid", cid)))
	if got := users("customerid", cid); got != "carol:carol@example.com:"+cid+",dave::"+cid {
		t.Fatalf("GetUsers(customer) = %s", got)
	}
	if got := users("UserName", "CAROL", "Email", "carol@example.com"); got != "carol:carol@example.com:"+cid {
		t.Fatalf("GetUsers(name) = %s", got)
	}
	servertest.MustOK(t, "Dissociate", cl.Post(t, "userauth/Dissociate/", pyForm(admin, "username", "carol")))
	if keys := licenseKeysOf(t, login(normal, "carol", "p4")); len(keys) != 0 {
		t.Fatalf("keys after Dissociate: %+v", keys)
	}

	// RemoveUser.
	servertest.MustOK(t, "RemoveUser", cl.Post(t, "userauth/RemoveUser/", dotnetForm(admin, 1, "UserName", "carol")))
	servertest.MustFail(t, "Login, removed", login(normal, "carol", "p4"), "Unable to authenticate user.")
	servertest.MustFail(t, "RemoveUser twice", cl.Post(t, "userauth/RemoveUser/", dotnetForm(admin, 1, "UserName", "carol")), "The user could not be found.")

	// Every change is audited, without a password or token.
	var actions []string
	for _, e := range cl.AuditLog(t) {
		if strings.HasPrefix(e.Action, "enduser.") {
			actions = append([]string{e.Action}, actions...)
			for _, s := range []string{"verysecurepassword", "p4", first, second, late} {
				if strings.Contains(e.Detail, `"`+s+`"`) || strings.Contains(e.Outcome, s) && len(s) > 4 {
					t.Fatalf("a secret in the audit: %+v", e)
				}
			}
		}
	}
	if len(actions) < 12 || actions[0] != "enduser.register" || actions[len(actions)-1] != "enduser.remove" {
		t.Fatalf("audit: %v", actions)
	}
}

func mustVendorAccess(t *testing.T, cl *servertest.CLStack, vendor string) *license.Access {
	t.Helper()
	a, err := cl.Svc.Vendor(context.Background(), vendor)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestUserAuthWrongTenant: paul1234's tokens reach none of simon0897's users or customers.
func TestUserAuthWrongTenant(t *testing.T) {
	cl := servertest.NewCLStack(t)
	ctx := context.Background()
	admin, _, paul := userAuthTokens(t, cl)
	cust, err := cl.Svc.AddCustomer(ctx, mustVendorAccess(t, cl, "simon0897"), license.CustomerSettings{CustomerSpec: license.CustomerSpec{Name: "Carol"}})
	if err != nil {
		t.Fatal(err)
	}
	cid := fmt.Sprint(cust.Customer.ID)
	servertest.MustOK(t, "Register", cl.Post(t, "userauth/Register", pyForm(admin, "username", "carol", "password", "pw", "customerid", cid)))

	servertest.MustFail(t, "Login at another vendor", cl.Post(t, "userauth/Login", pyForm(paul, "username", "carol", "password", "pw")), "Unable to authenticate user.")
	servertest.MustFail(t, "Register with another vendor's customer", cl.Post(t, "userauth/Register", pyForm(paul, "username", "x", "password", "pw",
		"customerid", cid)), "Customer not found.")
	servertest.MustFail(t, "Register with another vendor's customer secret", cl.Post(t, "userauth/Register", pyForm(paul, "username", "x", "password", "pw",
		"CustomerSecret", cust.Secret)), "Customer not found.")
	servertest.MustOK(t, "paul1234's own carol", cl.Post(t, "userauth/Register", pyForm(paul, "username", "carol", "password", "other")))
	servertest.MustFail(t, "Associate with another vendor's customer", cl.Post(t, "userauth/Associate", pyForm(paul, "username", "carol", "customerid", cid)),
		"Customer not found.")
	for _, m := range []string{"userauth/RemoveUser", "userauth/Dissociate", "userauth/ResetPasswordToken"} {
		servertest.MustFail(t, m+" of another vendor's user", cl.Post(t, m, pyForm(paul, "username", "dave")), "The user could not be found.")
	}
	if m := cl.Post(t, "userauth/GetUsers", pyForm(paul, "customerid", cid)); len(m["users"].([]any)) != 0 {
		t.Fatalf("paul1234 lists %v", m)
	}
	// paul1234's carol is another account: simon0897's still signs in with its own password, and is untouched.
	servertest.MustOK(t, "paul1234 removes his carol", cl.Post(t, "userauth/RemoveUser", pyForm(paul, "username", "carol")))
	servertest.MustOK(t, "simon0897's carol", cl.Post(t, "userauth/Login", pyForm(admin, "username", "carol", "password", "pw")))
}

func TestUserAuthBadInput(t *testing.T) {
	cl := servertest.NewCLStack(t)
	admin, normal, _ := userAuthTokens(t, cl)
	long := strings.Repeat("x", license.MaxNameLen+1)
	servertest.MustOK(t, "Register", cl.Post(t, "userauth/Register", pyForm(admin, "username", "carol", "password", "pw")))
	for _, tc := range []struct {
		method, msg string
		form        url.Values
	}{
		{"userauth/Register", "No username or password supplied.", pyForm(admin, "username", "x")},
		{"userauth/Register", "No username or password supplied.", pyForm(admin, "password", "x")},
		{"userauth/Register", "The input parameters were incorrect.", pyForm(admin, "username", long, "password", "x")},
		{"userauth/Register", "The input parameters were incorrect.", pyForm(admin, "username", "a\nb", "password", "x")},
		{"userauth/Register", "The input parameters were incorrect.", pyForm(admin, "username", "y", "password", strings.Repeat("p", auth.MaxPasswordLen+1))},
		{"userauth/Register", "The input parameters were incorrect.", pyForm(admin, "username", "y", "password", "p", "customerid", "-1")},
		{"userauth/Register", "Customer not found.", pyForm(admin, "username", "y", "password", "p", "customerid", "999")},
		{"userauth/Register", "Customer not found.", pyForm(admin, "username", "y", "password", "p", "CustomerSecret", "nope")},
		{"userauth/Associate", "The input parameters were incorrect.", pyForm(admin, "username", "carol")},
		{"userauth/Associate", "The input parameters were incorrect.", pyForm(admin, "username", "carol", "customerid", "x")},
		{"userauth/Associate", "Customer not found.", pyForm(admin, "username", "carol", "customerid", "999")},
		{"userauth/Dissociate", "The input parameters were incorrect.", pyForm(admin)},
		{"userauth/ChangePassword", "No username or password supplied.", pyForm(normal, "NewPassword", "x", "OldPassword", "pw")},
		{"userauth/ChangePassword", "The input parameters were incorrect.", pyForm(normal, "username", "carol", "OldPassword", "pw")},
		{"userauth/ChangePassword", "The input parameters were incorrect.", pyForm(normal, "username", "carol", "NewPassword", "x")},
		{"userauth/ChangePassword", "The input parameters were incorrect.", pyForm(normal, "username", "carol", "NewPassword", "x", "OldPassword", "pw", "AdminMode", "perhaps")},
		{"userauth/ChangePassword", "Could not update the password.", pyForm(normal, "username", "nobody", "NewPassword", "x", "PasswordResetToken", "t")},
		{"userauth/ResetPasswordToken", "The user could not be found.", pyForm(admin, "username", "nobody")},
		{"userauth/Login", "Unable to authenticate user.", pyForm(normal, "username", long, "password", "x")},
		// Permissions: UserAuthNormal signs in and changes passwords, nothing more.
		{"userauth/Register", "Access denied.", pyForm(normal, "username", "z", "password", "p")},
		{"userauth/Associate", "Access denied.", pyForm(normal, "username", "carol", "customerid", "1")},
		{"userauth/Dissociate", "Access denied.", pyForm(normal, "username", "carol")},
		{"userauth/GetUsers", "Access denied.", pyForm(normal)},
		{"userauth/ResetPasswordToken", "Access denied.", pyForm(normal, "username", "carol")},
		{"userauth/RemoveUser", "Access denied.", pyForm(normal, "username", "carol")},
	} {
		servertest.MustFail(t, fmt.Sprintf("%s %v", tc.method, tc.form), cl.Post(t, tc.method, tc.form), tc.msg)
	}
	other := cl.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodGetKey}})
	servertest.MustFail(t, "Login without a UserAuth permission", cl.Post(t, "userauth/Login", pyForm(other, "username", "carol", "password", "pw")), "Access denied.")
	servertest.MustFail(t, "ChangePassword without a UserAuth permission", cl.Post(t, "userauth/ChangePassword", pyForm(other, "username", "carol",
		"OldPassword", "pw", "NewPassword", "x")), "Access denied.")
	// Nothing of the refused calls was written.
	if list, _ := cl.Store.ListEndUsers(context.Background(), "simon0897", 0); len(list) != 1 {
		t.Fatalf("end users after refused calls: %+v", list)
	}
	servertest.MustOK(t, "the password is unchanged", cl.Post(t, "userauth/Login", pyForm(normal, "username", "carol", "password", "pw")))
}

// TestUserAuthThrottle: wrong passwords at Login and ChangePassword count against the account; past its
// burst even the right password waits, while another vendor's user of the same name is not held up.
func TestUserAuthThrottle(t *testing.T) {
	cl := servertest.NewCLStack(t, servertest.WithThrottle(auth.ThrottleConfig{AccountBurst: 3, AccountEvery: 30 * time.Second,
		AddressBurst: 100, AddressEvery: time.Second}))
	admin, normal, paul := userAuthTokens(t, cl)
	servertest.MustOK(t, "Register", cl.Post(t, "userauth/Register", pyForm(admin, "username", "carol", "password", "pw")))
	servertest.MustOK(t, "Register at paul1234", cl.Post(t, "userauth/Register", pyForm(paul, "username", "carol", "password", "pw")))
	servertest.MustFail(t, "wrong", cl.Post(t, "userauth/Login", pyForm(normal, "username", "carol", "password", "x1")), "Unable to authenticate user.")
	servertest.MustFail(t, "wrong", cl.Post(t, "userauth/ChangePassword", pyForm(normal, "username", "carol", "OldPassword", "x2", "NewPassword", "n")),
		"Could not update the password.")
	servertest.MustFail(t, "wrong", cl.Post(t, "userauth/ChangePassword", pyForm(normal, "username", "carol", "PasswordResetToken", "x3", "NewPassword", "n")),
		"Could not update the password.")
	for _, m := range []map[string]any{
		cl.Post(t, "userauth/Login", pyForm(normal, "username", "Carol", "password", "pw")),
		cl.Post(t, "userauth/ChangePassword", pyForm(normal, "username", "carol", "OldPassword", "pw", "NewPassword", "n")),
	} {
		if m["result"] != float64(1) || !strings.HasPrefix(m["message"].(string), "Too many failed sign-ins. Try again in") {
			t.Fatalf("after the account's burst of failures: %v", m)
		}
	}
	servertest.MustOK(t, "paul1234's carol", cl.Post(t, "userauth/Login", pyForm(paul, "username", "carol", "password", "pw")))
	cl.Clock.Add(2 * time.Minute)
	servertest.MustOK(t, "later", cl.Post(t, "userauth/Login", pyForm(normal, "username", "carol", "password", "pw")))
}

// TestUserAuthRegisterRace: many registrations of one name at once make one account.
func TestUserAuthRegisterRace(t *testing.T) {
	cl := servertest.NewCLStack(t)
	admin, _, _ := userAuthTokens(t, cl)
	const n = 8
	msgs := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			m := cl.Post(t, "userauth/Register", pyForm(admin, "username", []string{"sam", "SAM"}[i%2], "password", fmt.Sprint("pw", i)))
			msgs[i] = fmt.Sprint(m["message"])
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, m := range msgs {
		switch m {
		case "":
			ok++
		case "Username already exists. Please pick a different one.":
		default:
			t.Fatalf("a racer got %q", m)
		}
	}
	if list, _ := cl.Store.ListEndUsers(context.Background(), "simon0897", 0); ok != 1 || len(list) != 1 {
		t.Fatalf("%d registrations succeeded, %d accounts; want 1", ok, len(list))
	}
}
