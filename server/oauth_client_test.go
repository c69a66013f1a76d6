package server_test

// A real OAuth 2.0 client: golang.org/x/oauth2/clientcredentials fetches tokens from our endpoints and its
// http.Client uses them against the bearer route.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/server"
)

// headerTransport adds fixed headers to every request (the SkyKick subscription key).
type headerTransport struct {
	base http.RoundTripper
	h    http.Header
}

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, vs := range t.h {
		r.Header[k] = vs
	}
	return t.base.RoundTrip(r)
}

// useToken GETs the bearer route through c and returns the client id it answers with.
func useToken(t *testing.T, c *http.Client, base, query string) (int, string) {
	t.Helper()
	resp, err := c.Get(base + server.PathOAuthVerify + query)
	if err != nil {
		t.Fatalf("GET with the oauth2 client: %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
	}
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &body)
	return resp.StatusCode, body.ClientID + "|" + body.Scope
}

func TestOAuth2ClientCredentialsLibrary(t *testing.T) {
	st, c := plainStack(t)
	styles := map[string]oauth2.AuthStyle{
		"AuthStyleInHeader":   oauth2.AuthStyleInHeader,
		"AuthStyleInParams":   oauth2.AuthStyleInParams,
		"AuthStyleAutoDetect": oauth2.AuthStyleAutoDetect,
	}
	for name, style := range styles {
		for _, tokenPath := range []string{server.PathSkyKickToken, server.PathOAuthToken} {
			t.Run(name+tokenPath, func(t *testing.T) {
				cfg := clientcredentials.Config{
					ClientID: "app", ClientSecret: c.SecondaryKey, TokenURL: st.URL + tokenPath, AuthStyle: style,
					// SkyKick clients put the scope in the form themselves.
					EndpointParams: url.Values{"scope": {"Distributor"}},
				}
				ctx := context.Background()
				tok, err := cfg.Token(ctx)
				if err != nil {
					t.Fatalf("Token: %v", err)
				}
				if tok.TokenType != "Bearer" || !tok.Valid() || tok.RefreshToken != "" || tok.Expiry.IsZero() {
					t.Fatalf("token %+v", tok)
				}
				status, who := useToken(t, cfg.Client(ctx), st.URL, "?scope=Distributor")
				if status != http.StatusOK || who != "app|Distributor" {
					t.Fatalf("using the token: %d %s", status, who)
				}
			})
		}
	}

	// The library's own Scopes field (joined with spaces), and a failure it reports as a RetrieveError.
	cfg := clientcredentials.Config{ClientID: "app", ClientSecret: c.PrimaryKey, TokenURL: st.URL + server.PathOAuthToken,
		Scopes: []string{"Partner", "Distributor"}, AuthStyle: oauth2.AuthStyleInHeader}
	if status, who := useToken(t, cfg.Client(context.Background()), st.URL, "?scope=Partner+Distributor"); status != http.StatusOK || who != "app|Partner Distributor" {
		t.Fatalf("Scopes field: %d %s", status, who)
	}
	cfg.Scopes = []string{"Unknown"}
	_, err := cfg.Token(context.Background())
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_scope" || re.Response.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown scope: %v", err)
	}
	cfg.Scopes, cfg.ClientSecret = nil, "wrong"
	if _, err := cfg.Token(context.Background()); !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
		t.Fatalf("wrong secret: %v", err)
	}
}

func TestOAuth2LibraryWithSubscriptionKey(t *testing.T) {
	st := newOAuthStack(t, oauthSetup{})
	c := st.client(t, apiclient.Spec{ID: skUser, PrimaryKey: skKey, Scopes: []string{"Partner"}, RequireSubscriptionKey: true})
	cfg := clientcredentials.Config{ClientID: skUser, ClientSecret: c.PrimaryKey, TokenURL: st.URL + server.PathSkyKickToken,
		EndpointParams: url.Values{"scope": {"Partner"}}, AuthStyle: oauth2.AuthStyleInHeader}

	// Without the header the library gets APIM's 401 and reports it.
	if _, err := cfg.Token(context.Background()); err == nil {
		t.Fatal("token without Ocp-Apim-Subscription-Key")
	}
	// With it on every request (token endpoint and API calls alike), as SkyKick's documentation says.
	withKey := &http.Client{Transport: headerTransport{base: http.DefaultTransport, h: http.Header{"Ocp-Apim-Subscription-Key": {skKey}}}}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, withKey)
	status, who := useToken(t, cfg.Client(ctx), st.URL, "")
	if status != http.StatusOK || who != skUser+"|Partner" {
		t.Fatalf("SkyKick flow through x/oauth2: %d %s", status, who)
	}
}
