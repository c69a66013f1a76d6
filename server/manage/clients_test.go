package manage_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// newClientsStack is newStack with the API clients' core and the OAuth endpoints.
func newClientsStack(t *testing.T) *servertest.CLStack {
	withClients := func(su *servertest.Setup) {
		su.Wire = append(su.Wire, func(st *servertest.Stack, d *server.Deps) {
			d.OAuth = server.OAuthDeps{Clients: apiclient.New(st.Store, apiclient.Config{}, st.Clock.Now)}
		})
	}
	return servertest.NewCLStack(t, servertest.WithAdmin(t), withClients)
}

// oauthToken asks /oauth2/token for a token with golang.org/x/oauth2's client credentials flow.
func oauthToken(st *servertest.CLStack, id, secret string) (string, error) {
	cfg := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: st.URL + server.PathOAuthToken, AuthStyle: oauth2.AuthStyleInHeader}
	tok, err := cfg.Token(context.Background())
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

func tokenWorks(t *testing.T, st *servertest.CLStack, tok string) bool {
	t.Helper()
	r := servertest.Send(t, "GET", st.URL+server.PathOAuthVerify, "", http.Header{"Authorization": {"Bearer " + tok}})
	return r.Status == 200
}

func TestClientsOverTheAPI(t *testing.T) {
	st := newClientsStack(t)
	r := call(t, st, "POST", "/clients", `{"id":"app","scopes":["Partner","Reports"],"description":"billing","token_lifetime_seconds":600}`, root)
	want(t, "create", r, 201)
	var created struct {
		ID, PrimaryKey, SecondaryKey string
		Scopes                       []string
		TokenLifetime                int64 `json:"token_lifetime_seconds"`
	}
	json.Unmarshal([]byte(r.Body), &created)
	created.PrimaryKey, created.SecondaryKey = r.JSON(t)["primary_key"].(string), r.JSON(t)["secondary_key"].(string)
	if created.ID != "app" || len(created.PrimaryKey) != 64 || len(created.SecondaryKey) != 64 || created.TokenLifetime != 600 ||
		r.Header.Get("Location") != "/admin/v1/clients/app" || r.Header.Get("ETag") == "" {
		t.Fatalf("create: %v %s", r.Header, r.Body)
	}
	g := call(t, st, "GET", "/clients/app", "", root)
	want(t, "get", g, 200)
	if strings.Contains(g.Body, created.PrimaryKey) || strings.Contains(g.Body, "key_hash") || g.Header.Get("ETag") != r.Header.Get("ETag") {
		t.Fatalf("get: %v %s", g.Header, g.Body)
	}
	// Without an id, SkyKick's 32 hex digits.
	r = call(t, st, "POST", "/clients", `{"grant_types":[],"introspect":true}`, root)
	want(t, "create without id", r, 201)
	if id, _ := r.JSON(t)["id"].(string); len(id) != 32 {
		t.Fatalf("made id: %s", r.Body)
	}
	want(t, "taken", call(t, st, "POST", "/clients", `{"id":"app"}`, root), 409)
	for body, field := range map[string]string{
		`{"id":"a b"}`: "id",
		`{"id":"` + strings.Repeat("a", 129) + `"}`: "id",
		`{"id":".dot"}`:                             "id",
		`{"scopes":"Partner"}`:                      "scopes",
		`{"scopes":["has space"]}`:                  "scopes",
		`{"token_lifetime_seconds":10}`:             "token_lifetime_seconds",
		`{"token_lifetime_seconds":99999999999999}`: "token_lifetime_seconds",
		`{"token_lifetime_seconds":-1}`:             "token_lifetime_seconds",
		`{"token_lifetime_seconds":"1h"}`:           "token_lifetime_seconds",
		`{"grant_types":["password"]}`:              "grant_types",
		`{"token_format":"xml"}`:                    "token_format",
		`{"description":"a\u0001b"}`:                "description",
		`{"primary_key":"short"}`:                   "primary_key",
		`{"disabled":true}`:                         "",
		`{"id":`:                                    "",
		``:                                          "",
	} {
		wantField(t, "create "+body, call(t, st, "POST", "/clients", body, root), field)
	}

	// The list: paged by id, filtered; "clients" repeats the page for scripts of the unpaged list.
	want(t, "disable the made one", call(t, st, "POST", "/clients/"+r.JSON(t)["id"].(string)+"/disable", "", root), 204)
	l, next := items(t, call(t, st, "GET", "/clients?limit=1", "", root))
	if len(l) != 1 || next == "" {
		t.Fatalf("page 1: %v %q", l, next)
	}
	l2, next2 := items(t, call(t, st, "GET", next, "", root))
	if len(l2) != 1 || next2 != "" || l2[0]["id"] == l[0]["id"] {
		t.Fatalf("page 2: %v %q", l2, next2)
	}
	lr := call(t, st, "GET", "/clients?prefix=ap&disabled=false", "", root)
	var both struct{ Items, Clients []map[string]any }
	json.Unmarshal([]byte(lr.Body), &both)
	if len(both.Items) != 1 || both.Items[0]["id"] != "app" || len(both.Clients) != 1 || both.Clients[0]["id"] != "app" {
		t.Fatalf("prefix and disabled: %s", lr.Body)
	}
	if l, _ := items(t, call(t, st, "GET", "/clients?disabled=true", "", root)); len(l) != 1 || l[0]["id"] == "app" {
		t.Fatalf("disabled=true: %v", l)
	}
	for _, bad := range []string{"?disabled=maybe", "?prefix=" + strings.Repeat("p", 129), "?limit=501", "?cursor=e30x"} {
		want(t, "list "+bad, call(t, st, "GET", "/clients"+bad, "", root), 400)
	}

	// Edits.
	etag := g.Header.Get("ETag")
	want(t, "patch without If-Match", call(t, st, "PATCH", "/clients/app", `{"scopes":["Partner"]}`, root), 428)
	r = call(t, st, "PATCH", "/clients/app", `{"scopes":["Partner"],"require_subscription_key":true}`, root, "If-Match", etag)
	want(t, "patch", r, 200)
	if sc, _ := r.JSON(t)["scopes"].([]any); len(sc) != 1 || r.JSON(t)["require_subscription_key"] != true || r.Header.Get("ETag") == etag {
		t.Fatalf("patch: %s", r.Body)
	}
	want(t, "patch stale", call(t, st, "PATCH", "/clients/app", `{"disabled":true}`, root, "If-Match", etag), 412)
	if g := call(t, st, "GET", "/clients/app", "", root); g.JSON(t)["disabled"] != false {
		t.Fatal("a stale patch was written")
	}
	wantField(t, "patch bad scope", call(t, st, "PATCH", "/clients/app", `{"scopes":["a\"b"]}`, root, "If-Match", "*"), "scopes")
	wantField(t, "patch unknown field", call(t, st, "PATCH", "/clients/app", `{"id":"other"}`, root, "If-Match", "*"), "")
	wantField(t, "patch wrong type", call(t, st, "PATCH", "/clients/app", `{"disabled":"yes"}`, root, "If-Match", "*"), "disabled")
	want(t, "back to no subscription key", call(t, st, "PATCH", "/clients/app", `{"require_subscription_key":false}`, root, "If-Match", "*"), 200)

	// A new secret: the old one and its tokens die at once, the new one works, the other key is untouched.
	before, err := oauthToken(st, "app", created.PrimaryKey)
	if err != nil {
		t.Fatalf("a token with the primary key: %v", err)
	}
	r = call(t, st, "POST", "/clients/app/secret", "", root)
	want(t, "new secret", r, 200)
	fresh, _ := r.JSON(t)["key"].(string)
	if r.JSON(t)["slot"] != "primary" || len(fresh) != 64 || fresh == created.PrimaryKey {
		t.Fatalf("new secret: %s", r.Body)
	}
	var re *oauth2.RetrieveError
	if _, err := oauthToken(st, "app", created.PrimaryKey); !errors.As(err, &re) || re.Response.StatusCode != 401 {
		t.Fatalf("the old primary key: %v", err)
	}
	if tokenWorks(t, st, before) {
		t.Fatal("a token got with the old key still works")
	}
	after, err := oauthToken(st, "app", fresh)
	if err != nil || !tokenWorks(t, st, after) {
		t.Fatalf("the new primary key: %v", err)
	}
	if _, err := oauthToken(st, "app", created.SecondaryKey); err != nil {
		t.Fatalf("the secondary key after the primary's replacement: %v", err)
	}
	r = call(t, st, "POST", "/clients/app/secret", `{"slot":"secondary"}`, root)
	want(t, "new secondary", r, 200)
	if _, err := oauthToken(st, "app", created.SecondaryKey); err == nil {
		t.Fatal("the old secondary key still works")
	}
	wantField(t, "a third slot", call(t, st, "POST", "/clients/app/secret", `{"slot":"tertiary"}`, root), "slot")
	wantField(t, "secret with an unknown field", call(t, st, "POST", "/clients/app/secret", `{"slot":"primary","x":1}`, root), "")

	// Unknown and malformed ids: 404 on every route.
	for _, id := range []string{"nope", "a%20b", strings.Repeat("a", 129)} {
		for _, c := range [][3]string{{"GET", "", ""}, {"PATCH", "", `{"disabled":true}`}, {"DELETE", "", ""}, {"POST", "/secret", ""},
			{"POST", "/disable", ""}, {"POST", "/enable", ""}} {
			want(t, c[0]+" client "+id+c[1], call(t, st, c[0], "/clients/"+id+c[1], c[2], root, "If-Match", "*"), 404)
		}
	}

	// Operator only: a vendor gets 403 on every route, a read-only token on every change.
	ro, _ := createToken(t, st, root, `{"read_only":true}`)
	want(t, "read-only list", call(t, st, "GET", "/clients", "", bearer(ro)), 200)
	narrow, _ := createToken(t, st, root, `{"vendor":"simon0897"}`)
	for _, c := range [][3]string{{"GET", "/clients", ""}, {"POST", "/clients", `{"id":"x"}`}, {"GET", "/clients/app", ""},
		{"PATCH", "/clients/app", `{"disabled":true}`}, {"DELETE", "/clients/app", ""}, {"POST", "/clients/app/secret", ""},
		{"POST", "/clients/app/disable", ""}, {"POST", "/clients/app/enable", ""}} {
		want(t, "vendor "+c[0]+" "+c[1], call(t, st, c[0], c[1], c[2], simon, "If-Match", "*"), 403)
		want(t, "narrowed token "+c[0]+" "+c[1], call(t, st, c[0], c[1], c[2], bearer(narrow), "If-Match", "*"), 403)
		if c[0] != "GET" {
			want(t, "read-only "+c[0]+" "+c[1], call(t, st, c[0], c[1], c[2], bearer(ro), "If-Match", "*"), 403)
		}
	}

	// Delete: the client and its tokens.
	if _, err := st.Store.GetAccessToken(context.Background(), tokenIDOf(after)); err != nil {
		t.Fatalf("the live token is not stored as expected: %v", err)
	}
	want(t, "delete", call(t, st, "DELETE", "/clients/app", "", root), 204)
	if tokenWorks(t, st, after) {
		t.Fatal("a deleted client's token still works")
	}
	if _, err := st.Store.GetAccessToken(context.Background(), tokenIDOf(after)); err == nil {
		t.Fatal("a deleted client's token is still stored")
	}
	want(t, "get deleted", call(t, st, "GET", "/clients/app", "", root), 404)
	if _, err := oauthToken(st, "app", fresh); err == nil {
		t.Fatal("a deleted client gets tokens")
	}

	var actions []string
	for _, e := range st.AuditLog(t) {
		if strings.HasPrefix(e.Action, "admin.client.") && e.Actor == "root" && e.Subject == "app" {
			actions = append([]string{e.Action}, actions...)
		}
	}
	wantActions := "admin.client.create admin.client.edit admin.client.edit admin.client.regenerate_key admin.client.regenerate_key admin.client.remove"
	if strings.Join(actions, " ") != wantActions {
		t.Fatalf("audit of app by root: %v, want %s", actions, wantActions)
	}
}

// tokenIDOf is the storage id of an opaque access token: the hex SHA-256 of it.
func tokenIDOf(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}
