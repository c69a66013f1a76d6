package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// A peer OAuth 2.0 server (Ory Hydra, say) measured in the same run as ours, through the same client at the same
// concurrency: its token endpoint with client_credentials and client_secret_basic, and its introspection
// endpoint with one of its own tokens. Loopback only: tmbench connects to 127.0.0.1 and nothing else.

const (
	scPeerToken      = "peer-client-credentials"
	scPeerIntrospect = "peer-introspect"
	peerSecretEnv    = "TMBENCH_PEER_CLIENT_SECRET"
)

type peerOptions struct {
	tokenURL, introspectURL string
	clientID, clientSecret  string
	name                    string
}

func (p *peerOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&p.tokenURL, "peer-token-url", "", "measure a peer OAuth server's token endpoint (`url` on 127.0.0.1 or localhost) in the same run: "+scPeerToken)
	fs.StringVar(&p.introspectURL, "peer-introspect-url", "", "measure a peer's introspection endpoint (`url` on 127.0.0.1 or localhost), with a token of its token endpoint: "+scPeerIntrospect)
	fs.StringVar(&p.clientID, "peer-client-id", "", "the peer's client id (client_credentials, client_secret_basic)")
	fs.StringVar(&p.clientSecret, "peer-client-secret", "", "the peer's client secret (default: $"+peerSecretEnv+")")
	fs.StringVar(&p.name, "peer-name", "peer", "what to call the peer in the targets table, e.g. Hydra")
}

// check validates the peer flags: URLs on the loopback only (localhost becomes 127.0.0.1), a client for them.
func (p *peerOptions) check() error {
	if p.tokenURL == "" && p.introspectURL == "" {
		return nil
	}
	var err error
	if p.tokenURL, err = loopbackURL("--peer-token-url", p.tokenURL); err != nil {
		return err
	}
	if p.introspectURL, err = loopbackURL("--peer-introspect-url", p.introspectURL); err != nil {
		return err
	}
	if p.introspectURL != "" && p.tokenURL == "" {
		return errors.New("--peer-introspect-url needs --peer-token-url (the token it introspects comes from there)")
	}
	if p.clientSecret == "" {
		p.clientSecret = os.Getenv(peerSecretEnv)
	}
	if p.clientID == "" || p.clientSecret == "" {
		return fmt.Errorf("a peer needs --peer-client-id and --peer-client-secret (or $%s)", peerSecretEnv)
	}
	if strings.TrimSpace(p.name) == "" || len(p.name) > 40 {
		return errors.New("--peer-name must be 1 to 40 characters")
	}
	return nil
}

// loopbackURL accepts "" or an http URL whose host is 127.0.0.1 or localhost (returned as 127.0.0.1) with a
// port; anything else is refused, so that a load test never leaves the machine.
func loopbackURL(flagName, raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%s: %v", flagName, err)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if u.Scheme != "http" || err != nil || port == "" || u.User != nil || u.Fragment != "" {
		return "", fmt.Errorf("%s %q: want http://127.0.0.1:PORT/path (or localhost)", flagName, raw)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	if host != "127.0.0.1" {
		return "", fmt.Errorf("%s %q: refusing a host other than 127.0.0.1 or localhost (tmbench loads the loopback only)", flagName, raw)
	}
	u.Host = net.JoinHostPort(host, port)
	return u.String(), nil
}

// enabled reports whether the peer scenario name can run with these flags.
func (p *peerOptions) enabled(name string) bool {
	switch name {
	case scPeerToken:
		return p.tokenURL != ""
	case scPeerIntrospect:
		return p.introspectURL != ""
	}
	return true
}

// selection drops the peer scenarios the flags do not allow from names, and refuses one named in list.
func (p *peerOptions) selection(list string, names []string) ([]string, error) {
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); !p.enabled(n) {
			return nil, fmt.Errorf("scenario %s measures a peer: give --peer-token-url (and --peer-introspect-url for %s)", n, scPeerIntrospect)
		}
	}
	return slices.DeleteFunc(names, func(n string) bool { return !p.enabled(n) }), nil
}

// peerCredentials is the peer's client, and an access token of it for introspection.
type peerCredentials struct {
	basic       string
	accessToken string
}

func (e *benchEnv) peerClient(ctx context.Context) (*peerCredentials, error) {
	if e.peerCreds != nil {
		return e.peerCreds, nil
	}
	p := &e.o.peer
	c := &peerCredentials{basic: clientBasic(p.clientID, p.clientSecret)}
	body, err := e.callURL(ctx, http.MethodPost, p.tokenURL, http.Header{"Content-Type": {formHeader}, "Authorization": {c.basic}}, "grant_type=client_credentials")
	if err != nil {
		return nil, err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return nil, fmt.Errorf("peer token endpoint: no access_token in %.200s", body)
	}
	c.accessToken = tok.AccessToken
	e.peerCreds = c
	return c, nil
}

func setupPeerToken(ctx context.Context, e *benchEnv) (*reqTemplate, error) {
	c, err := e.peerClient(ctx)
	if err != nil {
		return nil, err
	}
	return &reqTemplate{Method: http.MethodPost, URL: e.o.peer.tokenURL,
		Header: http.Header{"Content-Type": {formHeader}, "Authorization": {c.basic}},
		Body:   []byte("grant_type=client_credentials")}, nil
}

// setupPeerIntrospect introspects the peer's own token, sending the client's credentials too (Hydra's admin
// endpoint ignores them; a peer that protects introspection with client authentication wants them), and
// checks once that the peer says active.
func setupPeerIntrospect(ctx context.Context, e *benchEnv) (*reqTemplate, error) {
	c, err := e.peerClient(ctx)
	if err != nil {
		return nil, err
	}
	h := http.Header{"Content-Type": {formHeader}, "Authorization": {c.basic}}
	form := "token=" + url.QueryEscape(c.accessToken)
	body, err := e.callURL(ctx, http.MethodPost, e.o.peer.introspectURL, h, form)
	if err != nil {
		return nil, err
	}
	var ans struct {
		Active bool `json:"active"`
	}
	if err := json.Unmarshal(body, &ans); err != nil || !ans.Active {
		return nil, fmt.Errorf("peer introspection: the token is not active: %.200s", body)
	}
	return &reqTemplate{Method: http.MethodPost, URL: e.o.peer.introspectURL, Header: h, Body: []byte(form)}, nil
}

// callURL is call for a full URL (the peer's); the setup client dials 127.0.0.1 only.
func (e *benchEnv) callURL(ctx context.Context, method, u string, h http.Header, body string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = h.Clone()
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading body: %w", method, u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %s", method, u, describeHTTPError(resp.Status, resp.Header, b[:min(len(b), errSnippetLen)]))
	}
	return b, nil
}
