package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hooklift/gowsdl/soap"

	"github.com/tokenmanager/tokenmanager/e2e/gowsdlclient/tokenlogout"
	"github.com/tokenmanager/tokenmanager/e2e/gowsdlclient/tokenmanager"
)

// TestGowsdlClient drives the server with the Go client gowsdl generated from our WSDL (e2e/gowsdlclient).
func TestGowsdlClient(t *testing.T) {
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := tokenmanager.NewTokenManagerService(soap.NewClient(srv.URL+"/security/TokenManagerService",
		soap.WithBasicAuth(adminUser, srv.AdminPassword), soap.WithTimeout(10*time.Second)))

	exp, err := client.GetAccessExpiringTokenContext(ctx, &tokenmanager.GetAccessExpiringToken{TokenLifeInMinutes: 60})
	if err != nil || exp.Return_ == nil {
		t.Fatalf("getAccessExpiringToken: %v", err)
	}
	srv.mustVerify(t, "gowsdl expiring token", exp.Return_.Token, exp.Return_.Session, adminUser, "expiring")
	srv.mustReject(t, "gowsdl expiring token without SESSION", exp.Return_.Token, "")

	sess, err := client.GetAccessSessionTokenContext(ctx, &tokenmanager.GetAccessSessionToken{})
	if err != nil || sess.Return_ == nil || sess.Return_.Session == "" {
		t.Fatalf("getAccessSessionToken: %v", err)
	}
	srv.mustVerify(t, "gowsdl session token", sess.Return_.Token, sess.Return_.Session, adminUser, "session")

	open, err := client.GetAccessTokenContext(ctx, &tokenmanager.GetAccessToken{})
	if err != nil || open.Return_ == nil || open.Return_.Session != "" || open.Return_.Username != adminUser {
		t.Fatalf("getAccessToken: %+v, %v", open, err)
	}
	srv.mustVerify(t, "gowsdl open token", open.Return_.Token, "", adminUser, "open")

	// A wrong password: gowsdl surfaces any status >= 400 as an HTTPError.
	bad := tokenmanager.NewTokenManagerService(soap.NewClient(srv.URL+"/security/TokenManagerService", soap.WithBasicAuth(adminUser, "wrong")))
	if _, err := bad.GetAccessTokenContext(ctx, &tokenmanager.GetAccessToken{}); err == nil {
		t.Fatal("wrong password accepted")
	} else if he, ok := err.(*soap.HTTPError); !ok || he.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %v, want HTTP 401", err)
	}

	// Logout through the generated TokenLogoutService client, authenticated by the token and SESSION cookie.
	lo := tokenlogout.NewTokenLogoutService(soap.NewClient(srv.URL+"/security/TokenLogoutService",
		soap.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + sess.Return_.Token, "Cookie": "SESSION=" + sess.Return_.Session})))
	if _, err := lo.LogoutContext(ctx, &tokenlogout.Logout{}); err != nil {
		t.Fatalf("logout: %v", err)
	}
	srv.mustReject(t, "gowsdl session token after logout", sess.Return_.Token, sess.Return_.Session)
	srv.mustVerify(t, "open token after another token's logout", open.Return_.Token, "", adminUser, "open")
}
