package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/postgres"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

// tmbench writes what its scenarios need (an API client, users, P4's rows) straight into the server's store,
// through the storage interface, while the server runs: a second process on the SQLite file is fine (WAL, busy
// timeout), and on PostgreSQL it is one more client of the run's schema.

// openStore opens the first node's store on first use.
func (e *benchEnv) openStore(ctx context.Context) (storage.Store, error) {
	if e.store != nil {
		return e.store, nil
	}
	var err error
	if e.dsn != "" {
		e.store, err = postgres.Open(ctx, e.dsn)
	} else {
		e.store, err = sqlite.Open(ctx, filepath.Join(e.srv.DataDir(), "tokenmanager.db"))
	}
	if err != nil {
		e.store = nil
		return nil, fmt.Errorf("opening the server's store: %w", err)
	}
	return e.store, nil
}

// closeStore closes tmbench's handle on the store (before the server stops); safe to call twice.
func (e *benchEnv) closeStore() {
	if e.store != nil {
		if err := e.store.Close(); err != nil {
			e.logf("closing the store: %v", err)
		}
		e.store = nil
	}
}

// oauthCreds is the API client the OAuth scenarios authenticate as.
type oauthCreds struct {
	id, key string
	basic   string // client_secret_basic Authorization value
}

// oauthClient creates the run's API client (once) through the apiclient package on the server's store.
func (e *benchEnv) oauthClient(ctx context.Context) (*oauthCreds, error) {
	if e.oauth != nil {
		return e.oauth, nil
	}
	store, err := e.openStore(ctx)
	if err != nil {
		return nil, err
	}
	c, err := apiclient.New(store, apiclient.Config{}, nil).Create(ctx, apiclient.Spec{
		ID: "tmbench", Description: "tmbench load generator", Scopes: []string{"bench"}})
	if err != nil {
		return nil, fmt.Errorf("creating the API client: %w", err)
	}
	e.oauth = &oauthCreds{id: c.Client.ID, key: c.PrimaryKey, basic: clientBasic(c.Client.ID, c.PrimaryKey)}
	return e.oauth, nil
}

// createColdUsers measures one argon2id verification with the server's default parameters (for P3's target)
// and creates --cold-users users sharing one password hash made with them: each user's first sign-in costs the
// server a full verification (its credential cache is keyed by user and password), and creating them costs
// one hash in all.
func (e *benchEnv) createColdUsers(ctx context.Context) (names []string, password string, err error) {
	store, err := e.openStore(ctx)
	if err != nil {
		return nil, "", err
	}
	password = rand.Text()
	hash, err := auth.HashPassword(password, auth.DefaultParams)
	if err != nil {
		return nil, "", err
	}
	t, err := medianVerifyTime(hash, password, 7)
	if err != nil {
		return nil, "", err
	}
	e.rep.Argon2VerifyMs = float64(t) / float64(time.Millisecond)
	e.logf("argon2id (m=%d KiB, t=%d, p=%d): median verification %v of 7 in tmbench", auth.DefaultParams.Memory,
		auth.DefaultParams.Time, auth.DefaultParams.Threads, t.Round(10*time.Microsecond))

	n := e.o.coldUsers
	names = make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("cold%06d", i)
	}
	now := time.Now()
	start := time.Now()
	err = inParallel(ctx, 4, n, func(ctx context.Context, i int) error {
		return store.CreateUser(ctx, storage.User{Name: names[i], PasswordHash: hash, CreatedAt: now, UpdatedAt: now})
	})
	if err != nil {
		return nil, "", fmt.Errorf("creating cold users: %w", err)
	}
	e.logf("created %d users with never-verified passwords in %v", n, time.Since(start).Round(time.Millisecond))
	return names, password, nil
}

// medianVerifyTime is the median wall time of n auth.VerifyPassword calls.
func medianVerifyTime(hash, password string, n int) (time.Duration, error) {
	times := make([]time.Duration, n)
	for i := range times {
		t0 := time.Now()
		ok, err := auth.VerifyPassword(hash, password)
		times[i] = time.Since(t0)
		if err != nil || !ok {
			return 0, fmt.Errorf("argon2id verification failed: %v", err)
		}
	}
	return median(times), nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// inParallel runs fn(i) for i in [0, n) on workers goroutines and returns the first error (after which the
// others stop taking work).
func inParallel(ctx context.Context, workers, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex
	next := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}
