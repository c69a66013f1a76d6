package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// withPowerAuth wires the PowerAuth service (secrets sealed under the stack's server key, the stack's clock)
// and hands it to the test through svc, which plays the operator's CLI.
func withPowerAuth(cfg powerauth.Config, svc **powerauth.Service) servertest.Option {
	return func(su *servertest.Setup) {
		su.Wire = append(su.Wire, func(st *servertest.Stack, d *server.Deps) {
			d.PowerAuth = powerauth.NewService(st.Store, keys.NewSealer(keys.Derive(servertest.ServerKey, keys.PurposePowerAuthTokens)), cfg, st.Clock.Now)
			if svc != nil {
				*svc = d.PowerAuth
			}
		})
	}
}

func withDB(path string) servertest.Option { return func(su *servertest.Setup) { su.DBPath = path } }

// The exact bodies the original answers with.
const (
	paBodyTokenInvalid     = `{"status":"ERROR","responseObject":{"code":"ERR_AUTHENTICATION","message":"POWER_AUTH_TOKEN_INVALID"}}`
	paBodyHeaderMissing    = `{"status":"ERROR","responseObject":{"code":"ERR_AUTHENTICATION","message":"POWER_AUTH_HTTP_HEADER_MISSING"}}`
	paBodySignatureInvalid = `{"status":"ERROR","responseObject":{"code":"ERR_AUTHENTICATION","message":"POWER_AUTH_SIGNATURE_INVALID"}}`
	paBodyRequestInvalid   = `{"status":"ERROR","responseObject":{"code":"ERR_AUTHENTICATION","message":"POWER_AUTH_REQUEST_INVALID"}}`
)

func (s *stack) paPost(t *testing.T, path, user, pass, body string) servertest.Response {
	t.Helper()
	return servertest.Do(t, "POST", s.URL+path, body, map[string]string{"Content-Type": "application/json", "Authorization": servertest.Basic(user, pass)})
}

func mustPA(t *testing.T, what string, r servertest.Response, wantStatus int, wantBody string) {
	t.Helper()
	if r.Status != wantStatus || strings.TrimSpace(r.Body) != wantBody {
		t.Fatalf("%s: HTTP %d %s; want %d %s", what, r.Status, r.Body, wantStatus, wantBody)
	}
	if r.Status == 401 && r.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("%s: 401 without WWW-Authenticate", what)
	}
}

// paDevice is what a phone keeps after activation and token creation.
type paDevice struct {
	ActivationID string
	TokenID      string
	Secret       []byte
}

func (s *stack) paCreateActivation(t *testing.T, user, pass string) string {
	t.Helper()
	r := s.paPost(t, server.PathPowerAuthActivationCreate, user, pass, `{"activationName":"Simon's phone"}`)
	var a struct{ ActivationID, ActivationName, ActivationStatus string }
	if r.Status != 200 || json.Unmarshal([]byte(r.Body), &a) != nil || a.ActivationStatus != "ACTIVE" || a.ActivationName != "Simon's phone" {
		t.Fatalf("activation create: HTTP %d %s", r.Status, r.Body)
	}
	return a.ActivationID
}

func (s *stack) paCreateToken(t *testing.T, user, pass, activationID string) paDevice {
	t.Helper()
	r := s.paPost(t, server.PathPowerAuthTokenCreate, user, pass, `{"activationId":"`+activationID+`"}`)
	var tok struct{ TokenID, TokenSecret string }
	if r.Status != 200 || json.Unmarshal([]byte(r.Body), &tok) != nil {
		t.Fatalf("token create: HTTP %d %s", r.Status, r.Body)
	}
	secret, err := base64.StdEncoding.DecodeString(tok.TokenSecret)
	if err != nil || len(secret) != 16 || len(tok.TokenSecret) != 24 {
		t.Fatalf("tokenSecret %q is not Base64 of 16 bytes", tok.TokenSecret)
	}
	return paDevice{ActivationID: activationID, TokenID: tok.TokenID, Secret: secret}
}

func (s *stack) paNewDevice(t *testing.T) paDevice {
	t.Helper()
	return s.paCreateToken(t, "simon0897", "s3cret", s.paCreateActivation(t, "simon0897", "s3cret"))
}

// header signs at ts with a fresh nonce, as the SDK's generateHeaderForToken does.
func (d paDevice) header(t *testing.T, ts time.Time, version string) string {
	t.Helper()
	nonce := make([]byte, 16)
	rand.Read(nonce)
	h, err := powerauth.NewHeader(d.TokenID, d.Secret, nonce, ts.UnixMilli(), version)
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func (s *stack) paVerify(t *testing.T, header string) servertest.Response {
	t.Helper()
	h := map[string]string{}
	if header != "" {
		h[powerauth.HeaderName] = header
	}
	return servertest.Do(t, "GET", s.URL+server.PathPowerAuthTokenVerify, "", h)
}

func (s *stack) mustPAAccept(t *testing.T, what, header, wantUser string) {
	t.Helper()
	r := s.paVerify(t, header)
	var body struct {
		Status         string
		ResponseObject struct{ TokenID, ActivationID, UserID string }
	}
	if r.Status != 200 || json.Unmarshal([]byte(r.Body), &body) != nil || body.Status != "OK" || body.ResponseObject.UserID != wantUser ||
		r.Header.Get(server.HeaderTokenUser) != wantUser || r.Header.Get(server.HeaderTokenKind) != "powerauth" {
		t.Fatalf("%s: HTTP %d %v %s; want 200 for %s", what, r.Status, r.Header, r.Body, wantUser)
	}
}

func (s *stack) mustPARefuse(t *testing.T, what, header string) {
	t.Helper()
	mustPA(t, what, s.paVerify(t, header), 401, paBodyTokenInvalid)
}

func TestPowerAuthTokenFlow(t *testing.T) {
	st := newStack(t, withPowerAuth(powerauth.Config{}, nil))
	d := st.paNewDevice(t)
	for _, v := range []string{"3.0", "3.1", "3.2", "3.3"} {
		st.mustPAAccept(t, "version "+v, d.header(t, st.Clock.Now(), v), "simon0897")
	}
	// POST works too, and a second token of the same activation is independent.
	d2 := st.paCreateToken(t, "simon0897", "s3cret", d.ActivationID)
	r := servertest.Do(t, "POST", st.URL+server.PathPowerAuthTokenVerify, "{}", map[string]string{powerauth.HeaderName: d2.header(t, st.Clock.Now(), "3.3")})
	if r.Status != 200 {
		t.Fatalf("POST verify: HTTP %d %s", r.Status, r.Body)
	}

	// Removing the token (the original's wrapped request) answers OK and the token is refused afterwards.
	r = st.paPost(t, server.PathPowerAuthTokenRemove, "simon0897", "s3cret", `{"requestObject":{"tokenId":"`+d.TokenID+`"}}`)
	mustPA(t, "token remove", r, 200, `{"status":"OK","responseObject":{"tokenId":"`+d.TokenID+`"}}`)
	st.mustPARefuse(t, "removed token", d.header(t, st.Clock.Now(), "3.3"))
	st.mustPAAccept(t, "sibling of the removed token", d2.header(t, st.Clock.Now(), "3.3"), "simon0897")
	// Removing again, or an unknown token, is still OK (the original answers OK either way).
	r = st.paPost(t, server.PathPowerAuthTokenRemove, "simon0897", "s3cret", `{"requestObject":{"tokenId":"`+d.TokenID+`"}}`)
	mustPA(t, "token remove again", r, 200, `{"status":"OK","responseObject":{"tokenId":"`+d.TokenID+`"}}`)
}

func TestPowerAuthReplayRefused(t *testing.T) {
	st := newStack(t, withPowerAuth(powerauth.Config{}, nil))
	d := st.paNewDevice(t)
	h := d.header(t, st.Clock.Now(), "3.3")
	st.mustPAAccept(t, "first use", h, "simon0897")
	st.mustPARefuse(t, "immediate replay", h)
	// Still refused late in the window: the nonce is remembered for all of it (not the original's 60 s).
	st.Clock.Add(119 * time.Minute)
	st.mustPARefuse(t, "replay 119 minutes later", h)
	st.Clock.Add(2 * time.Minute)
	st.mustPARefuse(t, "replay after the window", h)
}

// Two servers over one SQLite file, as two nodes over a shared database: a header accepted by one is refused
// by the other.
func TestPowerAuthReplayRefusedAcrossNodes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "shared.db")
	a := newStack(t, withDB(db), withPowerAuth(powerauth.Config{}, nil))
	b := newStack(t, withDB(db), withPowerAuth(powerauth.Config{}, nil))
	d := a.paNewDevice(t)
	h := d.header(t, a.Clock.Now(), "3.3")
	a.mustPAAccept(t, "node A, first use", h, "simon0897")
	b.mustPARefuse(t, "node B, replay", h)
	h2 := d.header(t, b.Clock.Now(), "3.1")
	b.mustPAAccept(t, "node B, fresh header", h2, "simon0897")
	a.mustPARefuse(t, "node A, replay of B's header", h2)
	// Removing the token through B refuses it on A at once (no cache on A).
	r := b.paPost(t, server.PathPowerAuthTokenRemove, "simon0897", "s3cret", `{"tokenId":"`+d.TokenID+`"}`)
	mustPA(t, "remove via B", r, 200, `{"status":"OK","responseObject":{"tokenId":"`+d.TokenID+`"}}`)
	a.mustPARefuse(t, "node A after removal via B", d.header(t, a.Clock.Now(), "3.3"))
}

// Timestamps just inside and just outside the window, defaults (PowerAuth server's: −2 h, +30 min, +60 s for
// 3.2/3.3) and configured.
func TestPowerAuthTimestampEdges(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name                    string
		cfg                     powerauth.Config
		past, future, futureV32 time.Duration
	}{
		{"defaults", powerauth.Config{}, 2 * time.Hour, 30 * time.Minute, time.Minute},
		{"configured", powerauth.Config{MaxAge: 5 * time.Minute, MaxFuture: 90 * time.Second, MaxFutureV32: 5 * time.Second},
			5 * time.Minute, 90 * time.Second, 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newStack(t, withPowerAuth(tc.cfg, nil))
			d := st.paNewDevice(t)
			now := st.Clock.Now()
			st.mustPAAccept(t, "oldest accepted (3.3)", d.header(t, now.Add(-tc.past), "3.3"), "simon0897")
			st.mustPARefuse(t, "1 ms too old (3.3)", d.header(t, now.Add(-tc.past-ms), "3.3"))
			st.mustPAAccept(t, "oldest accepted (3.0)", d.header(t, now.Add(-tc.past), "3.0"), "simon0897")
			st.mustPARefuse(t, "1 ms too old (3.0)", d.header(t, now.Add(-tc.past-ms), "3.0"))
			st.mustPAAccept(t, "furthest ahead (3.1)", d.header(t, now.Add(tc.future), "3.1"), "simon0897")
			st.mustPARefuse(t, "1 ms too far ahead (3.1)", d.header(t, now.Add(tc.future+ms), "3.1"))
			st.mustPAAccept(t, "furthest ahead (3.2)", d.header(t, now.Add(tc.futureV32), "3.2"), "simon0897")
			st.mustPARefuse(t, "1 ms too far ahead (3.2)", d.header(t, now.Add(tc.futureV32+ms), "3.2"))
			st.mustPAAccept(t, "furthest ahead (3.3)", d.header(t, now.Add(tc.futureV32), "3.3"), "simon0897")
			st.mustPARefuse(t, "1 ms too far ahead (3.3)", d.header(t, now.Add(tc.futureV32+ms), "3.3"))
			// The clock moves on: a header made at the old "now" ages out.
			h := d.header(t, now, "3.3")
			st.Clock.Add(tc.past + ms)
			st.mustPARefuse(t, "header older than the window", h)
		})
	}
}

func TestPowerAuthBlockedActivationRefused(t *testing.T) {
	var svc *powerauth.Service
	st := newStack(t, withPowerAuth(powerauth.Config{}, &svc))
	d := st.paNewDevice(t)
	st.mustPAAccept(t, "before block", d.header(t, st.Clock.Now(), "3.3"), "simon0897")
	if _, err := svc.BlockActivation(context.Background(), d.ActivationID); err != nil { // the operator's CLI
		t.Fatal(err)
	}
	st.mustPARefuse(t, "blocked activation's token", d.header(t, st.Clock.Now(), "3.3"))
	r := st.paPost(t, server.PathPowerAuthTokenCreate, "simon0897", "s3cret", `{"activationId":"`+d.ActivationID+`"}`)
	mustPA(t, "token create on a blocked activation", r, 401, paBodySignatureInvalid)
	r = st.paPost(t, server.PathPowerAuthActivationStatus, "simon0897", "s3cret", `{"requestObject":{"activationId":"`+d.ActivationID+`"}}`)
	if r.Status != 200 || !strings.Contains(r.Body, `"activationStatus":"BLOCKED"`) {
		t.Fatalf("status of a blocked activation: HTTP %d %s", r.Status, r.Body)
	}
	if _, err := svc.UnblockActivation(context.Background(), d.ActivationID); err != nil {
		t.Fatal(err)
	}
	st.mustPARefuse(t, "old token after unblock", d.header(t, st.Clock.Now(), "3.3"))
	d2 := st.paCreateToken(t, "simon0897", "s3cret", d.ActivationID)
	st.mustPAAccept(t, "new token after unblock", d2.header(t, st.Clock.Now(), "3.3"), "simon0897")
}

func TestPowerAuthRemovedActivationKillsItsTokens(t *testing.T) {
	st := newStack(t, withPowerAuth(powerauth.Config{}, nil))
	d := st.paNewDevice(t)
	d2 := st.paCreateToken(t, "simon0897", "s3cret", d.ActivationID)
	r := st.paPost(t, server.PathPowerAuthActivationRemove, "simon0897", "s3cret", `{"requestObject":{"activationId":"`+d.ActivationID+`"}}`)
	mustPA(t, "activation remove", r, 200, `{"status":"OK","responseObject":{"activationId":"`+d.ActivationID+`"}}`)
	st.mustPARefuse(t, "first token of the removed activation", d.header(t, st.Clock.Now(), "3.3"))
	st.mustPARefuse(t, "second token of the removed activation", d2.header(t, st.Clock.Now(), "3.3"))
	r = st.paPost(t, server.PathPowerAuthTokenCreate, "simon0897", "s3cret", `{"activationId":"`+d.ActivationID+`"}`)
	mustPA(t, "token create on a removed activation", r, 401, paBodySignatureInvalid)
	r = st.paPost(t, server.PathPowerAuthActivationRemove, "simon0897", "s3cret", `{"activationId":"`+d.ActivationID+`"}`)
	mustPA(t, "remove twice", r, 401, paBodySignatureInvalid)
}

func TestPowerAuthAnotherUsersActivationRefused(t *testing.T) {
	st := newStack(t, withPowerAuth(powerauth.Config{}, nil))
	d := st.paNewDevice(t) // simon's
	for path, body := range map[string]string{
		server.PathPowerAuthTokenCreate:      `{"activationId":"` + d.ActivationID + `"}`,
		server.PathPowerAuthActivationStatus: `{"activationId":"` + d.ActivationID + `"}`,
		server.PathPowerAuthActivationRemove: `{"activationId":"` + d.ActivationID + `"}`,
	} {
		mustPA(t, "paul on simon's activation: "+path, st.paPost(t, path, "paul1234", "pa55", body), 401, paBodySignatureInvalid)
	}
	// Paul's removal of simon's token answers OK, as the original does, and removes nothing.
	r := st.paPost(t, server.PathPowerAuthTokenRemove, "paul1234", "pa55", `{"requestObject":{"tokenId":"`+d.TokenID+`"}}`)
	mustPA(t, "paul removes simon's token", r, 200, `{"status":"OK","responseObject":{"tokenId":"`+d.TokenID+`"}}`)
	st.mustPAAccept(t, "simon's token after paul's attempts", d.header(t, st.Clock.Now(), "3.3"), "simon0897")
	// An unknown activation id looks the same as another user's.
	r = st.paPost(t, server.PathPowerAuthTokenCreate, "paul1234", "pa55", `{"activationId":"d6561669-34d6-4fee-8913-89477687a5cb"}`)
	mustPA(t, "unknown activation", r, 401, paBodySignatureInvalid)
}

func TestPowerAuthManagementAuthAndRequests(t *testing.T) {
	st := newStack(t, withPowerAuth(powerauth.Config{}, nil))
	for _, path := range []string{server.PathPowerAuthActivationCreate, server.PathPowerAuthActivationStatus,
		server.PathPowerAuthActivationRemove, server.PathPowerAuthTokenCreate, server.PathPowerAuthTokenRemove} {
		r := st.paPost(t, path, "simon0897", "wrong", `{}`)
		mustPA(t, path+" with a wrong password", r, 401, paBodySignatureInvalid)
		if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Fatalf("%s: WWW-Authenticate %q", path, r.Header.Get("WWW-Authenticate"))
		}
		r = servertest.Do(t, "POST", st.URL+path, `{}`, nil)
		if path == server.PathPowerAuthActivationStatus { // without Basic, the mobile SDK's status call
			mustPA(t, path+" without credentials", r, 400, `{"status":"ERROR","responseObject":{"code":"ERR_ACTIVATION","message":"POWER_AUTH_ACTIVATION_INVALID"}}`)
			continue
		}
		mustPA(t, path+" without credentials", r, 401, paBodySignatureInvalid)
	}
	for path, body := range map[string]string{
		server.PathPowerAuthTokenCreate:      `{"activationId":`,
		server.PathPowerAuthActivationStatus: `{}`,
		server.PathPowerAuthActivationRemove: `{"requestObject":{}}`,
		server.PathPowerAuthTokenRemove:      `[]`,
	} {
		mustPA(t, path+" "+body, st.paPost(t, path, "simon0897", "s3cret", body), 401, paBodyRequestInvalid)
	}
	r := st.paPost(t, server.PathPowerAuthActivationCreate, "simon0897", "s3cret", `{"activationName":"`+strings.Repeat("x", 256)+`"}`)
	mustPA(t, "overlong activation name", r, 401, paBodyRequestInvalid)
	r = st.paPost(t, server.PathPowerAuthTokenCreate, "simon0897", "s3cret", `{"activationId":"`+strings.Repeat("x", 20<<10)+`"}`)
	if r.Status != 413 {
		t.Fatalf("oversize body: HTTP %d %s", r.Status, r.Body)
	}
	// An empty body creates an unnamed activation; the wrapped form names it.
	if r := st.paPost(t, server.PathPowerAuthActivationCreate, "simon0897", "s3cret", ``); r.Status != 200 {
		t.Fatalf("empty body: HTTP %d %s", r.Status, r.Body)
	}
	r = st.paPost(t, server.PathPowerAuthActivationCreate, "paul1234", "pa55", `{"requestObject":{"activationName":"tablet"}}`)
	if r.Status != 200 || !strings.Contains(r.Body, `"activationName":"tablet"`) {
		t.Fatalf("wrapped create: HTTP %d %s", r.Status, r.Body)
	}
	r = servertest.Do(t, "GET", st.URL+server.PathPowerAuthTokenCreate, "", map[string]string{"Authorization": servertest.Basic("simon0897", "s3cret")})
	if r.Status != 405 {
		t.Fatalf("GET token/create: HTTP %d", r.Status)
	}
}

func TestPowerAuthHeaderRefusals(t *testing.T) {
	st := newStack(t, withPowerAuth(powerauth.Config{}, nil))
	d := st.paNewDevice(t)
	mustPA(t, "no header", st.paVerify(t, ""), 401, paBodyHeaderMissing)
	good := d.header(t, st.Clock.Now(), "3.3")
	for name, h := range map[string]string{
		"no prefix":        strings.TrimPrefix(good, "PowerAuth "),
		"oversize":         good + `, pad="` + strings.Repeat("a", 2000) + `"`,
		"duplicated field": good + `, version="3.3"`,
		"bad version":      strings.Replace(good, `version="3.3"`, `version="3.9"`, 1),
		"tampered digest":  strings.Replace(good, `token_digest="`, `token_digest="A`, 1),
		"unknown token":    strings.Replace(good, d.TokenID, "d6561669-34d6-4fee-8913-89477687a5cb", 1),
	} {
		st.mustPARefuse(t, name, h)
	}
	// Two X-PowerAuth-Token headers are refused, even if one is good.
	r := servertest.Send(t, "GET", st.URL+server.PathPowerAuthTokenVerify, "", http.Header{powerauth.HeaderName: {good, d.header(t, st.Clock.Now(), "3.3")}})
	mustPA(t, "two headers", r, 401, paBodyTokenInvalid)
	// None of the refusals consumed the good header's nonce.
	st.mustPAAccept(t, "the good header after the refusals", good, "simon0897")
}

// The database never holds a token secret in usable form: scan the SQLite file and its WAL for the raw bytes and
// the Base64 the client received.
func TestPowerAuthSecretsNotStoredInPlaintext(t *testing.T) {
	db := filepath.Join(t.TempDir(), "scan.db")
	st := newStack(t, withDB(db), withPowerAuth(powerauth.Config{}, nil))
	var devices []paDevice
	for range 5 {
		devices = append(devices, st.paNewDevice(t))
	}
	for _, d := range devices {
		st.mustPAAccept(t, "token works", d.header(t, st.Clock.Now(), "3.3"), "simon0897")
	}
	var files [][]byte
	for _, p := range []string{db, db + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	all := bytes.Join(files, nil)
	if !bytes.Contains(all, []byte(devices[0].TokenID)) {
		t.Fatal("the scan does not see the database contents (token id not found)")
	}
	for _, d := range devices {
		if bytes.Contains(all, d.Secret) || bytes.Contains(all, []byte(base64.StdEncoding.EncodeToString(d.Secret))) {
			t.Fatalf("token %s: its secret is in the database files", d.TokenID)
		}
	}
}
