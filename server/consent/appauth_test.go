package consent_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
	"github.com/tokenmanager/tokenmanager/storage"
)

// The app authorization flow end to end over loopback HTTP: the consent page driven like a browser without
// JavaScript (a cookie jar, forms posted with their CSRF tokens), the app's side with real RSA-2048 keys
// signing the challenge as Cryptolens' .NET SDK does, and the child token used on the Cryptolens API.

// verifyLicenseKeys checks a GetLicenseKeys answer independently, as the .NET SDK does: SHA-256 PKCS #1 v1.5
// over results ‖ activatedMachineCodes ‖ int64-LE(signDate) with the product's <RSAKeyValue>.
func verifyLicenseKeys(t *testing.T, pubXML string, m map[string]any) ([]map[string]any, []string) {
	t.Helper()
	servertest.MustOK(t, "GetLicenseKeys", m)
	results, err1 := base64.StdEncoding.DecodeString(m["results"].(string))
	machines, err2 := base64.StdEncoding.DecodeString(m["activatedMachineCodes"].(string))
	sig, err3 := base64.StdEncoding.DecodeString(m["signature"].(string))
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatalf("GetLicenseKeys answer %v", m)
	}
	date := make([]byte, 8)
	binary.LittleEndian.PutUint64(date, uint64(int64(m["signDate"].(float64))))
	sum := sha256.Sum256(slices.Concat(results, machines, date))
	if err := rsa.VerifyPKCS1v15(servertest.ParseRSAKeyValue(t, pubXML), crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("GetLicenseKeys signature: %v", err)
	}
	var rs []map[string]any
	var mcs []string
	if json.Unmarshal(results, &rs) != nil || json.Unmarshal(machines, &mcs) != nil {
		t.Fatalf("results %s, machines %s", results, machines)
	}
	return rs, mcs
}

func TestAppAuthorizationFlow(t *testing.T) {
	s := servertest.NewAppStack(t)
	a := servertest.NewApp(s.ParentID, servertest.UserLoginScope, 90, "9f86d081884c7d65")
	consent := a.ConsentURL(s.URL)
	b := servertest.NewBrowser(t)

	// The app opens the page; the user is not signed in.
	status, page := b.Get(consent)
	if status != 200 {
		t.Fatalf("consent page: %d\n%s", status, page)
	}
	servertest.MustContain(t, "the sign-in page", page, `id="signin"`, "Photo Editor", "simon0897", "PAUL-PC")
	if status, page := b.Submit(consent, page, "action", "signin", "username", "paul1234", "password", "wrong"); status != 401 ||
		!strings.Contains(page, "Wrong user name or password.") {
		t.Fatalf("wrong password: %d\n%s", status, page)
	}
	servertest.MustFail(t, "GetChallenge before the user decided", s.Challenge(t, a, s.Parent), "The authorization request could not be found.")
	// The sign-in form is CSRF-protected too (bound to a pre-session cookie): a forged sign-in is refused.
	if status, page := b.Send("POST", consent, url.Values{"action": {"signin"}, "username": {"paul1234"}, "password": {"pa55"}}); status != 403 ||
		!strings.Contains(page, "This form has expired") {
		t.Fatalf("sign-in without a CSRF token: %d\n%s", status, page)
	}
	if status, page := servertest.NewBrowser(t).Submit(consent, page, "action", "signin", "username", "paul1234", "password", "pa55"); status != 403 {
		t.Fatalf("sign-in with the token of another browser's pre-session cookie: %d\n%s", status, page)
	}

	status, page = b.SignIn(consent, "paul1234", "pa55")
	if status != 200 {
		t.Fatalf("after signing in: %d\n%s", status, page)
	}
	servertest.MustContain(t, "the consent page", page, `id="approve"`, `id="deny"`, "Signed in as <b id=\"whoami\">paul1234</b>",
		"see your license keys", "30 days, until 23 Dec 2026", "The app asked for longer (90 days); its vendor allows no more.",
		"customer account at simon0897: Paul (at most 1 device)", "9f86d081884c7d65")

	// CSRF: a POST without the token, or with another, is refused and changes nothing.
	if status, body := b.Send("POST", consent, url.Values{"action": {"approve"}}); status != 403 || !strings.Contains(body, "This form has expired") {
		t.Fatalf("approve without a CSRF token: %d\n%s", status, body)
	}
	if status, _ := b.Send("POST", consent, url.Values{"action": {"approve"}, "csrf": {"AAAA" + strings.Repeat("x", 39)}}); status != 403 {
		t.Fatalf("approve with a wrong CSRF token: %d", status)
	}
	other := servertest.NewBrowser(t) // another browser's token is no good here either
	other.SignIn(consent, "paul1234", "pa55")
	_, otherPage := other.Get(consent)
	if status, _ := b.Send("POST", consent, url.Values{"action": {"approve"}, "csrf": {servertest.CSRFField.FindStringSubmatch(otherPage)[1]}}); status != 403 {
		t.Fatalf("approve with another session's CSRF token: %d", status)
	}
	servertest.MustFail(t, "GetChallenge after refused approvals", s.Challenge(t, a, s.Parent), "The authorization request could not be found.")

	status, page = b.Submit(consent, page, "action", "approve")
	if status != 200 || !strings.Contains(page, `data-state="approved"`) {
		t.Fatalf("approve: %d\n%s", status, page)
	}

	// A parent token other than the one the request named finds nothing.
	otherParent := s.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodGetToken}})
	servertest.MustFail(t, "GetChallenge with another parent token", s.Challenge(t, a, otherParent), "The authorization request could not be found.")
	// A token without GetToken may not even ask.
	noGetToken := s.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodGetKey}})
	servertest.MustFail(t, "GetChallenge with a token without GetToken", s.Challenge(t, a, noGetToken), "Access denied.")

	// Stale and future dates are refused, and the challenge is used up by the attempt.
	c := s.Challenge(t, a, s.Parent)
	servertest.MustOK(t, "GetChallenge", c)
	stale := s.Now() - 6*60
	servertest.MustFail(t, "GetToken with a stale Date", s.GetToken(t, a, s.Parent, stale, servertest.Solve(t, a.Key, c["challenge"].(string), stale)),
		"The Date is too far from the server's time. Check the device's clock.")
	fresh := s.Now()
	servertest.MustFail(t, "GetToken again with the used challenge", s.GetToken(t, a, s.Parent, fresh, servertest.Solve(t, a.Key, c["challenge"].(string), fresh)),
		"The challenge has expired or was already used. Get a new one with auth/GetChallenge.")
	future := s.Now() + 6*60
	servertest.MustFail(t, "GetToken with a future Date", s.Collect(t, a, a.Key, future), "The Date is too far from the server's time. Check the device's clock.")
	// A signature by another key (the app's key was not the one in the request), or over another date.
	servertest.MustFail(t, "GetToken signed with the wrong key", s.Collect(t, a, servertest.PooledKeys()[2], s.Now()),
		"The signed challenge could not be verified with the public key of the request.")
	c = s.Challenge(t, a, s.Parent)
	servertest.MustFail(t, "GetToken signed over another date", s.GetToken(t, a, s.Parent, s.Now(), servertest.Solve(t, a.Key, c["challenge"].(string), s.Now()-1)),
		"The signed challenge could not be verified with the public key of the request.")
	// An expired challenge.
	c = s.Challenge(t, a, s.Parent)
	s.Clock.Add(3 * time.Minute)
	servertest.MustFail(t, "GetToken after the challenge expired", s.GetToken(t, a, s.Parent, s.Now(), servertest.Solve(t, a.Key, c["challenge"].(string), s.Now())),
		"The challenge has expired or was already used. Get a new one with auth/GetChallenge.")
	if list, _ := s.Store.ListAPITokens(context.Background(), "simon0897"); len(list) != 3 {
		t.Fatalf("%d API tokens after the refused attempts; want 3 (no child issued)", len(list))
	}

	// The right answer.
	c = s.Challenge(t, a, s.Parent)
	date := s.Now()
	signed := servertest.Solve(t, a.Key, c["challenge"].(string), date)
	got := s.GetToken(t, a, s.Parent, date, signed)
	servertest.MustOK(t, "GetToken", got)
	child, _ := got["token"].(string)
	if child == "" {
		t.Fatalf("GetToken answer %v", got)
	}
	// Replaying the same signed answer gets nothing more.
	servertest.MustFail(t, "GetToken replayed", s.GetToken(t, a, s.Parent, date, signed), "The authorization request could not be found.")
	servertest.MustFail(t, "GetChallenge after the token was collected", s.Challenge(t, a, s.Parent), "The authorization request could not be found.")

	// The child token within its scope: the user's license keys, signed, the parent's feature lock hiding notes.
	keys := s.Post(t, "User/GetLicenseKeys", url.Values{"token": {child}, "Sign": {"True"}, "MachineCode": {"9f86d081884c7d65"}, "SignMethod": {"LinqSign"}})
	rs, mcs := verifyLicenseKeys(t, s.PubXML, keys)
	if len(rs) != 1 || !slices.Equal(mcs, []string{"9f86d081884c7d65"}) {
		t.Fatalf("GetLicenseKeys: %d keys %v, machines %v; want Paul's one key and the authorized device", len(rs), rs, mcs)
	}
	lk := rs[0]["licenseKey"].(map[string]any)
	if lk["key"] != s.Key.Key || lk["notes"] != nil || lk["customer"].(map[string]any)["name"] != "Paul" || rs[0]["result"] != float64(0) {
		t.Fatalf("license key %v: want the key, notes hidden by the feature lock, the customer shown", lk)
	}
	// … and not beyond it: the parent may read keys, the child was not given that; nor may it ask for children.
	servertest.MustFail(t, "the child token on GetKey", s.Post(t, "key/GetKey", s.Form(child, s.Product.ID, s.Key.Key)), "Access denied.")
	servertest.MustFail(t, "the child token on GetChallenge", s.Challenge(t, a, child), "Access denied.")
	servertest.MustFail(t, "the parent token on GetLicenseKeys", s.Post(t, "User/GetLicenseKeys", url.Values{"token": {s.Parent}, "Sign": {"true"}}), "Access denied.")

	// The request cannot be decided again.
	if status, page := b.Get(consent); status != 409 || !strings.Contains(page, "already approved") {
		t.Fatalf("the consent page after approval: %d\n%s", status, page)
	}

	// The child outlives neither the parent's key lock (30 days, though the app asked for 90) …
	s.Clock.Add(30*24*time.Hour - 10*time.Minute)
	servertest.MustOK(t, "GetLicenseKeys on day 29", s.Post(t, "User/GetLicenseKeys", url.Values{"token": {child}, "Sign": {"true"}}))
	s.Clock.Add(20 * time.Minute)
	servertest.MustFail(t, "GetLicenseKeys after the key lock's 30 days", s.Post(t, "User/GetLicenseKeys", url.Values{"token": {child}, "Sign": {"true"}}),
		"Unable to authenticate.")

	events := s.AuditEvents(t, "appauth.")
	if !slices.ContainsFunc(events, func(e storage.AuditEvent) bool {
		return e.Action == "appauth.approve" && e.Outcome == "ok" && e.Actor == "paul1234"
	}) ||
		!slices.ContainsFunc(events, func(e storage.AuditEvent) bool { return e.Action == "appauth.refuse" && e.Outcome == "bad_signature" }) {
		t.Fatalf("audit events %+v", events)
	}
	issues := s.AuditEvents(t, "token.issue")
	if !slices.ContainsFunc(issues, func(e storage.AuditEvent) bool {
		return strings.Contains(e.Detail, "kind=app ") && e.Subject == "paul1234"
	}) {
		t.Fatalf("no token.issue event for the child token: %+v", issues)
	}
}

func TestAppAuthorizationDenied(t *testing.T) {
	s := servertest.NewAppStack(t)
	a := servertest.NewApp(s.ParentID, servertest.UserLoginScope, 10, "machine-1")
	b := servertest.NewBrowser(t)
	_, page := b.SignIn(a.ConsentURL(s.URL), "paul1234", "pa55")
	status, page := b.Submit(a.ConsentURL(s.URL), page, "action", "deny")
	if status != 200 || !strings.Contains(page, `data-state="denied"`) {
		t.Fatalf("deny: %d\n%s", status, page)
	}
	servertest.MustFail(t, "GetChallenge of a denied request", s.Challenge(t, a, s.Parent), "The authorization request could not be found.")
	servertest.MustFail(t, "GetToken of a denied request", s.GetToken(t, a, s.Parent, s.Now(), base64.StdEncoding.EncodeToString(make([]byte, 256))),
		"The authorization request could not be found.")
	// Approving afterwards (the form still open in another tab) changes nothing.
	if status, page := b.Submit(a.ConsentURL(s.URL), page, "action", "approve"); status != 409 {
		t.Fatalf("approve after deny: %d\n%s", status, page)
	}
	servertest.MustFail(t, "GetChallenge after a late approval", s.Challenge(t, a, s.Parent), "The authorization request could not be found.")
	if devs, _ := s.AA.Devices(context.Background(), "paul1234"); len(devs) != 0 {
		t.Fatalf("a denied request registered %v", devs)
	}
}

func TestAppAuthorizationDeviceLimit(t *testing.T) {
	s := servertest.NewAppStack(t)
	first := servertest.NewApp(s.ParentID, servertest.UserLoginScope, 10, "machine-1")
	s.ApproveInBrowser(t, first)
	// The same device again is no new device.
	s.ApproveInBrowser(t, servertest.NewApp(s.ParentID, servertest.UserLoginScope, 10, "machine-1"))

	// A second device: Paul's customer record allows one.
	second := servertest.NewApp(s.ParentID, servertest.UserLoginScope, 10, "machine-2")
	b := servertest.NewBrowser(t)
	status, page := b.SignIn(second.ConsentURL(s.URL), "paul1234", "pa55")
	if status != 200 || strings.Contains(page, `id="approve"`) {
		t.Fatalf("consent at the device limit: %d, want no Allow button\n%s", status, page)
	}
	servertest.MustContain(t, "the consent page at the limit", page, "This device cannot be added: Paul already has 1 of 1 devices.")
	if status, page := b.Submit(second.ConsentURL(s.URL), page, "action", "approve"); status != 409 || !strings.Contains(page, "device limit") {
		t.Fatalf("approve past the device limit: %d\n%s", status, page)
	}
	servertest.MustFail(t, "GetChallenge past the device limit", s.Challenge(t, second, s.Parent), "The authorization request could not be found.")

	// The user removes the old device on the list page; the new one can then be approved.
	status, list := b.Get(s.URL + "/User/AuthorizedApps/")
	if status != 200 {
		t.Fatalf("list page: %d", status)
	}
	servertest.MustContain(t, "the list page", list, "machine-1", `id="remove-device-0"`)
	if status, list := b.Submit(s.URL+"/User/AuthorizedApps/", list, "action", "remove-device", "customer", strconv.FormatInt(s.Customer.ID, 10),
		"machine", "machine-1"); status != 200 || !strings.Contains(list, "No device is registered.") {
		t.Fatalf("remove device: %d\n%s", status, list)
	}
	servertest.MustFail(t, "GetChallenge of the removed device's request", s.Challenge(t, first, s.Parent), "The authorization request could not be found.")
	s.ApproveInBrowser(t, second)
	servertest.MustOK(t, "GetToken for the second device", s.Collect(t, second, second.Key, s.Now()))

	// User Login Auth for a user linked to no customer of the vendor.
	lonely := servertest.NewApp(s.ParentID, servertest.UserLoginScope, 10, "machine-3")
	lb := servertest.NewBrowser(t)
	_, page = lb.SignIn(lonely.ConsentURL(s.URL), "simon0897", "s3cret")
	servertest.MustContain(t, "consent for a user without a customer record", page, "Your account is not linked to a customer account at simon0897")
}

func TestAppAuthorizationRevokedOnListPage(t *testing.T) {
	s := servertest.NewAppStack(t)
	a := servertest.NewApp(s.ParentID, servertest.UserLoginScope, 10, "machine-1")
	b := s.ApproveInBrowser(t, a)
	got := s.Collect(t, a, a.Key, s.Now())
	servertest.MustOK(t, "GetToken", got)
	child := got["token"].(string)
	getKeys := func() map[string]any {
		return s.Post(t, "User/GetLicenseKeys", url.Values{"token": {child}, "Sign": {"true"}, "MachineCode": {"machine-1"}})
	}
	servertest.MustOK(t, "GetLicenseKeys", getKeys())

	listURL := s.URL + "/User/AuthorizedApps/"
	status, list := b.Get(listURL)
	row := regexp.MustCompile(`<tr id="app-(\d+)" data-state="active">`).FindStringSubmatch(list)
	if status != 200 || row == nil {
		t.Fatalf("list page: %d\n%s", status, list)
	}
	servertest.MustContain(t, "the list page", list, "Photo Editor", "simon0897", "PAUL-PC", "see your license keys")
	// Without the CSRF token, nothing happens.
	if status, _ := b.Send("POST", listURL, url.Values{"action": {"revoke"}, "id": {row[1]}}); status != 403 {
		t.Fatalf("revoke without a CSRF token: %d", status)
	}
	servertest.MustOK(t, "GetLicenseKeys after a refused revoke", getKeys())
	// Another user cannot revoke it.
	stranger := servertest.NewBrowser(t)
	_, strangerList := stranger.SignIn(listURL, "simon0897", "s3cret")
	if status, _ := stranger.Submit(listURL, strangerList, "action", "revoke", "id", row[1]); status != 404 {
		t.Fatalf("another user's revoke: %d", status)
	}
	status, list = b.Submit(listURL, list, "action", "revoke", "id", row[1])
	if status != 200 || !strings.Contains(list, `data-state="revoked"`) {
		t.Fatalf("revoke: %d\n%s", status, list)
	}
	servertest.MustFail(t, "GetLicenseKeys after the user revoked the app", getKeys(), "Unable to authenticate.")

	// An action the page does not know is refused, with the page.
	if status, page := b.Submit(listURL, list, "action", "nonsense"); status != 400 || !strings.Contains(page, "Unknown action.") {
		t.Fatalf("an unknown action: %d\n%s", status, page)
	}
	// Signed out, the list asks for a sign-in again, and a posted action is refused.
	if status, page := b.Submit(listURL, list, "action", "signout"); status != 200 || !strings.Contains(page, `id="signin"`) {
		t.Fatalf("sign out: %d\n%s", status, page)
	}
	if status, page := b.Send("POST", listURL, url.Values{"action": {"revoke"}, "id": {row[1]}}); status != 401 || !strings.Contains(page, "Sign in first.") {
		t.Fatalf("revoke after signing out: %d\n%s", status, page)
	}
}

func TestAppAuthorizationConsentErrors(t *testing.T) {
	s := servertest.NewAppStack(t)
	b := servertest.NewBrowser(t)
	status, page := b.Get(s.URL + "/User/AuthorizeApp/?VendorAppName=X&Scope=%7B%22Fly%22%3Atrue%7D")
	if status != 400 {
		t.Fatalf("missing parameters: %d", status)
	}
	servertest.MustContain(t, "the error page", page, "AuthorizationToken: missing", "PublicKey is missing", "unknown permission", "TokenId is missing",
		"nothing was authorized")
	if strings.Contains(page, `name="action"`) {
		t.Fatal("the error page offers a decision")
	}
	for _, tc := range []struct {
		mutate func(a *servertest.App)
		want   string
	}{
		{func(a *servertest.App) { a.Query.Set("TokenId", "9999") }, "the token it names (TokenId 9999) is unknown"},
		{func(a *servertest.App) {
			a.Query.Set("Scope", `{"GetLicenseKeys":true,"LockToProduct":77}`)
		}, "The app asks for product 77, but its token is locked to product"},
		{func(a *servertest.App) { a.Query.Set("Scope", `{"CreateKey":true}`) }, "can give none of the permissions asked for"},
		{func(a *servertest.App) { a.Query.Set("PublicKey", `{"Modulus":"AQAB","Exponent":"AQAB"}`) }, "want an RSA key of 2048 to 4096 bits"},
	} {
		a := servertest.NewApp(s.ParentID, servertest.UserLoginScope, 10, "m")
		tc.mutate(a)
		if status, page := b.Get(a.ConsentURL(s.URL)); status != 400 || !strings.Contains(page, tc.want) {
			t.Errorf("%s: %d\n%s", tc.want, status, page)
		}
	}
	// Unsupported and withheld permissions are named but not granted.
	a := servertest.NewApp(s.ParentID, `{"GetLicenseKeys":true,"Activate":true,"GetKeys":true}`, 10, "m")
	_, page = b.SignIn(a.ConsentURL(s.URL), "paul1234", "pa55")
	servertest.MustContain(t, "the consent page", page, "It also asked for activate license keys on machines, which its vendor does not allow",
		"It also asked for GetKeys, which this service does not offer")
}

// TestAppAuthorizationGetTokenRace: the app's GetToken sent many times at once with one valid answer gets one
// token.
func TestAppAuthorizationGetTokenRace(t *testing.T) {
	s := servertest.NewAppStack(t)
	a := servertest.NewApp(s.ParentID, servertest.UserLoginScope, 10, "machine-1")
	s.ApproveInBrowser(t, a)
	c := s.Challenge(t, a, s.Parent)
	date := s.Now()
	signed := servertest.Solve(t, a.Key, c["challenge"].(string), date)
	var wg sync.WaitGroup
	var mu sync.Mutex
	tokens := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := servertest.Do(t, "POST", s.URL+"/api/auth/GetToken", url.Values{"AuthorizationToken": {a.AuthToken}, "Date": {strconv.FormatInt(date, 10)},
				"SignedChallenge": {signed}, "token": {s.Parent}}.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
			if strings.Contains(r.Body, `"result":0`) {
				mu.Lock()
				tokens++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if tokens != 1 {
		t.Fatalf("%d GetToken calls succeeded, want exactly 1", tokens)
	}
}

func TestUserAuthLogin(t *testing.T) {
	s := servertest.NewAppStack(t, servertest.WithThrottle(auth.ThrottleConfig{AccountBurst: 3, AccountEvery: 30 * time.Second, AddressBurst: 100, AddressEvery: time.Second}))
	login := func(user, pass string) map[string]any {
		return s.Post(t, "userauth/Login", url.Values{"token": {s.Parent}, "UserName": {user}, "Password": {pass}, "MachineCode": {"m-1"},
			"DeviceName": {"laptop"}, "VendorAppName": {"CLI"}})
	}
	servertest.MustFail(t, "Login without a password", login("paul1234", ""), "No username or password supplied.")
	servertest.MustFail(t, "Login with a wrong password", login("paul1234", "nope"), "Unable to authenticate user.")
	got := login("paul1234", "pa55")
	servertest.MustOK(t, "Login", got)
	rs, mcs := verifyLicenseKeys(t, s.PubXML, s.Post(t, "User/GetLicenseKeys", url.Values{"token": {got["token"].(string)}, "Sign": {"true"}}))
	if len(rs) != 1 || !slices.Equal(mcs, []string{"m-1"}) {
		t.Fatalf("keys after Login: %v %v", rs, mcs)
	}
	servertest.MustFail(t, "Login without a customer record", login("simon0897", "s3cret"), "Customer not found.")
	noGetToken := s.Token(t, license.TokenSpec{Methods: []license.Method{license.MethodGetKey}})
	servertest.MustFail(t, "Login with a token without GetToken", s.Post(t, "userauth/Login", url.Values{"token": {noGetToken}, "UserName": {"paul1234"},
		"Password": {"pa55"}, "MachineCode": {"m-1"}}), "Access denied.")
	// Throttled like every sign-in: after the account's burst of failures, even the right password waits.
	for range 3 {
		login("paul1234", "nope")
	}
	if m := login("paul1234", "pa55"); m["result"] != float64(1) || !strings.HasPrefix(m["message"].(string), "Too many failed sign-ins. Try again in") {
		t.Fatalf("Login after a storm of wrong passwords: %v", m)
	}
}

func TestAppAuthorizationAdminAPI(t *testing.T) {
	s := servertest.NewAppStack(t)
	if err := s.Store.UpdateUser(context.Background(), "simon0897", func(u *storage.User) error { u.Admin = true; return nil }); err != nil {
		t.Fatal(err)
	}
	a := servertest.NewApp(s.ParentID, servertest.UserLoginScope, 10, "machine-1")
	s.ApproveInBrowser(t, a)
	got := s.Collect(t, a, a.Key, s.Now())
	servertest.MustOK(t, "GetToken", got)
	admin := map[string]string{"Authorization": servertest.Basic("simon0897", "s3cret")}
	r := servertest.Do(t, "GET", s.URL+"/admin/v1/app-authorizations?user=paul1234", "", admin)
	var list struct {
		Auths []struct {
			ID          int64    `json:"id"`
			User        string   `json:"user"`
			State       string   `json:"state"`
			Permissions []string `json:"permissions"`
			Token       int64    `json:"api_token_id"`
		} `json:"items"`
	}
	if r.Status != 200 || json.Unmarshal([]byte(r.Body), &list) != nil || len(list.Auths) != 1 || list.Auths[0].State != "active" ||
		list.Auths[0].User != "paul1234" || !slices.Equal(list.Auths[0].Permissions, []string{"GetLicenseKeys"}) || list.Auths[0].Token == 0 {
		t.Fatalf("admin list: %d %s", r.Status, r.Body)
	}
	id := strconv.FormatInt(list.Auths[0].ID, 10)
	if r := servertest.Do(t, "GET", s.URL+"/admin/v1/app-authorizations/"+id, "", map[string]string{"Authorization": servertest.Basic("paul1234", "pa55")}); r.Status != 403 {
		t.Fatalf("a non-admin: %d", r.Status)
	}
	if r := servertest.Do(t, "DELETE", s.URL+"/admin/v1/app-authorizations/"+id, "", admin); r.Status != 204 {
		t.Fatalf("admin revoke: %d %s", r.Status, r.Body)
	}
	servertest.MustFail(t, "the child token after an admin revoked it", s.Post(t, "User/GetLicenseKeys", url.Values{"token": {got["token"].(string)}}),
		"Unable to authenticate.")
	if r := servertest.Do(t, "GET", s.URL+"/admin/v1/app-authorizations/"+id, "", admin); r.Status != 200 || !strings.Contains(r.Body, `"state":"revoked"`) {
		t.Fatalf("after revoke: %d %s", r.Status, r.Body)
	}
	if r := servertest.Do(t, "DELETE", s.URL+"/admin/v1/app-authorizations/9999", "", admin); r.Status != 404 {
		t.Fatalf("revoke of a missing authorization: %d", r.Status)
	}
	r = servertest.Do(t, "GET", s.URL+"/admin/v1/app-devices?user=paul1234", "", admin)
	if r.Status != 200 || !strings.Contains(r.Body, `"machine_code":"machine-1"`) {
		t.Fatalf("devices: %d %s", r.Status, r.Body)
	}
	q := fmt.Sprintf("?customer=%d&machine=machine-1", s.Customer.ID)
	if r := servertest.Do(t, "DELETE", s.URL+"/admin/v1/app-devices"+q, "", admin); r.Status != 204 {
		t.Fatalf("remove device: %d %s", r.Status, r.Body)
	}
	if r := servertest.Do(t, "DELETE", s.URL+"/admin/v1/app-devices"+q, "", admin); r.Status != 404 {
		t.Fatalf("remove a removed device: %d %s", r.Status, r.Body)
	}
	if events := s.AuditEvents(t, "admin.appauth."); len(events) != 2 {
		t.Fatalf("admin audit events: %+v", events)
	}
}
