package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBackupUnderLoad takes a backup while clients obtain tokens, restores it into the data directory, and
// checks that every token acknowledged before the backup began verifies on the restored database, while the
// tokens issued after the backup ended do not exist there.
func TestBackupUnderLoad(t *testing.T) {
	t.Parallel()
	srv := startServer(t)

	type ack struct {
		token string
		sent  time.Time // when the client sent the request
		at    time.Time // when the client had the answer in hand
	}
	var (
		mu    sync.Mutex
		acked []ack
		stop  = make(chan struct{})
		wg    sync.WaitGroup
		errs  = make(chan error, 4)
	)
	client := &http.Client{Timeout: 10 * time.Second}
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("GET", srv.URL+"/security/rest/token/access/60", nil)
				req.SetBasicAuth(adminUser, srv.AdminPassword)
				sent := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var rt restToken
				if resp.StatusCode != 200 || json.Unmarshal(body, &rt) != nil {
					errs <- fmt.Errorf("issue under load: %d %s", resp.StatusCode, body)
					return
				}
				mu.Lock()
				acked = append(acked, ack{rt.AccessToken, sent, time.Now()})
				mu.Unlock()
			}
		}()
	}

	// waitAcked waits until at least n tokens requested after since have been acknowledged (the load runs on).
	waitAcked := func(n int, since time.Time) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			count := 0
			for _, a := range acked {
				if a.sent.After(since) {
					count++
				}
			}
			mu.Unlock()
			if count >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d tokens acknowledged in 30 s", count)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitAcked(20, time.Time{})
	backupFile := filepath.Join(t.TempDir(), "backup.db")
	began := time.Now()
	out := srv.mustCLI(t, "", "backup", backupFile)
	ended := time.Now()
	waitAcked(20, ended) // and it keeps running after
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if !strings.Contains(out, "backed up") {
		t.Fatalf("backup said %q", out)
	}
	var before, after []string
	for _, a := range acked {
		switch {
		case a.at.Before(began):
			before = append(before, a.token)
		case a.sent.After(ended): // asked for after the snapshot was complete, so committed after it
			after = append(after, a.token)
		}
	}
	if len(before) < 10 || len(after) < 10 {
		t.Fatalf("load too thin to judge: %d tokens before the backup, %d after", len(before), len(after))
	}

	srv.Stop()
	if _, err := srv.cli(t, "", "backup", backupFile); err == nil {
		t.Fatal("backup overwrote an existing file without --force")
	}
	srv.mustCLI(t, "", "restore", backupFile)
	restored := launchServer(t, &tmServer{DataDir: srv.DataDir, AdminPassword: srv.AdminPassword})
	for _, tok := range before {
		restored.mustVerify(t, "token acknowledged before the backup", tok, "", adminUser, "open")
	}
	for _, tok := range after[:10] {
		restored.mustReject(t, "token issued after the backup", tok, "")
	}
	t.Logf("%d tokens acknowledged before the backup all verify after restore; %d issued after it are gone", len(before), len(after))
}
