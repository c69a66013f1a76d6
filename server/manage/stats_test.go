package manage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/usage"
)

type statsBody struct {
	Hours, Days int
	Live        *struct {
		Tokens, Sessions int
		OAuthTokens      int `json:"oauth_tokens"`
		PowerAuthTokens  int `json:"powerauth_tokens"`
	}
	TokensPerHour []struct {
		Hour                                           time.Time
		Session, Expiring, Open, OAuth, PowerAuth, App int64
	} `json:"tokens_per_hour"`
	ActivationsPerDay *struct {
		Days     []string
		Products []struct {
			ID     int64
			Name   string
			Vendor string
			Total  int64
			Counts []int64
		}
	} `json:"activations_per_day"`
	SignInsPerHour []struct {
		Hour              time.Time
		Failed, Throttled int64
	} `json:"signins_per_hour"`
}

func readStats(t *testing.T, r servertest.Response) statsBody {
	t.Helper()
	want(t, "stats", r, 200)
	var s statsBody
	dec := json.NewDecoder(strings.NewReader(r.Body))
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("stats %s: %v", r.Body, err)
	}
	return s
}

// statsStack is the licensing stack with API clients and a throttle that refuses an account's second failure.
func statsStack(t *testing.T) (*servertest.CLStack, *apiclient.Service) {
	var clients *apiclient.Service
	st := servertest.NewCLStack(t, servertest.WithAdmin(t),
		servertest.WithThrottle(auth.ThrottleConfig{AccountBurst: 1, AccountEvery: time.Hour, AddressBurst: 100, AddressEvery: time.Second}),
		func(su *servertest.Setup) {
			su.Wire = append(su.Wire, func(s *servertest.Stack, d *server.Deps) {
				clients = apiclient.New(s.Store, apiclient.Config{}, s.Clock.Now)
				d.OAuth = server.OAuthDeps{Clients: clients}
			})
		})
	return st, clients
}

// TestStatsAfterIssuance: tokens of every kind issued over HTTP, an activation through /api/key/Activate, a
// failed and a throttled sign-in all show in GET /stats at once (this node's counts not yet flushed included)
// and once after the counter has flushed, only in the current hour and day; the live figures are those of /metrics.
func TestStatsAfterIssuance(t *testing.T) {
	st, clients := statsStack(t)
	ctx := context.Background()
	simon := servertest.Basic("simon0897", "s3cret")
	for _, path := range []string{"/security/rest/token/access/session/0", "/security/rest/token/access/session/30", "/security/rest/token/access/30"} {
		if r := servertest.Do(t, "GET", st.URL+path, "", map[string]string{"Authorization": simon}); r.Status != 200 {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
	}
	c, err := clients.Create(ctx, apiclient.Spec{Description: "stats"})
	if err != nil {
		t.Fatal(err)
	}
	r := servertest.Send(t, "POST", st.URL+server.PathSkyKickToken, "grant_type=client_credentials",
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Authorization": {servertest.Basic(c.Client.ID, c.PrimaryKey)}})
	if r.Status != 200 {
		t.Fatalf("OAuth token: %d %s", r.Status, r.Body)
	}
	key := st.NewKey(t, license.KeySpec{MaxNoOfMachines: 2})
	tok := st.Token(t, license.TokenSpec{})
	servertest.MustOK(t, "activate", st.Post(t, "key/Activate", st.Form(tok, st.Product.ID, key.Key, "MachineCode", "m1")))
	servertest.MustOK(t, "activate again", st.Post(t, "key/Activate", st.Form(tok, st.Product.ID, key.Key, "MachineCode", "m1"))) // the same seat
	// A wrong password, then the throttle's refusal.
	want(t, "wrong password", call(t, st, "GET", "/me", "", map[string]string{"Authorization": servertest.Basic("paul1234", "wrong")}), 401)
	want(t, "throttled", call(t, st, "GET", "/me", "", map[string]string{"Authorization": servertest.Basic("paul1234", "wrong")}), 429)

	// Before the flush the database holds none of them, yet the answer has them: this node's counts in memory.
	if c, err := st.Store.ListUsageCounts(ctx, storage.UsageFilter{Kinds: []string{"token.session", usage.KindActivation}}); err != nil || len(c) != 0 {
		t.Fatalf("in the database before the flush: %v %v", c, err)
	}
	before := readStats(t, call(t, st, "GET", "/stats?hours=2&days=2", "", root))
	if h := before.TokensPerHour[1]; h.Session != 1 || h.Expiring != 1 || h.Open != 1 || h.OAuth != 1 {
		t.Fatalf("not counted before the flush: %+v", h)
	}
	if a := before.ActivationsPerDay; len(a.Products) != 1 || a.Products[0].Total != 1 {
		t.Fatalf("activations before the flush: %+v", a)
	}
	if err := st.Usage.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Audit.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	s := readStats(t, call(t, st, "GET", "/stats?hours=2&days=2", "", root))
	if s.Hours != 2 || s.Days != 2 || len(s.TokensPerHour) != 2 || len(s.SignInsPerHour) != 2 {
		t.Fatalf("shape: %+v", s)
	}
	now := st.Clock.Now().UTC()
	if h := s.TokensPerHour[1]; !h.Hour.Equal(now.Truncate(time.Hour)) || h.Session != 1 || h.Expiring != 1 || h.Open != 1 || h.OAuth != 1 {
		t.Fatalf("this hour's tokens: %+v", h)
	}
	if h := s.TokensPerHour[0]; h.Session+h.Expiring+h.Open+h.OAuth != 0 || !h.Hour.Equal(now.Truncate(time.Hour).Add(-time.Hour)) {
		t.Fatalf("the hour before: %+v", h)
	}
	if h := s.SignInsPerHour[1]; h.Failed != 1 || h.Throttled != 1 {
		t.Fatalf("this hour's sign-ins: %+v", h)
	}
	a := s.ActivationsPerDay
	if len(a.Days) != 2 || a.Days[1] != now.Format(time.DateOnly) || len(a.Products) != 1 {
		t.Fatalf("activations: %+v", a)
	}
	if p := a.Products[0]; p.ID != st.Product.ID || p.Name != st.Product.Name || p.Vendor != "simon0897" || p.Total != 1 || fmt.Sprint(p.Counts) != "[0 1]" {
		t.Fatalf("the product's activations: %+v", p)
	}
	if s.Live == nil || s.Live.Tokens != 3 || s.Live.Sessions != 2 || s.Live.OAuthTokens != 1 || s.Live.PowerAuthTokens != 0 {
		t.Fatalf("live: %+v", s.Live)
	}

	// A second flush adds only what was counted since.
	if err := st.Usage.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if s := readStats(t, call(t, st, "GET", "/stats?hours=1", "", root)); len(s.TokensPerHour) != 1 || s.TokensPerHour[0].Session != 1 {
		t.Fatalf("after a second flush: %+v", s.TokensPerHour)
	}
}

// TestStatsTenancy: a vendor account sees its own products' activations and nothing else; another vendor's
// product is 404, the charts that cover every vendor 403.
func TestStatsTenancy(t *testing.T) {
	st, _ := statsStack(t)
	ctx := context.Background()
	pauls := st.NewProduct(t, "paul1234")
	for _, p := range []storage.Product{st.Product, pauls} {
		k := st.NewKeyIn(t, p.ID, license.KeySpec{MaxNoOfMachines: 5})
		for _, m := range []string{"a", "b"} {
			if _, err := st.Svc.Activate(ctx, license.Admin(), license.ActivateRequest{ProductID: p.ID, Key: k.Key, MachineCode: m}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := st.Usage.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	products := func(who map[string]string, query string) map[int64]int64 {
		t.Helper()
		s := readStats(t, call(t, st, "GET", "/stats"+query, "", who))
		if who["Authorization"] != root["Authorization"] && (s.Live != nil || s.TokensPerHour != nil || s.SignInsPerHour != nil) {
			t.Fatalf("a vendor sees operator-wide figures: %+v", s)
		}
		out := map[int64]int64{}
		for _, p := range s.ActivationsPerDay.Products {
			out[p.ID] = p.Total
			if who["Authorization"] != root["Authorization"] && p.Vendor != "" {
				t.Fatalf("vendor named to a vendor: %+v", p)
			}
		}
		return out
	}
	if got := products(root, ""); got[st.Product.ID] != 2 || got[pauls.ID] != 2 || len(got) != 2 {
		t.Fatalf("operator: %v", got)
	}
	if got := products(simon, ""); got[st.Product.ID] != 2 || len(got) != 1 {
		t.Fatalf("simon: %v", got)
	}
	if got := products(paul, ""); got[pauls.ID] != 2 || len(got) != 1 {
		t.Fatalf("paul: %v", got)
	}
	if got := products(simon, fmt.Sprintf("?product=%d", st.Product.ID)); got[st.Product.ID] != 2 || len(got) != 1 {
		t.Fatalf("simon, his product: %v", got)
	}
	if got := products(root, fmt.Sprintf("?product=%d", pauls.ID)); len(got) != 1 || got[pauls.ID] != 2 {
		t.Fatalf("operator, paul's product: %v", got)
	}
	want(t, "simon asks for paul's product", call(t, st, "GET", fmt.Sprintf("/stats?product=%d", pauls.ID), "", simon), 404)
	want(t, "simon asks for paul's product's chart", call(t, st, "GET", fmt.Sprintf("/stats/charts/activations-per-day.svg?product=%d", pauls.ID), "", simon), 404)
	want(t, "no such product", call(t, st, "GET", "/stats?product=999999", "", root), 404)
	for _, c := range []string{"tokens-per-hour.svg", "signins-per-hour.svg"} {
		want(t, "simon asks for "+c, call(t, st, "GET", "/stats/charts/"+c, "", simon), 403)
	}
	r := call(t, st, "GET", "/stats/charts/activations-per-day.svg", "", simon)
	if r.Status != 200 || strings.Contains(r.Body, pauls.Name) || !strings.Contains(r.Body, st.Product.Name) {
		t.Fatalf("simon's chart: %d %s", r.Status, r.Body)
	}
	want(t, "no credentials", call(t, st, "GET", "/stats", "", nil), 401)
	want(t, "no credentials, chart", call(t, st, "GET", "/stats/charts/activations-per-day.svg", "", nil), 401)
}

// TestStatsBadInput: every bad parameter is 400 naming it; an unknown chart is 404.
func TestStatsBadInput(t *testing.T) {
	st, _ := statsStack(t)
	for q, field := range map[string]string{
		"hours=0": "hours", "hours=721": "hours", "hours=x": "hours", "hours=": "hours", "hours=1e3": "hours",
		"days=0": "days", "days=367": "days", "days=-1": "days",
		"product=0": "product", "product=abc": "product", "product=99999999999999999999": "product",
	} {
		for _, path := range []string{"/stats", "/stats/charts/activations-per-day.svg"} {
			r := call(t, st, "GET", path+"?"+q, "", root)
			want(t, path+"?"+q, r, 400)
			if f, _ := r.JSON(t)["field"].(string); f != field {
				t.Errorf("%s?%s: field %q, want %q", path, q, f, field)
			}
		}
	}
	want(t, "unknown chart", call(t, st, "GET", "/stats/charts/secrets.svg", "", root), 404)
	// The bounds themselves are fine.
	s := readStats(t, call(t, st, "GET", "/stats?hours=720&days=366", "", root))
	if len(s.TokensPerHour) != 720 || len(s.SignInsPerHour) != 720 || len(s.ActivationsPerDay.Days) != 366 {
		t.Fatalf("at the bounds: %d hours, %d days", len(s.TokensPerHour), len(s.ActivationsPerDay.Days))
	}
}

// TestStatsCharts: each chart is well-formed SVG served as image/svg+xml under a CSP that allows nothing to be
// loaded, with a title and the figures in its description; a product named with markup is escaped; an empty
// history says so; the ETag answers 304.
func TestStatsCharts(t *testing.T) {
	st, _ := statsStack(t)
	ctx := context.Background()
	for _, c := range []string{"tokens-per-hour.svg", "activations-per-day.svg", "signins-per-hour.svg"} {
		r := call(t, st, "GET", "/stats/charts/"+c+"?hours=24&days=7", "", root)
		title, desc := checkSVG(t, c, r)
		if title == "" || !strings.Contains(desc, "no data yet") || !strings.Contains(r.Body, "No data yet") {
			t.Errorf("%s, empty: title %q desc %q", c, title, desc)
		}
	}
	evil, err := st.Svc.CreateProduct(ctx, license.Admin(), "simon0897", license.ProductSpec{Name: `<script>&"`})
	if err != nil {
		t.Fatal(err)
	}
	k := st.NewKeyIn(t, evil.ID, license.KeySpec{MaxNoOfMachines: 3})
	for _, m := range []string{"a", "b", "c"} {
		if _, err := st.Svc.Activate(ctx, license.Admin(), license.ActivateRequest{ProductID: evil.ID, Key: k.Key, MachineCode: m}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Usage.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r := call(t, st, "GET", "/stats/charts/activations-per-day.svg?days=7", "", root)
	title, desc := checkSVG(t, "activations", r)
	if title != "License activations per day" || !strings.Contains(desc, `<script>&": 3 activations in all`) {
		t.Fatalf("title %q desc %q", title, desc)
	}
	if strings.Contains(r.Body, "<script") || !strings.Contains(r.Body, "&lt;script&gt;&amp;&#34;") {
		t.Fatal("the product's name is not escaped")
	}
	etag := r.Header.Get("ETag")
	if etag == "" || r.Header.Get("Cache-Control") != "private, no-cache" {
		t.Fatalf("caching headers: %v", r.Header)
	}
	if r := call(t, st, "GET", "/stats/charts/activations-per-day.svg?days=7", "", root, "If-None-Match", etag); r.Status != 304 || r.Body != "" {
		t.Fatalf("If-None-Match: %d %q", r.Status, r.Body)
	}
	if r := call(t, st, "GET", "/stats/charts/activations-per-day.svg?days=6", "", root, "If-None-Match", etag); r.Status != 200 {
		t.Fatalf("another query, the old ETag: %d", r.Status)
	}
	j := call(t, st, "GET", "/stats", "", root)
	if r := call(t, st, "GET", "/stats", "", root, "If-None-Match", j.Header.Get("ETag")); r.Status != 304 {
		t.Fatalf("stats If-None-Match: %d", r.Status)
	}
}

// checkSVG checks a chart's answer and that it parses as XML with an svg root, returning its title and desc.
func checkSVG(t *testing.T, what string, r servertest.Response) (title, desc string) {
	t.Helper()
	if r.Status != 200 || r.Header.Get("Content-Type") != "image/svg+xml" ||
		r.Header.Get("Content-Security-Policy") != "default-src 'none'" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("%s: %d %v", what, r.Status, r.Header)
	}
	if len(r.Body) > 512<<10 {
		t.Fatalf("%s: %d bytes", what, len(r.Body))
	}
	d := xml.NewDecoder(bytes.NewReader([]byte(r.Body)))
	var stack []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well-formed: %v", what, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 && (tok.Name.Local != "svg" || tok.Name.Space != "http://www.w3.org/2000/svg") {
				t.Fatalf("%s: root %v", what, tok.Name)
			}
			stack = append(stack, tok.Name.Local)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 2 && stack[1] == "title" {
				title += string(tok)
			}
			if len(stack) == 2 && stack[1] == "desc" {
				desc += string(tok)
			}
		}
	}
	return title, desc
}
