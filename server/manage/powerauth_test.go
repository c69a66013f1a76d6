package manage_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// newPowerAuthStack is newStack with the PowerAuth core wired, sealing as serve does; it hands the core back
// so that the tests can check what the API answered against what the core stored.
func newPowerAuthStack(t *testing.T) (*servertest.CLStack, *powerauth.Service) {
	var pa *powerauth.Service
	st := servertest.NewCLStack(t, servertest.WithAdmin(t), func(su *servertest.Setup) {
		su.Wire = append(su.Wire, func(st *servertest.Stack, d *server.Deps) {
			pa = powerauth.NewService(st.Store, keys.NewSealer(keys.Derive(powerauth.SecretKey(servertest.ServerKey), keys.PurposeSeal)),
				powerauth.Config{}, st.Clock.Now)
			d.PowerAuth = pa
		})
	})
	return st, pa
}

// verifyCodeSignature checks the activation code's signature with the master public key (X9.62 uncompressed,
// Base64) the create answered: what Wultra's SDK does with the code before it activates.
func verifyCodeSignature(t *testing.T, masterB64, code, sigB64 string) bool {
	t.Helper()
	raw, err1 := base64.StdEncoding.DecodeString(masterB64)
	sig, err2 := base64.StdEncoding.DecodeString(sigB64)
	if err1 != nil || err2 != nil {
		t.Fatalf("master key %q or signature %q not Base64", masterB64, sigB64)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		t.Fatalf("master public key: %v", err)
	}
	h := sha256.Sum256([]byte(code))
	return ecdsa.VerifyASN1(pub, h[:], sig)
}

func TestPowerAuthApps(t *testing.T) {
	st, pa := newPowerAuthStack(t)
	r := call(t, st, "POST", "/powerauth/apps", `{"id":"mobile-banking"}`, root)
	want(t, "create", r, 201)
	app := r.JSON(t)
	if r.Header.Get("Location") != "/admin/v1/powerauth/apps/mobile-banking" || app["id"] != "mobile-banking" {
		t.Fatalf("create: %v %s", r.Header, r.Body)
	}
	// The answer is the application the core stored: the secret and keys the SDK is configured with.
	stored, err := pa.App(t.Context(), "mobile-banking")
	if err != nil {
		t.Fatal(err)
	}
	if app["application_secret"] != stored.Secret || app["application_key"] != stored.Key ||
		app["master_public_key"] != base64.StdEncoding.EncodeToString(stored.Master.PublicKey().Bytes()) {
		t.Fatalf("create answered %s, the core holds key %s secret %s", r.Body, stored.Key, stored.Secret)
	}
	for body, status := range map[string]int{
		`{"id":"mobile-banking"}`: 409,
		`{"id":"bad id"}`:         400,
		`{"id":""}`:               400,
		`{}`:                      400,
		`{"id":"x","name":"x"}`:   400, // unknown field
		`{"id":"` + strings.Repeat("a", 65) + `"}`: 400,
		``: 400,
	} {
		want(t, "create "+body, call(t, st, "POST", "/powerauth/apps", body, root), status)
	}

	// Show: the same application, never its secret.
	r = call(t, st, "GET", "/powerauth/apps/mobile-banking", "", root)
	want(t, "show", r, 200)
	if shown := r.JSON(t); shown["application_key"] != app["application_key"] || shown["master_public_key"] != app["master_public_key"] ||
		strings.Contains(r.Body, stored.Secret) {
		t.Fatalf("show: %s", r.Body)
	}
	want(t, "show unknown", call(t, st, "GET", "/powerauth/apps/nope", "", root), 404)

	// List, paged by id: five more applications, two a page.
	for i := range 5 {
		want(t, "create more", call(t, st, "POST", "/powerauth/apps", fmt.Sprintf(`{"id":"app%d"}`, 4-i), root), 201)
	}
	var ids []string
	next := "/powerauth/apps?limit=2"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		r := call(t, st, "GET", next, "", root)
		want(t, "list", r, 200)
		var l []map[string]any
		l, next = items(t, r)
		for _, a := range l {
			if _, ok := a["application_secret"]; ok {
				t.Fatalf("a list shows a secret: %v", a)
			}
			ids = append(ids, a["id"].(string))
		}
	}
	if strings.Join(ids, " ") != "app0 app1 app2 app3 app4 mobile-banking" {
		t.Fatalf("every application, paged by id: %v", ids)
	}
	if l, _ := items(t, call(t, st, "GET", "/powerauth/apps?prefix=mob", "", root)); len(l) != 1 {
		t.Fatalf("by prefix: %v", l)
	}
	for _, bad := range []string{"?limit=0", "?limit=501", "?cursor=***", "?cursor=bm90IGpzb24"} {
		want(t, "list "+bad, call(t, st, "GET", "/powerauth/apps"+bad, "", root), 400)
	}
	// Created over the API, listed by the core the command line calls.
	if apps, err := pa.ListApps(t.Context()); err != nil || len(apps) != 6 {
		t.Fatalf("the core's list: %d %v", len(apps), err)
	}
}

func TestPowerAuthActivationInit(t *testing.T) {
	st, _ := newPowerAuthStack(t)
	r := call(t, st, "POST", "/powerauth/apps", `{"id":"mobile-banking"}`, root)
	want(t, "create app", r, 201)
	master := r.JSON(t)["master_public_key"].(string)

	r = call(t, st, "POST", "/powerauth/activations/init", `{"app":"mobile-banking","user":"simon0897","otp":"123456"}`, root)
	want(t, "init", r, 201)
	p := r.JSON(t)
	code, _ := p["activation_code"].(string)
	if len(code) != 23 || strings.Count(code, "-") != 3 || p["user"] != "simon0897" || p["app"] != "mobile-banking" {
		t.Fatalf("init: %s", r.Body)
	}
	if !verifyCodeSignature(t, master, code, p["activation_signature"].(string)) {
		t.Fatal("the activation code's signature does not verify with the application's master public key")
	}
	if verifyCodeSignature(t, master, code[:22]+"A", p["activation_signature"].(string)) && code[22] != 'A' {
		t.Fatal("the signature verifies another code")
	}
	// The activation waits for its device, among the user's activations.
	acts := call(t, st, "GET", "/powerauth/activations?user=simon0897", "", root)
	if acts.Status != 200 || !strings.Contains(acts.Body, `"id":"`+p["id"].(string)+`"`) || !strings.Contains(acts.Body, `"status":"created"`) {
		t.Fatalf("activations after init: %s", acts.Body)
	}
	second := call(t, st, "POST", "/powerauth/activations/init", `{"app":"mobile-banking","user":"simon0897"}`, root)
	want(t, "init without OTP", second, 201)
	if second.JSON(t)["activation_code"] == code {
		t.Fatal("two activations, one code")
	}

	for body, status := range map[string]int{
		`{"app":"nope","user":"simon0897"}`:                   400,
		`{"app":"mobile-banking","user":"nobody"}`:            400,
		`{"app":"mobile-banking"}`:                            400,
		`{"user":"simon0897"}`:                                400,
		`{"app":"mobile-banking","user":"simon0897","otp":1}`: 400,
		`{"app":"mobile-banking","user":"simon0897","otp":"` + strings.Repeat("9", 256) + `"}`: 400,
		`{"app":"mobile-banking","user":"simon0897","x":"y"}`:                                  400,
		`[]`: 400,
	} {
		want(t, "init "+body, call(t, st, "POST", "/powerauth/activations/init", body, root), status)
	}
	want(t, "init as text", call(t, st, "POST", "/powerauth/activations/init", `{"app":"mobile-banking","user":"simon0897"}`, root,
		"Content-Type", "text/plain"), 415)

	// Audited as the command line audits them, naming the operator; newest first.
	var got []string
	for _, e := range st.AuditLog(t) {
		if strings.HasPrefix(e.Action, "powerauth.") {
			got = append(got, e.Action+" "+e.Actor+" "+e.Subject+" "+e.Detail)
		}
	}
	wantLog := []string{
		"powerauth.activation.init root simon0897 activation=" + second.JSON(t)["id"].(string) + " app=mobile-banking",
		"powerauth.activation.init root simon0897 activation=" + p["id"].(string) + " app=mobile-banking",
		"powerauth.app.create root  app=mobile-banking",
	}
	if strings.Join(got, "\n") != strings.Join(wantLog, "\n") {
		t.Fatalf("audit: %q, want %q", got, wantLog)
	}
}

// TestPowerAuthOperatorOnly: a vendor account, an operator's token narrowed to a vendor and a read-only token
// (for the changes) are refused, and nothing is created.
func TestPowerAuthOperatorOnly(t *testing.T) {
	st, pa := newPowerAuthStack(t)
	want(t, "create app", call(t, st, "POST", "/powerauth/apps", `{"id":"mobile-banking"}`, root), 201)
	ro, _ := createToken(t, st, root, `{"name":"dashboard","read_only":true}`)
	narrowed, _ := createToken(t, st, root, `{"vendor":"simon0897"}`)
	vendorTok, _ := createToken(t, st, simon, `{}`)
	changes := []struct{ method, path, body string }{
		{"POST", "/powerauth/apps", `{"id":"theirs"}`},
		{"POST", "/powerauth/activations/init", `{"app":"mobile-banking","user":"simon0897"}`},
	}
	reads := []struct{ method, path, body string }{
		{"GET", "/powerauth/apps", ""},
		{"GET", "/powerauth/apps/mobile-banking", ""},
	}
	for who, hdr := range map[string]map[string]string{"a vendor": simon, "a vendor's token": bearer(vendorTok),
		"a token narrowed to a vendor": bearer(narrowed)} {
		for _, c := range append(changes, reads...) {
			want(t, c.method+" "+c.path+" as "+who, call(t, st, c.method, c.path, c.body, hdr), 403)
		}
	}
	for _, c := range changes {
		want(t, c.method+" "+c.path+" with a read-only token", call(t, st, c.method, c.path, c.body, bearer(ro)), 403)
	}
	for _, c := range reads {
		want(t, c.method+" "+c.path+" with a read-only token", call(t, st, c.method, c.path, c.body, bearer(ro)), 200)
	}
	for _, c := range append(changes, reads...) {
		want(t, c.method+" "+c.path+" without credentials", call(t, st, c.method, c.path, c.body, nil), 401)
	}
	if apps, _ := pa.ListApps(t.Context()); len(apps) != 1 {
		t.Fatalf("applications after the refusals: %v", apps)
	}
	if acts, _ := pa.ListActivations(t.Context(), "simon0897"); len(acts) != 0 {
		t.Fatalf("activations after the refusals: %v", acts)
	}
}
