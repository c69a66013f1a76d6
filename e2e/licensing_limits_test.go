package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestLicensingLimitsBinary drives the built binary's Cryptolens API: unsigned answers are never limited and
// carry a null signature; signed ones stop at --sign-limit-address with HTTP 429 in Cryptolens' envelope; a
// machine code with NUL or invalid UTF-8 is refused and not recorded; ExtendLicense stops before year 9999.
func TestLicensingLimitsBinary(t *testing.T) {
	t.Parallel()
	srv := startServer(t, "--sign-limit-address", "3/1h")
	srv.mustCLI(t, "", "vendor", "add", adminUser)
	product := createdID(t, srv.mustCLI(t, "", "product", "add", "Limits App", "--vendor", adminUser), "product")
	key := strings.TrimSpace(srv.mustCLI(t, "", "key", "create", "--product", product, "--max-machines", "3", "--period", "30"))
	token := strings.TrimSpace(srv.mustCLI(t, "", "apitoken", "create", "--vendor", adminUser, "--methods", "Activate,GetKey,ExtendLicense",
		"--product-lock", product))
	client := &http.Client{Timeout: 10 * time.Second}
	call := func(method string, kv ...string) (int, map[string]any) {
		t.Helper()
		f := url.Values{"token": {token}, "ProductId": {product}, "Key": {key}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		resp, err := client.PostForm(srv.URL+"/api/key/"+method, f)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: HTTP %d %q", method, resp.StatusCode, b)
		}
		return resp.StatusCode, m
	}

	for i := range 3 {
		if st, m := call("GetKey", "Sign", "true", "SignMethod", "1"); st != 200 || m["result"] != float64(0) || m["signature"] == nil {
			t.Fatalf("signed GetKey %d: HTTP %d %v", i, st, m)
		}
	}
	st, m := call("GetKey", "Sign", "true", "SignMethod", "1")
	if st != http.StatusTooManyRequests || m["result"] != float64(1) ||
		!regexp.MustCompile(`^Too many signed requests\. Try again in \d+ seconds\.$`).MatchString(m["message"].(string)) {
		t.Fatalf("fourth signed GetKey: HTTP %d %v; want 429 with Cryptolens' error envelope", st, m)
	}
	for i := range 10 {
		if st, m := call("GetKey"); st != 200 || m["result"] != float64(0) || m["signature"] != nil {
			t.Fatalf("unsigned GetKey %d after the limit: HTTP %d %v", i, st, m)
		}
	}

	for _, mc := range []string{"ab\x00cd", "ab\xffcd", "ab\x1b[2Jcd"} {
		if st, m := call("Activate", "MachineCode", mc, "FriendlyName", "pc"); st != 200 || m["result"] != float64(1) ||
			m["message"] != "The input parameters were incorrect." {
			t.Fatalf("Activate with machine code %q: HTTP %d %v", mc, st, m)
		}
	}
	if st, m := call("Activate", "MachineCode", "good-machine"); st != 200 || m["result"] != float64(0) {
		t.Fatalf("Activate: HTTP %d %v", st, m)
	}
	if out := srv.mustCLI(t, "", "activation", "list", "--product", product, key); strings.Contains(out, "ab") ||
		!strings.Contains(out, "good-machine") {
		t.Fatalf("activation list:\n%s", out)
	}

	refused := false
	for i := 0; i < 100 && !refused; i++ { // 100 × 36,600 days would pass year 10,000
		_, m := call("ExtendLicense", "NoOfDays", "36600")
		refused = m["result"] == float64(1)
		if refused && m["message"] != "The input parameters were incorrect." {
			t.Fatalf("extension %d: %v", i, m)
		}
	}
	show := srv.mustCLI(t, "", "key", "show", "--product", product, key)
	expires := regexp.MustCompile(`(?m)^expires:\s+(\S+)`).FindStringSubmatch(show)
	if !refused || expires == nil || !regexp.MustCompile(`^9\d\d\d-\d\d-\d\d`).MatchString(expires[1]) {
		t.Fatalf("after extending until refused (%v), key show:\n%s", refused, show)
	}
}
