package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// scenario is one measured figure: setup returns the request its workers send.
type scenario struct {
	name   string
	server bool // needs the tokenmanager subprocess
	// full: runs on the store filled for P4 (the fill happens before the first of these).
	full bool
	// needs are scenarios whose figures this one uses (P4's empty-store figure, P5's peak): selecting this one
	// runs them too.
	needs []string
	// workers returns the scenario's concurrency; nil means --concurrency.
	workers func(o *options) int
	// rate returns the open-loop request rate from earlier results; nil means closed loop.
	rate  func(e *benchEnv) (float64, error)
	setup func(ctx context.Context, e *benchEnv) (*reqTemplate, error)
}

const soapGetAccessToken = `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:tok="http://token.security.common.server.platform.spectrum.pb.com/"><soapenv:Header/><soapenv:Body><tok:getAccessToken/></soapenv:Body></soapenv:Envelope>`

// Scenario names the targets refer to.
const (
	scBaseline          = "baseline"
	scSOAP              = "soap-getAccessToken"
	scVerify            = "verify-bearer"
	scVerifySession     = "verify-bearer-session"
	scForward           = "forward-bearer"
	scRESTSession       = "rest-session-token"
	scOAuthToken        = "oauth-client-credentials"
	scOAuthIntrospect   = "oauth-introspect"
	scCold              = "cold-issuance"
	fullSuffix          = "-full"
	halfPeakSuffix      = "-half-peak"
	halfPeakFraction    = 0.5
	defaultColdUsers    = 4000
	defaultFillTokens   = 1_000_000
	defaultFillSessions = 100_000
	defaultFillUsers    = 3000
)

// Setups shared by a scenario and its P4 and P5 twins.

func setupBaseline(_ context.Context, e *benchEnv) (*reqTemplate, error) {
	return &reqTemplate{Method: http.MethodGet, URL: e.baselineURL, Header: http.Header{}}, nil
}

func setupSOAP(_ context.Context, e *benchEnv) (*reqTemplate, error) {
	return &reqTemplate{
		Method: http.MethodPost,
		URL:    e.serverURL("/security/TokenManagerService"),
		Header: http.Header{
			"Content-Type":  {"text/xml; charset=utf-8"},
			"SOAPAction":    {`""`}, // sent with this exact spelling
			"Authorization": {e.basicAuth()},
		},
		Body: []byte(soapGetAccessToken),
	}, nil
}

func setupVerify(ctx context.Context, e *benchEnv) (*reqTemplate, error) {
	tok, err := e.fetchToken(ctx, "/security/rest/token/access/60", false)
	if err != nil {
		return nil, err
	}
	return &reqTemplate{
		Method: http.MethodGet,
		URL:    e.serverURL("/security/rest/token/verify"),
		Header: http.Header{"Authorization": {"Bearer " + tok.AccessToken}},
	}, nil
}

func setupVerifySession(ctx context.Context, e *benchEnv) (*reqTemplate, error) {
	tok, err := e.fetchToken(ctx, "/security/rest/token/access/session/0", true)
	if err != nil {
		return nil, err
	}
	return &reqTemplate{
		Method: http.MethodGet,
		URL:    e.serverURL("/security/rest/token/verify"),
		Header: http.Header{
			"Authorization": {"Bearer " + tok.AccessToken},
			"Cookie":        {"SESSION=" + tok.Session},
		},
	}, nil
}

// setupForward checks a Spectrum open token at the forward-auth endpoint, as nginx auth_request would.
func setupForward(ctx context.Context, e *benchEnv) (*reqTemplate, error) {
	tok, err := e.fetchToken(ctx, "/security/rest/token/access/60", false)
	if err != nil {
		return nil, err
	}
	return &reqTemplate{
		Method: http.MethodGet,
		URL:    e.serverURL("/auth/forward"),
		Header: http.Header{"Authorization": {"Bearer " + tok.AccessToken}},
	}, nil
}

func setupRESTSession(_ context.Context, e *benchEnv) (*reqTemplate, error) {
	return &reqTemplate{
		Method: http.MethodGet,
		URL:    e.serverURL("/security/rest/token/access/session/60"),
		Header: http.Header{"Authorization": {e.basicAuth()}},
	}, nil
}

func setupOAuthToken(ctx context.Context, e *benchEnv) (*reqTemplate, error) {
	c, err := e.oauthClient(ctx)
	if err != nil {
		return nil, err
	}
	return &reqTemplate{
		Method: http.MethodPost,
		URL:    e.serverURL("/oauth2/token"),
		Header: http.Header{
			"Content-Type":  {"application/x-www-form-urlencoded"},
			"Authorization": {c.basic},
		},
		Body: []byte("grant_type=client_credentials"),
	}, nil
}

// setupOAuthIntrospect introspects one of the client's own access tokens; the setup checks that the answer
// says active, since an inactive token is answered 200 too.
func setupOAuthIntrospect(ctx context.Context, e *benchEnv) (*reqTemplate, error) {
	c, err := e.oauthClient(ctx)
	if err != nil {
		return nil, err
	}
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Authorization": {c.basic}}
	body, err := e.post(ctx, "/oauth2/token", form, "grant_type=client_credentials")
	if err != nil {
		return nil, err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return nil, fmt.Errorf("POST /oauth2/token: no access_token in %.200s", body)
	}
	introspect := "token=" + url.QueryEscape(tok.AccessToken)
	body, err = e.post(ctx, "/oauth2/introspect", form, introspect)
	if err != nil {
		return nil, err
	}
	var answer struct {
		Active bool `json:"active"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || !answer.Active {
		return nil, fmt.Errorf("POST /oauth2/introspect: the token is not active: %.200s", body)
	}
	return &reqTemplate{Method: http.MethodPost, URL: e.serverURL("/oauth2/introspect"), Header: form, Body: []byte(introspect)}, nil
}

// setupCold creates users whose passwords the server has never verified, and sends each request as the next
// of them (REST open token with Basic), so every request pays one argon2id verification.
func setupCold(ctx context.Context, e *benchEnv) (*reqTemplate, error) {
	users, password, err := e.createColdUsers(ctx)
	if err != nil {
		return nil, err
	}
	var next atomic.Int64
	return &reqTemplate{
		Method: http.MethodGet,
		URL:    e.serverURL("/security/rest/token/access/60"),
		Vary: func() (http.Header, []byte, error) {
			i := next.Add(1) - 1
			if i >= int64(len(users)) {
				return nil, nil, fmt.Errorf("all %d fresh users used (raise --cold-users)", len(users))
			}
			return http.Header{"Authorization": {basic(users[i], password)}}, nil, nil
		},
	}, nil
}

// halfPeakOf is the P5 rate: half of the named scenario's measured req/s.
func halfPeakOf(name string) func(e *benchEnv) (float64, error) {
	return func(e *benchEnv) (float64, error) {
		sr, ok := e.results[name]
		if !ok || sr.Skipped != "" || sr.RPS <= 0 {
			return 0, fmt.Errorf("no peak figure from %s", name)
		}
		return halfPeakFraction * sr.RPS, nil
	}
}

func coldWorkers(o *options) int { return o.coldConcurrency }

// allScenarios is in run order; the baseline goes first.
var allScenarios = []scenario{
	{name: scBaseline, setup: setupBaseline},
	{name: scSOAP, server: true, setup: setupSOAP},
	{name: scVerify, server: true, setup: setupVerify},
	{name: scVerifySession, server: true, setup: setupVerifySession},
	{name: scForward, server: true, setup: setupForward},
	{name: scRESTSession, server: true, setup: setupRESTSession},
	{name: scOAuthToken, server: true, setup: setupOAuthToken},
	{name: scOAuthIntrospect, server: true, setup: setupOAuthIntrospect},
	// Licensing (scenarios_licensing.go).
	{name: scActivateSigned, server: true, setup: setupActivate(true)},
	{name: scActivate, server: true, setup: setupActivate(false)},
	{name: scGetKeyGet, server: true, setup: setupGetKey(http.MethodGet)},
	{name: scGetKeyPost, server: true, setup: setupGetKey(http.MethodPost)},
	{name: scWooValidate, server: true, setup: setupWooValidate},
	{name: scPowerAuthFwd, server: true, setup: setupPowerAuthForward},
	{name: scLicenseMix, server: true, needs: mixNeeds(), setup: setupLicenseMix},
	// A peer OAuth server on the loopback, measured in the same run (peer.go); only with --peer-token-url.
	{name: scPeerToken, setup: setupPeerToken},
	{name: scPeerIntrospect, setup: setupPeerIntrospect},
	{name: scSOAP + fullSuffix, server: true, full: true, needs: []string{scSOAP}, setup: setupSOAP},
	{name: scVerify + fullSuffix, server: true, full: true, needs: []string{scVerify}, setup: setupVerify},
	{name: scVerifySession + fullSuffix, server: true, full: true, needs: []string{scVerifySession}, setup: setupVerifySession},
	{name: scForward + fullSuffix, server: true, full: true, needs: []string{scForward}, setup: setupForward},
	// Licensing on the full store (P4).
	{name: scActivateSigned + fullSuffix, server: true, full: true, needs: []string{scActivateSigned}, setup: setupActivate(true)},
	{name: scActivate + fullSuffix, server: true, full: true, needs: []string{scActivate}, setup: setupActivate(false)},
	{name: scGetKeyGet + fullSuffix, server: true, full: true, needs: []string{scGetKeyGet}, setup: setupGetKey(http.MethodGet)},
	{name: scGetKeyPost + fullSuffix, server: true, full: true, needs: []string{scGetKeyPost}, setup: setupGetKey(http.MethodPost)},
	{name: scWooValidate + fullSuffix, server: true, full: true, needs: []string{scWooValidate}, setup: setupWooValidate},
	{name: scPowerAuthFwd + fullSuffix, server: true, full: true, needs: []string{scPowerAuthFwd}, setup: setupPowerAuthForward},
	{name: scLicenseMix + fullSuffix, server: true, full: true, needs: []string{scLicenseMix}, setup: setupLicenseMix},
	{name: scSOAP + halfPeakSuffix, server: true, needs: []string{scSOAP}, rate: halfPeakOf(scSOAP), setup: setupSOAP},
	{name: scVerify + halfPeakSuffix, server: true, needs: []string{scVerify}, rate: halfPeakOf(scVerify), setup: setupVerify},
	// Last: its bursts of argon2id (19 MiB a sign-in) would otherwise stand in the server's memory during P4,
	// whose RSS target is about the store, not about sign-ins.
	{name: scCold, server: true, workers: coldWorkers, setup: setupCold},
}

func scenarioNames() []string {
	var names []string
	for _, s := range allScenarios {
		names = append(names, s.name)
	}
	return names
}

func findScenario(name string) (scenario, bool) {
	for _, s := range allScenarios {
		if s.name == name {
			return s, true
		}
	}
	return scenario{}, false
}

// selectScenarios parses the --scenarios list; the result keeps run order. A scenario's needs are added
// (notes say which); P4's scenarios are dropped from "all" when fill is false, and refused when named.
func selectScenarios(list string, fill bool) (names, notes []string, err error) {
	want := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		switch {
		case n == "":
		case n == "all":
			for _, s := range allScenarios {
				if s.full && !fill {
					continue
				}
				want[s.name] = true
			}
			if !fill {
				notes = append(notes, "P4 (the *"+fullSuffix+" scenarios) skipped: --fill-tokens, --fill-sessions, --fill-activations and --fill-data-objects are 0")
			}
		default:
			s, found := findScenario(n)
			if !found {
				return nil, nil, fmt.Errorf("unknown scenario %q (have: %s)", n, strings.Join(scenarioNames(), ", "))
			}
			if s.full && !fill {
				return nil, nil, fmt.Errorf("scenario %s runs on the filled store, but --fill-tokens, --fill-sessions, --fill-activations and --fill-data-objects are 0", n)
			}
			want[n] = true
		}
	}
	// A scenario's needs come earlier in allScenarios, so one pass from the end settles chains too.
	var added []string
	for i := len(allScenarios) - 1; i >= 0; i-- {
		s := allScenarios[i]
		if !want[s.name] {
			continue
		}
		for _, need := range s.needs {
			if !want[need] {
				want[need] = true
				added = append(added, fmt.Sprintf("%s needs the figure of %s: running it too", s.name, need))
			}
		}
	}
	for _, s := range allScenarios {
		if want[s.name] {
			names = append(names, s.name)
		}
	}
	if len(names) == 0 {
		return nil, nil, errors.New("no scenarios selected")
	}
	slices.Reverse(added)
	return names, append(notes, added...), nil
}

type tokenReply struct {
	AccessToken string `json:"access_token"`
	Session     string `json:"session"`
	Username    string `json:"username"`
}

// fetchToken GETs a REST token URL with Basic admin and decodes the reply.
func (e *benchEnv) fetchToken(ctx context.Context, path string, wantSession bool) (*tokenReply, error) {
	body, err := e.call(ctx, http.MethodGet, path, http.Header{"Authorization": {e.basicAuth()}}, "")
	if err != nil {
		return nil, err
	}
	var tok tokenReply
	if err := json.Unmarshal(body, &tok); err != nil {
		return nil, fmt.Errorf("GET %s: decoding %q: %w", path, body, err)
	}
	if tok.AccessToken == "" || (wantSession && tok.Session == "") {
		return nil, fmt.Errorf("GET %s: missing access_token or session in %s", path, body)
	}
	return &tok, nil
}

func (e *benchEnv) post(ctx context.Context, path string, h http.Header, body string) ([]byte, error) {
	return e.call(ctx, http.MethodPost, path, h, body)
}

// call is one setup request through net/http; anything but 200 is an error.
func (e *benchEnv) call(ctx context.Context, method, path string, h http.Header, body string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, e.serverURL(path), strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = h.Clone()
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading body: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %s", method, path, describeHTTPError(resp.Status, resp.Header, b[:min(len(b), errSnippetLen)]))
	}
	return b, nil
}

func basic(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// clientBasic is RFC 6749 §2.3.1 client authentication: each half form-urlencoded, then Basic.
func clientBasic(id, secret string) string {
	return basic(url.QueryEscape(id), url.QueryEscape(secret))
}
