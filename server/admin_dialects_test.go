package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// TestAdminOverAPIClientsAndPowerAuth: an administrator lists and stops the other token kinds over /admin/v1;
// what it stops stops working at once.
func TestAdminOverAPIClientsAndPowerAuth(t *testing.T) {
	st := newOAuthStack(t, oauthSetup{}, servertest.WithAdmin(t), withPowerAuth(powerauth.Config{}, nil))
	c := st.client(t, apiclient.Spec{ID: "app", Scopes: []string{"Partner"}})
	oauthTok := st.mustToken(t, "app", c.PrimaryKey, "Partner")
	bearer := func() int {
		return servertest.Send(t, "GET", st.URL+"/oauth2/verify", "", http.Header{"Authorization": {"Bearer " + oauthTok}}).Status
	}
	if bearer() != 200 {
		t.Fatal("the OAuth token does not work to begin with")
	}

	var clients struct{ Clients []map[string]any }
	r := st.AdminCall(t, "GET", "/clients", servertest.RootBasic)
	if r.Status != 200 || json.Unmarshal([]byte(r.Body), &clients) != nil || len(clients.Clients) != 1 || clients.Clients[0]["id"] != "app" {
		t.Fatalf("clients: %d %s", r.Status, r.Body)
	}
	for k := range clients.Clients[0] {
		if k == "primary_key_hash" || k == "PrimaryKeyHash" {
			t.Fatal("the listing shows key hashes")
		}
	}
	var tokens struct {
		Tokens []struct{ ID string } `json:"items"`
	}
	json.Unmarshal([]byte(st.AdminCall(t, "GET", "/oauth-tokens?client_id=app&live=true", servertest.RootBasic).Body), &tokens)
	if len(tokens.Tokens) != 1 {
		t.Fatalf("app's live OAuth tokens: %+v", tokens)
	}
	if r := st.AdminCall(t, "DELETE", "/oauth-tokens/"+tokens.Tokens[0].ID, servertest.RootBasic); r.Status != 204 {
		t.Fatalf("revoke OAuth token: %d %s", r.Status, r.Body)
	}
	if bearer() != 401 {
		t.Fatal("a revoked OAuth token still works")
	}
	if r := st.AdminCall(t, "POST", "/clients/app/disable", servertest.RootBasic); r.Status != 204 {
		t.Fatalf("disable client: %d", r.Status)
	}
	if r := st.AdminCall(t, "POST", "/clients/nope/disable", servertest.RootBasic); r.Status != 404 {
		t.Fatalf("disable unknown client: %d", r.Status)
	}

	// PowerAuth: block an activation, and its token dies.
	dev := st.paNewDevice(t)
	var acts struct {
		Activations []struct{ ID, User, Status string } `json:"items"`
	}
	json.Unmarshal([]byte(st.AdminCall(t, "GET", "/powerauth/activations?user=simon0897", servertest.RootBasic).Body), &acts)
	if len(acts.Activations) != 1 || acts.Activations[0].Status != "active" {
		t.Fatalf("activations: %+v", acts)
	}
	var paTokens struct {
		Tokens []struct{ ID string } `json:"items"`
	}
	json.Unmarshal([]byte(st.AdminCall(t, "GET", "/powerauth/tokens?activation="+dev.ActivationID, servertest.RootBasic).Body), &paTokens)
	if len(paTokens.Tokens) != 1 || paTokens.Tokens[0].ID != dev.TokenID {
		t.Fatalf("PowerAuth tokens: %+v", paTokens)
	}
	if r := st.AdminCall(t, "POST", "/powerauth/activations/"+dev.ActivationID+"/block", servertest.RootBasic); r.Status != 204 {
		t.Fatalf("block: %d %s", r.Status, r.Body)
	}
	st.mustPARefuse(t, "a token of a blocked activation", dev.header(t, st.Clock.Now(), "3.1"))
	if r := st.AdminCall(t, "POST", "/powerauth/activations/"+dev.ActivationID+"/block", servertest.RootBasic); r.Status != 409 {
		t.Fatalf("block twice: %d", r.Status)
	}
	if r := st.AdminCall(t, "DELETE", "/powerauth/tokens/"+dev.TokenID, servertest.RootBasic); r.Status != 404 {
		t.Fatalf("the blocked activation's token should be gone already: %d", r.Status)
	}

	// Only administrators.
	if r := st.AdminCall(t, "GET", "/clients", map[string]string{"Authorization": servertest.Basic("paul1234", "pa55")}); r.Status != 403 {
		t.Fatalf("a plain user on /admin/v1/clients: %d", r.Status)
	}
	var actions []string
	issued := map[string]string{}
	for _, e := range st.AuditLog(t) {
		if e.Actor == "root" {
			actions = append([]string{e.Action}, actions...)
		}
		if e.Action == "token.issue" {
			issued[e.Actor] += strings.Fields(e.Detail)[0]
		}
	}
	if issued["app"] != "kind=oauth" || issued["simon0897"] != "kind=powerauth" {
		t.Errorf("issuance audit events by actor: %v", issued)
	}
	want := []string{"admin.oauth_token.revoke", "admin.client.disable", "admin.powerauth_activation.block"}
	if len(actions) != len(want) {
		t.Fatalf("admin audit events %v, want %v", actions, want)
	}
	for i := range want {
		if actions[i] != want[i] {
			t.Fatalf("admin audit events %v, want %v", actions, want)
		}
	}
}

// TestRevokeUserTakesPowerAuthTokensToo: "every token of a user" includes the MAC tokens of their devices.
func TestRevokeUserTakesPowerAuthTokensToo(t *testing.T) {
	st := newStack(t, servertest.WithAdmin(t), withPowerAuth(powerauth.Config{}, nil))
	dev := st.paNewDevice(t)
	r := st.AdminCall(t, "POST", "/users/simon0897/revoke-tokens", servertest.RootBasic)
	if r.Status != 200 || r.JSON(t)["powerauth_tokens_removed"] != float64(1) {
		t.Fatalf("revoke-tokens: %d %s", r.Status, r.Body)
	}
	st.mustPARefuse(t, "a MAC token after revoke-tokens", dev.header(t, st.Clock.Now(), "3.1"))
}
