package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
	"github.com/tokenmanager/tokenmanager/storage"
)

// The operator's lists answer pages in the shape of /admin/v1/users: {"items":[…],"next":"…"} with a Link
// header, ?limit= 1 to 500, an opaque cursor; every answer is checked against the OpenAPI document as it goes.

// pages follows a list from path, limit items a page, to its end, and returns the field idField of every item.
func pages(t *testing.T, st *servertest.Stack, path string, limit int, idField string) []string {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	next := fmt.Sprintf("%s%slimit=%d", path, sep, limit)
	var out []string
	for n := 0; next != ""; n++ {
		if n > 50 {
			t.Fatalf("%s: paging does not end", path)
		}
		r := st.AdminCall(t, "GET", strings.TrimPrefix(next, "/admin/v1"), servertest.RootBasic)
		var l struct {
			Items []map[string]any `json:"items"`
			Next  string           `json:"next"`
		}
		if r.Status != 200 || json.Unmarshal([]byte(r.Body), &l) != nil {
			t.Fatalf("GET %s: %d %s", next, r.Status, r.Body)
		}
		if len(l.Items) > limit {
			t.Fatalf("GET %s: %d items, more than the limit", next, len(l.Items))
		}
		if link := r.Header.Get("Link"); (l.Next == "") != (link == "") || (link != "" && link != "<"+l.Next+`>; rel="next"`) {
			t.Fatalf("GET %s: Link %q, next %q", next, link, l.Next)
		}
		if l.Next != "" && len(l.Items) != limit {
			t.Fatalf("GET %s: a short page (%d) before the end", next, len(l.Items))
		}
		for _, it := range l.Items {
			out = append(out, fmt.Sprint(it[idField]))
		}
		next = l.Next
	}
	return out
}

// checkPaging: every page size answers the same items in the same order, each once; bad limits and cursors
// are 400 problems; a vendor account is refused.
func checkPaging(t *testing.T, st *servertest.Stack, path, idField string, want int, vendor map[string]string) []string {
	t.Helper()
	all := pages(t, st, path, 500, idField)
	if len(all) != want {
		t.Fatalf("%s: %d items, want %d: %v", path, len(all), want, all)
	}
	seen := map[string]bool{}
	for _, id := range all {
		if seen[id] {
			t.Fatalf("%s: %s twice: %v", path, id, all)
		}
		seen[id] = true
	}
	for _, limit := range []int{1, 2, 3} {
		if got := pages(t, st, path, limit, idField); strings.Join(got, " ") != strings.Join(all, " ") {
			t.Errorf("%s, %d a page: %v, want %v", path, limit, got, all)
		}
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	foreign := base64.RawURLEncoding.EncodeToString([]byte(`{"after":5}`))
	for _, q := range []string{"limit=0", "limit=501", "limit=x", "cursor=!!", "cursor=" + foreign, "cursor=" + strings.Repeat("A", 600)} {
		if r := st.AdminCall(t, "GET", path+sep+q, servertest.RootBasic); r.Status != 400 || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s%s%s: %d %s", path, sep, q, r.Status, r.Body)
		}
	}
	if r := st.AdminCall(t, "GET", path, vendor); r.Status != 403 {
		t.Errorf("%s as a vendor or a plain user: %d", path, r.Status)
	}
	return all
}

func count(t *testing.T, st *servertest.Stack, path, idField string) string {
	t.Helper()
	return strings.Join(pages(t, st, path, 2, idField), " ")
}

func TestAdminPagingTokensSessionsOAuthPowerAuth(t *testing.T) {
	st := newOAuthStack(t, oauthSetup{}, servertest.WithAdmin(t), withPowerAuth(powerauth.Config{}, nil))
	ctx := context.Background()
	now := st.Clock.Now()
	plain := map[string]string{"Authorization": servertest.Basic("simon0897", "s3cret")} // neither admin nor vendor
	users := []string{"simon0897", "paul1234"}
	// Seven of each, four of them made at the same instant (the cursor tells them apart by id).
	created := func(i int) time.Time { return now.Add(-time.Duration(max(i, 3)) * time.Minute) }
	st.client(t, apiclient.Spec{ID: "app", Scopes: []string{"Partner"}})
	st.client(t, apiclient.Spec{ID: "other", Scopes: []string{"Partner"}})
	for i := range 7 {
		u, id := users[i%2], fmt.Sprintf("%02d", i)
		tok := storage.Token{ID: "tok-" + id, User: u, Kind: storage.KindOpen, ClientHost: "10.0.0." + fmt.Sprint(i%3), CreatedAt: created(i), LastUsedAt: created(i)}
		if i == 6 {
			tok.ExpiresAt = now.Add(-time.Second)
		}
		if err := st.Store.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if err := st.Store.CreateSession(ctx, storage.Session{ID: "sess-" + id, User: u, ClientHost: "10.0.0.9", CreatedAt: created(i), LastSeenAt: created(i)}); err != nil {
			t.Fatal(err)
		}
		client := "app"
		if i == 5 {
			client = "other"
		}
		if err := st.Store.CreateAccessToken(ctx, storage.AccessToken{ID: "oat-" + id, ClientID: client, KeyHash: make([]byte, 32),
			CreatedAt: created(i), ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := st.Store.CreatePowerAuthActivation(ctx, storage.PowerAuthActivation{ID: "act-" + id, User: u, Name: "phone", Status: storage.PowerAuthActive,
			CreatedAt: created(i), UpdatedAt: created(i)}); err != nil {
			t.Fatal(err)
		}
		if err := st.Store.CreatePowerAuthToken(ctx, storage.PowerAuthToken{ID: "pat-" + id, ActivationID: "act-" + id, SealedSecret: []byte("s"), CreatedAt: created(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Store.UpdatePowerAuthActivation(ctx, "act-04", func(a *storage.PowerAuthActivation) error { a.Status = storage.PowerAuthBlocked; return nil }); err != nil {
		t.Fatal(err)
	}

	// Spectrum tokens and sessions: newest first, ties by id.
	if got := strings.Join(checkPaging(t, st.stack.Stack, "/tokens", "id", 7, plain), " "); got != "tok-00 tok-01 tok-02 tok-03 tok-04 tok-05 tok-06" {
		t.Errorf("tokens in order: %s", got)
	}
	checkPaging(t, st.stack.Stack, "/sessions", "id", 7, plain)
	for q, want := range map[string]string{
		"?user=paul1234":                    "tok-01 tok-03 tok-05",
		"?user=paul1234&client=10.0.0.0":    "tok-03",
		"?live=true&user=simon0897":         "tok-00 tok-02 tok-04",
		"?older_than=4m":                    "tok-05 tok-06",
		"?kind=session":                     "",
		"?user=nobody":                      "",
		"?user=" + strings.Repeat("u", 300): "400",
		"?kind=forever":                     "400",
		"?live=maybe":                       "400",
		"?older_than=soon":                  "400",
	} {
		if want == "400" {
			if r := st.AdminCall(t, "GET", "/tokens"+q, servertest.RootBasic); r.Status != 400 {
				t.Errorf("tokens%s: %d", q, r.Status)
			}
			continue
		}
		if got := count(t, st.stack.Stack, "/tokens"+q, "id"); got != want {
			t.Errorf("tokens%s: %q, want %q", q, got, want)
		}
	}
	if got := count(t, st.stack.Stack, "/sessions?user=simon0897", "id"); got != "sess-00 sess-02 sess-04 sess-06" {
		t.Errorf("simon0897's sessions: %q", got)
	}

	// OAuth access tokens.
	checkPaging(t, st.stack.Stack, "/oauth-tokens", "id", 7, plain)
	if got := count(t, st.stack.Stack, "/oauth-tokens?client_id=other&live=true", "id"); got != "oat-05" {
		t.Errorf("other's live OAuth tokens: %q", got)
	}

	// PowerAuth: oldest first; act-04 was blocked, and its token went with it.
	if got := strings.Join(checkPaging(t, st.stack.Stack, "/powerauth/activations", "id", 7, plain), " "); got != "act-06 act-05 act-04 act-00 act-01 act-02 act-03" {
		t.Errorf("activations in order: %s", got)
	}
	checkPaging(t, st.stack.Stack, "/powerauth/tokens", "id", 6, plain)
	for q, want := range map[string]string{
		"/powerauth/activations?status=blocked":         "act-04",
		"/powerauth/activations?user=paul1234":          "act-05 act-01 act-03",
		"/powerauth/activations?user=paul1234&status=x": "400",
		"/powerauth/tokens?user=simon0897":              "pat-06 pat-00 pat-02",
		"/powerauth/tokens?activation=ACT-03":           "pat-03",
	} {
		if want == "400" {
			if r := st.AdminCall(t, "GET", q, servertest.RootBasic); r.Status != 400 {
				t.Errorf("%s: %d", q, r.Status)
			}
			continue
		}
		if got := count(t, st.stack.Stack, q, "id"); got != want {
			t.Errorf("%s: %q, want %q", q, got, want)
		}
	}
}

func TestAdminPagingLicensingAppAuth(t *testing.T) {
	st := servertest.NewAppStack(t, servertest.WithAdmin(t))
	ctx := context.Background()
	vendor := map[string]string{"Authorization": servertest.Basic("simon0897", "s3cret")}

	// License activations of one key: node-locked first, by machine code.
	k := st.NewKey(t, license.KeySpec{Period: 30, MaxNoOfMachines: 8})
	for _, m := range []string{"m-c", "m-a", "m-e", "m-b", "x-d"} {
		if _, err := st.Svc.Activate(ctx, license.Admin(), license.ActivateRequest{ProductID: st.Product.ID, Key: k.Key, MachineCode: m}); err != nil {
			t.Fatal(err)
		}
		st.Clock.Add(time.Minute) // the store answers them by activation time, the list by machine code
	}
	if _, err := st.Svc.Activate(ctx, license.Admin(), license.ActivateRequest{ProductID: st.Product.ID, Key: k.Key, MachineCode: "m-f",
		FloatingInterval: time.Hour}); err != nil {
		t.Fatal(err)
	}
	q := fmt.Sprintf("/license/activations?product=%d&key=%s", st.Product.ID, k.Key)
	if got := strings.Join(checkPaging(t, st.Stack, q, "machine_code", 6, vendor), " "); got != "m-a m-b m-c m-e x-d m-f" {
		t.Errorf("activations in order: %s", got)
	}
	if got := count(t, st.Stack, q+"&machine=m-&floating=false", "machine_code"); got != "m-a m-b m-c m-e" {
		t.Errorf("node-locked m-: %q", got)
	}
	if got := count(t, st.Stack, q+"&floating=true", "machine_code"); got != "m-f" {
		t.Errorf("floating: %q", got)
	}
	for _, bad := range []string{q + "&floating=maybe", "/license/activations?product=x&key=y"} {
		if r := st.AdminCall(t, "GET", bad, servertest.RootBasic); r.Status != 400 {
			t.Errorf("%s: %d", bad, r.Status)
		}
	}
	if r := st.AdminCall(t, "GET", fmt.Sprintf("/license/activations?product=%d&key=AAAAA-AAAAA-AAAAA-AAAAA", st.Product.ID), servertest.RootBasic); r.Status != 404 {
		t.Errorf("a missing key: %d", r.Status)
	}

	// App authorizations (newest first) and the devices they registered (in order of registration).
	many, err := st.Svc.CreateCustomer(ctx, license.Admin(), "simon0897", license.CustomerSpec{Name: "Paul's firm", User: "paul1234"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 5 {
		app := "Photo Editor"
		if i%2 == 1 {
			app = "Scanner"
		}
		mc := fmt.Sprintf("dev-%d", 4-i)
		a, err := st.Store.CreateAppAuthorization(ctx, storage.AppAuthorization{RequestHash: []byte(fmt.Sprintf("request %d", i)),
			ParentTokenID: st.ParentID, Vendor: "simon0897", User: "paul1234", State: storage.AppApproved, AppName: app, DeviceName: "PC",
			MachineCode: mc, PublicKey: []byte("der"), Permissions: []string{"GetLicenseKeys"}, Lifetime: 24 * time.Hour, DecidedAt: st.Clock.Now()},
			[]storage.AppDevice{{CustomerID: many.ID, MachineCode: mc, DeviceName: "PC", User: "paul1234", RegisteredAt: st.Clock.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append([]string{fmt.Sprint(a.ID)}, ids...)
	}
	if got := strings.Join(checkPaging(t, st.Stack, "/app-authorizations", "id", 5, vendor), " "); got != strings.Join(ids, " ") {
		t.Errorf("authorizations in order: %s, want %s", got, strings.Join(ids, " "))
	}
	if got := count(t, st.Stack, "/app-authorizations?app=Scanner&user=paul1234&vendor=simon0897", "app_name"); got != "Scanner Scanner" {
		t.Errorf("the scanner's: %q", got)
	}
	if got := count(t, st.Stack, "/app-authorizations?vendor=paul1234", "id"); got != "" {
		t.Errorf("another vendor's: %q", got)
	}
	// Registered at the same instant: by customer, then machine code.
	if got := strings.Join(checkPaging(t, st.Stack, "/app-devices", "machine_code", 5, vendor), " "); got != "dev-0 dev-1 dev-2 dev-3 dev-4" {
		t.Errorf("devices in order: %s", got)
	}
	if got := count(t, st.Stack, "/app-devices?user=simon0897", "machine_code"); got != "" {
		t.Errorf("simon0897's devices: %q", got)
	}
	if got := count(t, st.Stack, "/app-devices?vendor=simon0897&user=paul1234", "machine_code"); got != "dev-0 dev-1 dev-2 dev-3 dev-4" {
		t.Errorf("paul1234's devices of simon0897: %q", got)
	}
}
