package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// TestWooCommerceEndpointsGuarded, against the binary: the token endpoint issues a key a bounded number of
// tokens; a wrong store code gets the answer an unknown key gets; guessing from one address is throttled while
// other addresses are served; a disabled vendor's keys get no token and no activation.
func TestWooCommerceEndpointsGuarded(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--throttle-address", "5/1m")
	srv.mustCLI(t, "acme-pass-1\n", "user", "add", "acme", "--password-stdin")
	srv.mustCLI(t, "", "vendor", "add", "acme")
	product := createdID(t, srv.mustCLI(t, "", "product", "add", "Shop App", "--vendor", "acme"), "product")
	key := strings.TrimSpace(srv.mustCLI(t, "", "key", "create", "--product", product))
	const code = "acme-store-code-1"
	srv.mustCLI(t, code+"\n", "woo", "store", "add", "acme", "--code-stdin", "--name", "acme shop")
	srv.mustCLI(t, "", "woo", "sku", "set", "1", "APP", product)
	wooKey := strings.TrimSpace(srv.mustCLI(t, "", "woo", "key", product, key))

	type answer struct {
		status     int
		retryAfter string
		body       string
	}
	call := func(from, op string, form url.Values) answer {
		t.Helper()
		c := pageClient(t, from).c
		req, _ := http.NewRequest("POST", srv.URL+"/wp-json/woo-license-keys/v1/"+op, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return answer{resp.StatusCode, resp.Header.Get("Retry-After"), strings.TrimSpace(string(b))}
	}
	grant := url.Values{"grant_type": {"license_key"}, "license_key": {wooKey}}
	activate := func(storeCode, k string) url.Values {
		return url.Values{"store_code": {storeCode}, "sku": {"APP"}, "license_key": {k}, "domain": {"shop.example"}}
	}
	const invalidKey = `{"error":true,"status":500,"errors":{"license_key":["Invalid license key."]}}`
	const tooMany = `{"error":true,"status":429,"errors":{"license_key":["Too many attempts. Try again later."]}}`

	// Tokens for one key: 20 at once, then 429 with Retry-After.
	for i := range 20 {
		if a := call("127.0.0.1", "token", grant); a.status != 200 {
			t.Fatalf("token %d: %+v", i+1, a)
		}
	}
	if a := call("127.0.0.1", "token", grant); a.status != 429 || a.body != tooMany || a.retryAfter == "" {
		t.Fatalf("the 21st token at once: %+v", a)
	}

	// A wrong store code is answered like an unknown key at the right one.
	unknown := call("127.0.0.3", "activate", activate(code, "ABCDEFGHIJKLMNOPQRST-424242"))
	wrong := call("127.0.0.2", "activate", activate("guess-0", wooKey))
	if unknown.body != invalidKey || wrong != unknown {
		t.Fatalf("wrong store code %+v; unknown key %+v; want both %s", wrong, unknown, invalidKey)
	}
	// Guessing from 127.0.0.2 is throttled after 5 failures; the right request then waits there too, and is
	// served from 127.0.0.1.
	for i := 1; i < 5; i++ {
		if a := call("127.0.0.2", "activate", activate("guess-"+strconv.Itoa(i), wooKey)); a.body != invalidKey {
			t.Fatalf("guess %d: %+v", i, a)
		}
	}
	if a := call("127.0.0.2", "activate", activate(code, wooKey)); a.status != 429 || a.body != tooMany || a.retryAfter == "" {
		t.Fatalf("the right store code from the guessing address: %+v", a)
	}
	if a := call("127.0.0.1", "activate", activate(code, wooKey)); a.status != 200 {
		t.Fatalf("the right store code from another address: %+v", a)
	}

	// A disabled vendor: no token, no activation, the answers of an unknown key (once the node's cache has
	// heard of the change).
	other := strings.TrimSpace(srv.mustCLI(t, "", "woo", "key", product, strings.TrimSpace(srv.mustCLI(t, "", "key", "create", "--product", product))))
	srv.mustCLI(t, "", "user", "disable", "acme")
	eventually(t, "activation at a disabled vendor's store refused", func() error {
		if a := call("127.0.0.1", "activate", activate(code, other)); a.body != invalidKey {
			return fmt.Errorf("activation at a disabled vendor's store: %+v", a)
		}
		return nil
	})
	if a := call("127.0.0.1", "token", url.Values{"grant_type": {"license_key"}, "license_key": {other}}); a.status != 500 || a.body != invalidKey {
		t.Fatalf("token for a disabled vendor's key: %+v", a)
	}
}
