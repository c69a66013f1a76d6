package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage/postgres/pgtest"
)

// TestCluster runs two `tokenmanager serve` nodes on one PostgreSQL database with one shared server key, behind
// a load balancer that the test plays (both nodes trust 127.0.0.1 as a proxy, and the test says in
// X-Forwarded-For who the client is). What one node does holds on the other at once; a node killed under load
// loses no token it acknowledged.
func TestCluster(t *testing.T) {
	t.Parallel()
	needServer(t)
	key := make([]byte, 32)
	rand.Read(key)
	dsn := pgtest.Schema(t)
	env := []string{"TOKENMANAGER_DB=" + dsn, "TOKENMANAGER_KEY=" + base64.StdEncoding.EncodeToString(key)}
	password := "admin-" + randomHex()
	flags := []string{"--trusted-proxies", "127.0.0.1", "--gc-interval", "200ms"}
	a := launchServer(t, &tmServer{DataDir: t.TempDir(), AdminPassword: password, Env: env}, flags...)
	b := launchServer(t, &tmServer{DataDir: t.TempDir(), AdminPassword: password, Env: env}, flags...)

	t.Run("tokens and logouts hold on both nodes", func(t *testing.T) {
		const client = "198.51.100.7"
		open := issueVia(t, a, client, false)
		verifyVia(t, b, open, client, http.StatusOK)
		sess := issueVia(t, a, client, true)
		verifyVia(t, b, sess, client, http.StatusOK)
		verifyVia(t, a, sess, client, http.StatusOK)
		// The host check sees the client behind the balancer, on whichever node it lands.
		verifyVia(t, b, sess, "198.51.100.8", http.StatusUnauthorized)
		verifyVia(t, b, sess, "", http.StatusUnauthorized) // the balancer itself
		// Logout on B: refused on A.
		r := do(t, "GET", b.URL+"/security/rest/token/logout", "", clusterHeader(client, sess))
		if r.Status != http.StatusOK {
			t.Fatalf("logout on B: %s", r)
		}
		verifyVia(t, b, sess, client, http.StatusUnauthorized) // at once on the node that made the change
		verifyViaSoon(t, a, sess, client, http.StatusUnauthorized)
		verifyVia(t, a, open, client, http.StatusOK) // another token of the same user lives on
		a.mustCLI(t, "", "token", "revoke-user", adminUser)
		verifyViaSoon(t, b, open, client, http.StatusUnauthorized)
	})

	t.Run("a PowerAuth nonce is accepted once across nodes", func(t *testing.T) {
		const user, pass = "mobile", "mobile-password"
		a.mustCLI(t, pass+"\n", "user", "add", user, "--password-stdin")
		activation := strings.TrimSpace(a.mustCLI(t, "", "powerauth", "activation", "create", user, "--name", "phone"))
		r := paPost(t, a.URL+"/pa/v3/token/create", user, pass, `{"activationId":"`+activation+`"}`)
		var tok struct {
			TokenID     string `json:"tokenId"`
			TokenSecret string `json:"tokenSecret"`
		}
		if r.Status != http.StatusOK || json.Unmarshal(r.Body, &tok) != nil {
			t.Fatalf("token create on A: %s", r)
		}
		secret, _ := base64.StdEncoding.DecodeString(tok.TokenSecret)
		h := paClientHeader(tok.TokenID, secret, "3.3")
		if r := paVerify(t, b.URL, h); r.Status != http.StatusOK { // created on A, checked on B
			t.Fatalf("first use on B: %s", r)
		}
		if r := paVerify(t, a.URL, h); r.Status != http.StatusUnauthorized {
			t.Fatalf("replay on A: %s", r)
		}
		// The same header sent to both nodes at once, several times each: one acceptance per header.
		for round := range 5 {
			h := paClientHeader(tok.TokenID, secret, "3.3")
			statuses := raceNodes(t, []*tmServer{a, b}, 8, func(node *tmServer) (int, error) {
				req, _ := http.NewRequest("GET", node.URL+"/pa/v3/token/verify", nil)
				req.Header.Set("X-PowerAuth-Token", h)
				return statusOf(req)
			})
			if statuses[http.StatusOK] != 1 || statuses[http.StatusUnauthorized] != 7 {
				t.Fatalf("round %d: statuses %v; want one 200 and seven 401", round, statuses)
			}
		}
	})

	t.Run("two nodes racing for the last seat: one winner", func(t *testing.T) {
		a.mustCLI(t, "", "vendor", "add", adminUser)
		product := createdID(t, a.mustCLI(t, "", "product", "add", "Cluster App", "--vendor", adminUser), "product")
		key := strings.TrimSpace(b.mustCLI(t, "", "key", "create", "--product", product, "--max-machines", "3"))
		token := strings.TrimSpace(a.mustCLI(t, "", "apitoken", "create", "--vendor", adminUser, "--methods", "Activate",
			"--product-lock", product, "--name", "cluster"))
		activate := func(node *tmServer, machine string) (int, error) {
			res, err := httpClient.PostForm(node.URL+"/api/key/Activate", url.Values{"token": {token}, "ProductId": {product},
				"Key": {key}, "MachineCode": {machine}})
			if err != nil {
				return 0, err
			}
			defer res.Body.Close()
			var answer struct {
				Result  int    `json:"result"`
				Message string `json:"message"`
			}
			body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
			if err := json.Unmarshal(body, &answer); err != nil {
				return 0, fmt.Errorf("HTTP %d %q: %v", res.StatusCode, body, err)
			}
			if answer.Result != 0 && answer.Message != "Cannot activate the new device as the limit has been reached." {
				return 0, fmt.Errorf("HTTP %d %q", res.StatusCode, body)
			}
			return answer.Result, nil
		}
		for i, node := range []*tmServer{a, b} {
			if res, err := activate(node, fmt.Sprint("seated-", i)); err != nil || res != 0 {
				t.Fatalf("activation %d: result %d, %v", i, res, err)
			}
		}
		var n atomic.Int32
		results := raceNodes(t, []*tmServer{a, b}, 16, func(node *tmServer) (int, error) {
			return activate(node, fmt.Sprint("racer-", n.Add(1)))
		})
		if results[0] != 1 || results[1] != 15 {
			t.Fatalf("results %v; want one success (0) and fifteen refusals (1)", results)
		}
		list := a.mustCLI(t, "", "activation", "list", "--product", product, key)
		if c := strings.Count(list, "racer-") + strings.Count(list, "seated-"); c != 3 {
			t.Fatalf("%d machines on a key for 3:\n%s", c, list)
		}
	})

	t.Run("garbage collection on both nodes", func(t *testing.T) {
		const client = "198.51.100.9"
		collected := func() int { return strings.Count(a.out.String()+b.out.String(), `"msg":"garbage collected"`) }
		before := collected()
		live := issueVia(t, b, client, false)
		for range 10 {
			tok := issueVia(t, a, client, true)
			if r := do(t, "GET", b.URL+"/security/rest/token/logout", "", clusterHeader(client, tok)); r.Status != http.StatusOK {
				t.Fatalf("logout: %s", r)
			}
		}
		deadline := time.Now().Add(20 * time.Second)
		for collected() == before {
			if time.Now().After(deadline) {
				t.Fatal("no node collected the logged-out tokens in 20 s")
			}
			time.Sleep(100 * time.Millisecond)
		}
		for _, node := range []*tmServer{a, b} {
			if strings.Contains(node.out.String(), `"msg":"garbage collection"`) {
				t.Errorf("a node's garbage collection failed:\n%s", node.out.String())
			}
			verifyVia(t, node, live, client, http.StatusOK)
		}
	})

	t.Run("the CLI on a PostgreSQL database", func(t *testing.T) {
		u, _ := url.Parse(dsn)
		dbPassword, _ := u.User.Password()
		if out := a.mustCLI(t, "", "migrate"); !strings.Contains(out, "schema at version") || (dbPassword != "" && strings.Contains(out, ":"+dbPassword+"@")) {
			t.Fatalf("migrate: %q", out)
		}
		if out := a.mustCLI(t, "", "config", "print"); !strings.Contains(out, `db `) || !strings.Contains(out, `"postgres://…@`) ||
			(dbPassword != "" && strings.Contains(out, dbPassword+"@")) {
			t.Fatalf("config print shows the database as:\n%s", out)
		}
		if _, err := a.cli(t, "", "backup", t.TempDir()+"/x"); err == nil || !strings.Contains(err.Error(), "pg_dump") {
			t.Fatalf("backup on PostgreSQL: %v; want a pointer to pg_dump", err)
		}
	})

	// Last: node A dies (SIGKILL) while clients obtain tokens from both nodes. B keeps serving, and every token
	// either node acknowledged verifies on B.
	t.Run("a node killed under load", func(t *testing.T) {
		const client = "198.51.100.10"
		type ack struct {
			token string
			node  string
			after bool // acknowledged after the kill
		}
		var (
			mu     sync.Mutex
			acks   []ack
			killed atomic.Bool
			stop   atomic.Bool
			wg     sync.WaitGroup
			errs   = make(chan error, 16)
		)
		load := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}
		defer load.CloseIdleConnections()
		for w := range 6 {
			wg.Go(func() {
				for i := 0; !stop.Load(); i++ {
					node, name := b, "B"
					if (w+i)%2 == 0 && !killed.Load() {
						node, name = a, "A"
					}
					wasKilled := killed.Load()
					req, _ := http.NewRequest("GET", node.URL+"/security/rest/token/access/60", nil)
					req.Header.Set("Authorization", "Basic "+basicValue(adminUser, password))
					req.Header.Set("X-Forwarded-For", client)
					res, err := load.Do(req)
					if err != nil {
						if name == "A" && killed.Load() {
							continue // A died under this request: not acknowledged
						}
						errs <- fmt.Errorf("node %s: %v", name, err)
						return
					}
					body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
					res.Body.Close()
					var rt restToken
					if res.StatusCode != http.StatusOK || json.Unmarshal(body, &rt) != nil || rt.AccessToken == "" {
						errs <- fmt.Errorf("node %s: HTTP %d %q", name, res.StatusCode, body)
						return
					}
					mu.Lock()
					acks = append(acks, ack{rt.AccessToken, name, wasKilled})
					mu.Unlock()
				}
			})
		}
		waitFor := func(what string, enough func(a ack) bool, n int) {
			deadline := time.Now().Add(30 * time.Second)
			for {
				mu.Lock()
				c := 0
				for _, a := range acks {
					if enough(a) {
						c++
					}
				}
				mu.Unlock()
				if c >= n {
					return
				}
				if time.Now().After(deadline) || len(errs) > 0 {
					stop.Store(true)
					wg.Wait()
					close(errs)
					for err := range errs {
						t.Error(err)
					}
					t.Fatalf("%d of %d %s in 30 s", c, n, what)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		waitFor("tokens from A", func(a ack) bool { return a.node == "A" }, 40)
		waitFor("tokens from B", func(a ack) bool { return a.node == "B" }, 40)
		killed.Store(true)
		a.kill()
		waitFor("tokens from B after the kill", func(a ack) bool { return a.after }, 40)
		stop.Store(true)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		fromA := 0
		for _, k := range acks {
			if k.node == "A" {
				fromA++
			}
			r, vb := b.verify(t, k.token, "")
			if r.Status != http.StatusOK || vb.Username != adminUser {
				t.Fatalf("a token node %s acknowledged does not verify on B: %s", k.node, r)
			}
		}
		t.Logf("%d tokens acknowledged (%d by A before it was killed); all verify on B", len(acks), fromA)
	})
}

// clusterHeader is what the load balancer forwards: the client's address and, for session tokens, its token
// and SESSION cookie.
func clusterHeader(client string, tok restToken) http.Header {
	h := http.Header{}
	if client != "" {
		h.Set("X-Forwarded-For", client)
	}
	if tok.AccessToken != "" {
		h.Set("Authorization", "Bearer "+tok.AccessToken)
	}
	if tok.Session != "" {
		h.Set("Cookie", "SESSION="+tok.Session)
	}
	return h
}

// issueVia obtains a token from node for the client behind the balancer: a session token, or an open one.
func issueVia(t *testing.T, node *tmServer, client string, session bool) restToken {
	t.Helper()
	path := "/security/rest/token/access/60"
	if session {
		path = "/security/rest/token/access/session/60"
	}
	h := clusterHeader(client, restToken{})
	h.Set("Authorization", "Basic "+basicValue(adminUser, node.AdminPassword))
	r := do(t, "GET", node.URL+path, "", h)
	var rt restToken
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &rt) != nil || (session && rt.Session == "") {
		t.Fatalf("GET %s: %s", path, r)
	}
	return rt
}

func verifyVia(t *testing.T, node *tmServer, tok restToken, client string, want int) {
	t.Helper()
	if r := do(t, "GET", node.URL+"/security/rest/token/verify", "", clusterHeader(client, tok)); r.Status != want {
		t.Errorf("verify on %s from %q: %s; want HTTP %d", node.Addr, client, r, want)
	}
}

// verifyViaSoon is verifyVia for a change another node made: it must show within crossProcessBound.
func verifyViaSoon(t *testing.T, node *tmServer, tok restToken, client string, want int) {
	t.Helper()
	eventually(t, "verify on "+node.Addr, func() error {
		if r := do(t, "GET", node.URL+"/security/rest/token/verify", "", clusterHeader(client, tok)); r.Status != want {
			return fmt.Errorf("from %q: %s; want HTTP %d", client, r, want)
		}
		return nil
	})
}

// raceNodes runs call n times at once, alternating between the nodes, and counts the results.
func raceNodes(t *testing.T, nodes []*tmServer, n int, call func(*tmServer) (int, error)) map[int]int {
	t.Helper()
	results := make([]int, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = call(nodes[i%len(nodes)])
		})
	}
	close(start)
	wg.Wait()
	counts := map[int]int{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		counts[results[i]]++
	}
	return counts
}

// statusOf sends req and returns the status, from any goroutine.
func statusOf(req *http.Request) (int, error) {
	res, err := httpClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	return res.StatusCode, nil
}
