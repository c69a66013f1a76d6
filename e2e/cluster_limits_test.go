package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage/postgres/pgtest"
)

// TestClusterLimits runs two nodes on one PostgreSQL database, behind a balancer the test plays, and checks that
// the limits hold for the cluster as they do for one node: a sign-in storm spread over both nodes is throttled
// at one node's count (within the sync interval's slack), costs no database write per refused request, and does
// not lock the owner out; a WS-Security nonce accepted by one node is refused by the other.
func TestClusterLimits(t *testing.T) {
	t.Parallel()
	needServer(t)
	key := make([]byte, 32)
	rand.Read(key)
	dsn := pgtest.Schema(t)
	env := []string{"TOKENMANAGER_DB=" + dsn, "TOKENMANAGER_KEY=" + base64.StdEncoding.EncodeToString(key)}
	password := "admin-" + randomHex()
	const burst = 20
	flags := []string{"--trusted-proxies", "127.0.0.1", "--throttle-address", fmt.Sprintf("%d/1h", burst),
		"--throttle-account", "10/1h", "--limit-sync-interval", "50ms"}
	a := launchServer(t, &tmServer{DataDir: t.TempDir(), AdminPassword: password, Env: env}, flags...)
	b := launchServer(t, &tmServer{DataDir: t.TempDir(), AdminPassword: password, Env: env}, flags...)
	nodes := []*tmServer{a, b}
	ctx := context.Background()
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	lastWrite := func() int64 {
		var us int64
		if err := db.QueryRow(ctx, `SELECT coalesce(max(updated_us), 0) FROM limit_counters`).Scan(&us); err != nil {
			t.Fatal(err)
		}
		return us
	}
	rowsWrittenSince := func(us int64) int {
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM limit_counters WHERE updated_us > $1`, us).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	signIn := func(node *tmServer, client, user, pass string) int {
		h := http.Header{"X-Forwarded-For": {client}, "Authorization": {"Basic " + basicValue(user, pass)}}
		return do(t, "GET", node.URL+"/security/rest/token/access/60", "", h).Status
	}

	t.Run("a sign-in storm over two nodes is throttled at one node's count", func(t *testing.T) {
		const attacker = "203.0.113.66"
		// One address guessing passwords of many accounts, alternating between the nodes. Paced a little, as a
		// client going through a balancer would be; a node's own limit alone would let 2 × burst through.
		accepted := 0
		for i := range 3 * burst {
			switch s := signIn(nodes[i%2], attacker, fmt.Sprint("user", i), "guess"); s {
			case http.StatusUnauthorized:
				accepted++
			case http.StatusTooManyRequests:
			default:
				t.Fatalf("attempt %d: HTTP %d", i, s)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("%d of %d wrong passwords checked over two nodes; one node checks %d", accepted, 3*burst, burst)
		if accepted < burst || accepted >= burst*3/2 {
			t.Fatalf("%d wrong passwords checked over two nodes; want %d (one node's burst) up to the sync's slack, below %d",
				accepted, burst, burst*3/2)
		}
		// Both nodes now refuse the address, even with the right password, until the bucket refills.
		for _, n := range nodes {
			eventually(t, "throttled on "+n.Addr, func() error {
				if s := signIn(n, attacker, adminUser, password); s != http.StatusTooManyRequests {
					return fmt.Errorf("the throttled address with the right password: HTTP %d", s)
				}
				return nil
			})
		}
		// A flood of refusals costs the database nothing.
		time.Sleep(200 * time.Millisecond) // let the last counts be written
		before := lastWrite()
		for i := range 300 {
			if s := signIn(nodes[i%2], attacker, fmt.Sprint("flood", i), "guess"); s != http.StatusTooManyRequests {
				t.Fatalf("flood: HTTP %d", s)
			}
		}
		time.Sleep(200 * time.Millisecond) // several sync intervals
		if n := rowsWrittenSince(before); n != 0 {
			t.Fatalf("300 refused sign-ins wrote %d counter rows; want none", n)
		}
		// The owner, from an address that never failed, signs in on both nodes.
		for _, n := range nodes {
			if s := signIn(n, "192.0.2.10", adminUser, password); s != http.StatusOK {
				t.Fatalf("the owner from a clean address on %s: HTTP %d", n.Addr, s)
			}
		}
	})

	t.Run("a WS-Security nonce accepted on one node is refused on the other", func(t *testing.T) {
		const user, pass = "soapuser", "soap-password"
		a.mustCLI(t, pass+"\n", "user", "add", user, "--password-stdin", "--wsse-digest")
		post := func(node *tmServer, env string) response {
			return do(t, "POST", node.URL+"/security/TokenManagerService", env, http.Header{"Content-Type": {"text/xml"}})
		}
		for round := range 3 {
			nonce := make([]byte, 16)
			rand.Read(nonce)
			env := wsseDigestEnvelope(user, pass, nonce, time.Now().UTC().Format(time.RFC3339))
			first, other := nodes[round%2], nodes[(round+1)%2]
			if r := post(first, env); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "token") {
				t.Fatalf("round %d, first use: %s", round, r)
			}
			if r := post(other, env); r.Status == http.StatusOK || !strings.Contains(string(r.Body), "already used") {
				t.Fatalf("round %d, replay on the other node: %s", round, r)
			}
			if r := post(first, env); r.Status == http.StatusOK {
				t.Fatalf("round %d, replay on the same node: %s", round, r)
			}
		}
	})
}

// wsseDigestEnvelope is getAccessToken authenticated by a WS-Security UsernameToken PasswordDigest:
// Base64(SHA-1(nonce ‖ created ‖ password)).
func wsseDigestEnvelope(user, password string, nonce []byte, created string) string {
	sum := sha1.Sum(append(append(append([]byte{}, nonce...), created...), password...))
	return `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:u="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><s:Header>` +
		`<o:Security s:mustUnderstand="1" xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><o:UsernameToken>` +
		`<o:Username>` + user + `</o:Username>` +
		`<o:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">` +
		base64.StdEncoding.EncodeToString(sum[:]) + `</o:Password><o:Nonce>` + base64.StdEncoding.EncodeToString(nonce) +
		`</o:Nonce><u:Created>` + created + `</u:Created></o:UsernameToken></o:Security></s:Header>` +
		`<s:Body><getAccessToken xmlns="http://token.security.common.server.platform.spectrum.pb.com/"/></s:Body></s:Envelope>`
}
