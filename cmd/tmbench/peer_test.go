package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestLoopbackURL(t *testing.T) {
	for raw, want := range map[string]string{
		"":                                       "",
		"http://127.0.0.1:4444/oauth2/token":     "http://127.0.0.1:4444/oauth2/token",
		"http://localhost:4445/admin/introspect": "http://127.0.0.1:4445/admin/introspect",
	} {
		got, err := loopbackURL("--peer-token-url", raw)
		if err != nil || got != want {
			t.Errorf("%q: got %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, raw := range []string{
		"http://10.0.0.1:4444/oauth2/token", "http://192.168.1.2:4444/", "http://example.com:4444/", "http://127.0.0.2:4444/",
		"http://[::1]:4444/", "https://127.0.0.1:4444/", "http://127.0.0.1/oauth2/token", "http://user:pw@127.0.0.1:4444/",
		"127.0.0.1:4444", "http://127.0.0.1:4444/#x", "http://localhost.example.com:4444/",
	} {
		if got, err := loopbackURL("--peer-token-url", raw); err == nil {
			t.Errorf("%q accepted as %q", raw, got)
		}
	}
}

func TestPeerFlags(t *testing.T) {
	var stderr bytes.Buffer
	t.Setenv(peerSecretEnv, "")
	for _, bad := range [][]string{
		{"--peer-token-url", "http://10.1.2.3:4444/oauth2/token", "--peer-client-id", "a", "--peer-client-secret", "b"},
		{"--peer-token-url", "http://127.0.0.1:4444/oauth2/token"}, // no client
		{"--peer-introspect-url", "http://127.0.0.1:4445/introspect", "--peer-client-id", "a", "--peer-client-secret", "b"},
		{"--scenarios", scPeerToken}, // no peer
		{"--scenarios", scPeerIntrospect, "--peer-token-url", "http://127.0.0.1:4444/t", "--peer-client-id", "a", "--peer-client-secret", "b"},
	} {
		if _, err := parseFlags(bad, &stderr); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	t.Setenv(peerSecretEnv, "from-env")
	o, err := parseFlags([]string{"--peer-token-url", "http://localhost:4444/oauth2/token", "--peer-client-id", "bench",
		"--fill-tokens", "0", "--fill-sessions", "0", "--fill-activations", "0", "--fill-data-objects", "0"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if o.peer.clientSecret != "from-env" || o.peer.tokenURL != "http://127.0.0.1:4444/oauth2/token" ||
		!contains(o.scenarios, scPeerToken) || contains(o.scenarios, scPeerIntrospect) {
		t.Fatalf("%+v", o)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// fakePeer is a tiny OAuth server: client_credentials with client_secret_basic, and introspection of its tokens.
type fakePeer struct {
	tokens, introspections, refused atomic.Int64
}

func (p *fakePeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	// RFC 6749 §2.3.1: each half is form-urlencoded before Basic, as Hydra expects.
	id, err1 := url.QueryUnescape(id)
	secret, err2 := url.QueryUnescape(secret)
	if !ok || err1 != nil || err2 != nil || id != "bench client" || secret != "s3cret&more" || r.Method != http.MethodPost {
		p.refused.Add(1)
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	}
	r.ParseForm()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/oauth2/token" && r.PostForm.Get("grant_type") == "client_credentials":
		p.tokens.Add(1)
		io.WriteString(w, `{"access_token":"peer-token.1","expires_in":3600,"token_type":"bearer"}`)
	case r.URL.Path == "/admin/oauth2/introspect":
		p.introspections.Add(1)
		json.NewEncoder(w).Encode(map[string]any{"active": r.PostForm.Get("token") == "peer-token.1"})
	default:
		p.refused.Add(1)
		http.Error(w, "no", http.StatusBadRequest)
	}
}

// TestPeerScenarios measures a peer on the loopback through run, as `make bench` does, with no server of ours.
func TestPeerScenarios(t *testing.T) {
	peer := &fakePeer{}
	ts := httptest.NewServer(peer) // 127.0.0.1
	defer ts.Close()
	o, err := parseFlags([]string{"--scenarios", "baseline," + scPeerToken + "," + scPeerIntrospect,
		"--peer-token-url", ts.URL + "/oauth2/token", "--peer-introspect-url", ts.URL + "/admin/oauth2/introspect",
		"--peer-client-id", "bench client", "--peer-client-secret", "s3cret&more", "--peer-name", "Hydra",
		"--duration", "300ms", "--warmup", "50ms", "--concurrency", "2", "--json"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	if err := run(ctx, o, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Scenarios) != 3 {
		t.Fatalf("scenarios %+v", rep.Scenarios)
	}
	for _, s := range rep.Scenarios {
		if s.Requests == 0 || s.Errors != 0 || s.Skipped != "" {
			t.Errorf("%s: %d ok, %d errors, skipped %q, first error %q", s.Name, s.Requests, s.Errors, s.Skipped, s.FirstError)
		}
	}
	if peer.refused.Load() != 0 || peer.tokens.Load() < int64(rep.Scenarios[1].Requests) || peer.introspections.Load() < int64(rep.Scenarios[2].Requests) {
		t.Errorf("peer saw %d tokens, %d introspections, %d refused; tmbench counted %+v", peer.tokens.Load(), peer.introspections.Load(), peer.refused.Load(), rep.Scenarios)
	}
	var rows []string
	for _, r := range rep.Targets {
		rows = append(rows, r.What)
	}
	if strings.Join(rows, "|") != "Hydra (peer, measured here): client_credentials tokens/s|Hydra (peer, measured here): introspections/s" {
		t.Errorf("target rows %q", rows)
	}
}
