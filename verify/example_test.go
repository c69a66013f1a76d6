package verify_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/tokenmanager/tokenmanager/verify"
)

// exampleServer starts a real tokenmanager server in this process for the examples, with an API client
// "reports" whose tokens are JWTs, and returns its URL and a token of that client.
func exampleServer() (string, string, func()) {
	tb := &exampleTB{}
	ts := newTokenServer(tb)
	return ts.URL, ts.accessToken(tb, "reports", "Reports"), tb.close
}

// A resource server checks an API client's JWT access token offline, through the server's JWKS.
func ExampleVerifier_AccessToken() {
	baseURL, accessToken, stop := exampleServer()
	defer stop()

	v, err := verify.New(baseURL, verify.Options{})
	if err != nil {
		panic(err)
	}
	id, err := v.AccessToken(context.Background(), accessToken)
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	fmt.Println(id.Subject, id.Kind, id.Scopes, id.Client())
	// Output: reports oauth [Reports] true
}

// The middleware protects a handler: only requests with a token granted the scope Reports get through, and
// the handler finds who made them in the context.
func ExampleVerifier_Middleware() {
	baseURL, accessToken, stop := exampleServer()
	defer stop()

	v, _ := verify.New(baseURL, verify.Options{})
	reports := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := verify.FromContext(r.Context())
		fmt.Fprintf(w, "reports for %s", id.Subject)
	})
	srv := httptest.NewServer(v.Middleware(verify.Require{Scopes: []string{"Reports"}})(reports))
	defer srv.Close()

	for _, authz := range []string{"", "Bearer " + accessToken} {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(res.StatusCode, res.Header.Get("WWW-Authenticate"), string(body))
	}
	// Output:
	// 401 Bearer realm="tokenmanager" {}
	//
	// 200  reports for reports
}
