//go:build unix

package server_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// BenchmarkOAuthIntrospect is the server's own work for one RFC 7662 introspection of a live opaque access token
// by a resource server (a client that may introspect any token), on SQLite read through the cache as `serve`
// does; the handler is called directly, as in BenchmarkLicensingPaths.
func BenchmarkOAuthIntrospect(b *testing.B) {
	ctx := context.Background()
	var svc *apiclient.Service
	st := servertest.NewStack(b, func(su *servertest.Setup) {
		su.Wire = append(su.Wire, func(st *servertest.Stack, d *server.Deps) {
			svc = apiclient.New(st.Store, apiclient.Config{}, st.Clock.Now)
			d.OAuth = server.OAuthDeps{Clients: svc}
		})
	})
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	app, err := svc.Create(ctx, apiclient.Spec{Scopes: []string{"Partner"}, TokenFormat: apiclient.FormatOpaque})
	must(err)
	rs, err := svc.Create(ctx, apiclient.Spec{GrantTypes: []string{}, Introspect: true})
	must(err)
	a, err := svc.Authenticate(ctx, app.Client.ID, app.PrimaryKey)
	must(err)
	tok, err := svc.Issue(ctx, a, "Partner")
	must(err)
	form := "token=" + tok.Token
	authz := clientBasic(rs.Client.ID, rs.PrimaryKey)
	introspect := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", server.PathOAuthIntrospect, strings.NewReader(form))
		r.Header.Set("Content-Type", formType)
		r.Header.Set("Authorization", authz)
		w := httptest.NewRecorder()
		st.Server.ServeHTTP(w, r)
		return w
	}
	if w := introspect(); w.Code != 200 || !strings.Contains(w.Body.String(), `"active":true`) {
		b.Fatalf("introspect: HTTP %d %s", w.Code, w.Body)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		if w := introspect(); w.Code != 200 {
			b.Fatalf("introspect: HTTP %d %s", w.Code, w.Body)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}
