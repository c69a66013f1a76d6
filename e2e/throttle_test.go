package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// fromAddr is an HTTP client whose connections come from the loopback address ip (any 127.x is ours on Linux),
// so the server sees a distinct client address without any proxy header.
func fromAddr(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{Proxy: nil, DialContext: d.DialContext}}
}

func statusFrom(t *testing.T, c *http.Client, req *http.Request) int {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// TestSignInStormDoesNotLockOutOwner: 20 addresses guess the admin password with the default throttle; the
// admin, from an address that has not failed, signs in at once; the guessers stay throttled, even with the
// right password; their flood of refusals writes one audit row per address, not one per request. A licensing
// API token is answered from an address that the throttle refuses for guessed tokens.
func TestSignInStormDoesNotLockOutOwner(t *testing.T) {
	srv := startServer(t)
	tokenURL := srv.URL + "/security/rest/token/access/60"
	signIn := func(c *http.Client, pass string) int {
		req, _ := http.NewRequest("GET", tokenURL, nil)
		req.SetBasicAuth(adminUser, pass)
		return statusFrom(t, c, req)
	}
	attackers := make([]*http.Client, 20)
	for i := range attackers {
		attackers[i] = fromAddr(fmt.Sprintf("127.0.1.%d", i+1))
	}
	refused := 0
	for range 3 {
		for _, c := range attackers {
			switch s := signIn(c, "guess"); s {
			case 401:
			case 429:
				refused++
			default:
				t.Fatalf("wrong password: HTTP %d", s)
			}
		}
	}
	if refused == 0 {
		t.Fatal("60 wrong passwords from 20 addresses, none throttled")
	}
	if s := signIn(fromAddr("127.0.0.1"), srv.AdminPassword); s != 200 {
		t.Fatalf("the admin from a clean address during the storm: HTTP %d", s)
	}
	for i, c := range attackers {
		if s := signIn(c, srv.AdminPassword); s != 429 {
			t.Fatalf("attacker %d with the right password: HTTP %d", i, s)
		}
	}
	for range 200 { // a flood of refusals from one address
		if s := signIn(attackers[0], "guess"); s != 429 {
			t.Fatalf("flood: HTTP %d", s)
		}
	}
	eventually(t, "throttled refusals audited per address", func() error {
		out, err := srv.cli(t, "", "audit", "--action", "login.fail", "--limit", "10000", "--json")
		if err != nil {
			return err
		}
		rows, perAddr := 0, map[string]int{}
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			var e struct{ Outcome, Subject, ClientHost, Detail string }
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				return err
			}
			if e.Outcome == "throttled" {
				rows++
				perAddr[e.ClientHost]++
			}
		}
		if len(perAddr) != len(attackers) || rows != len(attackers) {
			return fmt.Errorf("%d throttled rows from %d addresses, want one per attacker (%d)", rows, len(perAddr), len(attackers))
		}
		return nil
	})

	// Licensing API: guesses from one address are throttled, a valid token from it is not.
	srv.mustCLI(t, "", "vendor", "add", adminUser)
	product := createdID(t, srv.mustCLI(t, "", "product", "add", "NAT App", "--vendor", adminUser), "product")
	key := strings.TrimSpace(srv.mustCLI(t, "", "key", "create", "--product", product))
	token := strings.TrimSpace(srv.mustCLI(t, "", "apitoken", "create", "--vendor", adminUser, "--methods", "GetKey"))
	nat := fromAddr("127.0.2.1")
	getKey := func(tok string) int {
		form := url.Values{"token": {tok}, "ProductId": {product}, "Key": {key}}
		req, _ := http.NewRequestWithContext(context.Background(), "POST", srv.URL+"/api/key/GetKey", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return statusFrom(t, nat, req)
	}
	for range 60 {
		getKey("guess")
	}
	if s := getKey("guess"); s != 429 {
		t.Fatalf("a guessed token after 60 from the same address: HTTP %d", s)
	}
	if s := getKey(token); s != 200 {
		t.Fatalf("a valid token from the throttled address: HTTP %d", s)
	}
}
