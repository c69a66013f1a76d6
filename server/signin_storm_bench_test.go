package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
	"github.com/tokenmanager/tokenmanager/storage"
)

// BenchmarkVerifyDuringSignInStorm measures token checks (GET /verify) with nothing else running, and while 8
// clients send wrong passwords (argon2id at the default cost, no throttle: the storm that gets past it) as
// fast as they are answered. slots is how many of those may hash at once: the default (half the CPUs) next to
// every CPU. Compare the p50-ms and p99-ms figures.
func BenchmarkVerifyDuringSignInStorm(b *testing.B) {
	for _, c := range []struct {
		name  string
		storm bool
		slots int
	}{
		{"quiet", false, 0},
		{"storm/slots=default", true, 0},
		{"storm/slots=GOMAXPROCS", true, runtime.GOMAXPROCS(0)},
	} {
		b.Run(c.name, func(b *testing.B) {
			st := newStack(b, func(su *servertest.Setup) {
				su.Wire = append(su.Wire, func(st *servertest.Stack, d *server.Deps) {
					d.Auth = auth.New(st.Store, auth.Options{Params: servertest.Cheap, CacheKey: []byte("k"), CacheTTL: time.Minute, HashConcurrency: c.slots})
				})
			})
			h, _ := auth.HashPassword("the real one", auth.DefaultParams)
			if err := st.Store.CreateUser(context.Background(), storage.User{Name: "stormed", PasswordHash: h}); err != nil {
				b.Fatal(err)
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			get := func(path string, h http.Header) (int, []byte) {
				req, _ := http.NewRequest("GET", st.URL+path, nil)
				req.Header = h
				resp, err := client.Do(req)
				if err != nil {
					return 0, nil
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, body
			}
			status, body := get("/security/rest/token/access/session/0", http.Header{"Authorization": {servertest.Basic("simon0897", "s3cret")}})
			var signIn struct {
				AccessToken string `json:"access_token"`
				Session     string `json:"session"`
			}
			if err := json.Unmarshal(body, &signIn); status != 200 || err != nil {
				b.Fatalf("sign-in: %d %s", status, body)
			}
			verify := http.Header{"Authorization": {"Bearer " + signIn.AccessToken}, "Cookie": {"SESSION=" + signIn.Session}}

			ctx, stop := context.WithCancel(context.Background())
			var storm sync.WaitGroup
			if c.storm {
				for w := range 8 {
					storm.Go(func() {
						for i := 0; ctx.Err() == nil; i++ {
							get("/security/rest/token/access/60", http.Header{"Authorization": {servertest.Basic("stormed", "guess-"+strconv.Itoa(w)+"-"+strconv.Itoa(i))}})
						}
					})
				}
				time.Sleep(200 * time.Millisecond) // let the storm fill the hashing slots
			}
			var lat []time.Duration
			for b.Loop() {
				t0 := time.Now()
				if status, body := get(server.PathVerify, verify); status != 200 {
					b.Fatalf("verify: %d %s", status, body)
				}
				lat = append(lat, time.Since(t0))
			}
			stop()
			storm.Wait()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
