package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

// TestCrashSafety kills the server with SIGKILL at random moments under issuance and activation load, twenty
// times, restarting it each time on the same data. Then every token a client received still verifies, every
// activation a client was told succeeded is there, no refused activation is, and the database is whole.
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	first := startServer(t)
	dataDir, password := first.DataDir, first.AdminPassword

	// A license key with five seats, and a token that may activate it.
	first.mustCLI(t, "", "vendor", "add", adminUser)
	product := createdID(t, first.mustCLI(t, "", "product", "add", "Crash App", "--vendor", adminUser), "product")
	key := strings.TrimSpace(first.mustCLI(t, "", "key", "create", "--product", product, "--max-machines", "5", "--period", "30"))
	licToken := strings.TrimSpace(first.mustCLI(t, "", "apitoken", "create", "--vendor", adminUser, "--methods", "Activate",
		"--product-lock", product, "--name", "crash test"))
	first.Stop()

	type token struct{ access, session string }
	var (
		mu        sync.Mutex
		tokens    []token
		activated = map[string]bool{}
		refused   = map[string]bool{}
	)
	client := &http.Client{Timeout: 5 * time.Second}
	issue := func(base string, session bool) {
		path := "/security/rest/token/access/60"
		if session {
			path = "/security/rest/token/access/session/0"
		}
		req, _ := http.NewRequest("GET", base+path, nil)
		req.SetBasicAuth(adminUser, password)
		resp, err := client.Do(req)
		if err != nil {
			return // the server died under us: nothing was acknowledged
		}
		defer resp.Body.Close()
		var rt restToken
		if resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&rt) == nil {
			mu.Lock()
			tokens = append(tokens, token{rt.AccessToken, rt.Session})
			mu.Unlock()
		}
	}
	activate := func(base, machine string) {
		form := url.Values{"token": {licToken}, "ProductId": {product}, "Key": {key}, "MachineCode": {machine}}
		resp, err := client.PostForm(base+"/api/key/Activate", form)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var r struct {
			Result  int    `json:"result"`
			Message string `json:"message"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &r) != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Result == 0:
			activated[machine] = true
		case strings.Contains(r.Message, "limit has been reached"):
			refused[machine] = true
		}
	}

	rng := rand.New(rand.NewPCG(20261123, 1))
	for round := range 20 {
		srv := launchServer(t, &tmServer{DataDir: dataDir, AdminPassword: password})
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if w == 0 {
						activate(srv.URL, fmt.Sprintf("machine-%d-%d", round, i))
					} else {
						issue(srv.URL, (i+w)%2 == 0)
					}
				}
			}()
		}
		// Kill at a random moment once the round is under way (a loaded machine may take a while to start a server
		// and verify its first password).
		mu.Lock()
		before := len(tokens)
		mu.Unlock()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			mu.Lock()
			n := len(tokens)
			mu.Unlock()
			if n >= before+5 {
				break
			}
		}
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		srv.Kill()
		close(stop)
		wg.Wait()
	}

	final := launchServer(t, &tmServer{DataDir: dataDir, AdminPassword: password})
	if len(tokens) < 100 {
		t.Fatalf("only %d tokens acknowledged over 20 rounds: too little load to judge", len(tokens))
	}
	for _, tok := range tokens {
		kind := "open"
		if tok.session != "" {
			kind = "session"
		}
		final.mustVerify(t, "token acknowledged before a crash", tok.access, tok.session, adminUser, kind)
	}
	r := get(t, final.URL+"/admin/v1/license/activations?product="+product+"&key="+key, adminUser, password, "", nil)
	var list struct {
		Items []struct {
			MachineCode string `json:"machine_code"`
		}
	}
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &list) != nil {
		t.Fatalf("activations: %s", r)
	}
	present := map[string]bool{}
	for _, a := range list.Items {
		present[a.MachineCode] = true
	}
	for m := range activated {
		if !present[m] {
			t.Errorf("activation of %s was acknowledged and is lost", m)
		}
	}
	for m := range refused {
		if present[m] {
			t.Errorf("activation of %s was refused and is there", m)
		}
	}
	if len(present) > 5 || len(activated) == 0 || len(refused) == 0 {
		t.Fatalf("%d machines activated on 5 seats; %d acknowledged, %d refused", len(present), len(activated), len(refused))
	}
	final.Stop()

	// Nothing half-written: SQLite's own checks on the file.
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dataDir, "tokenmanager.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var integrity string
	if err := db.QueryRowContext(context.Background(), `PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %q, %v", integrity, err)
	}
	rows, err := db.QueryContext(context.Background(), `PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Fatal("foreign_key_check found rows pointing nowhere")
	}
	t.Logf("20 crashes: %d acknowledged tokens all verify; %d acknowledged and %d refused activations as told", len(tokens), len(activated), len(refused))
}
