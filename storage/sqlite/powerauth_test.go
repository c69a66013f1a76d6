package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

// Two processes (here: two Stores, each with its own connections) over one database file race to use the same
// nonce; the file's write lock must let exactly one of them win, which is what makes the replay cache hold
// across nodes sharing the file.
func TestPowerAuthNonceRaceAcrossStores(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tokens.db")
	var stores [2]*sqlite.Store
	for i := range stores {
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	const perStore = 8
	for round := range 5 {
		nonce := fmt.Appendf(nil, "cross-store-%02d", round)
		errs := make([]error, 2*perStore)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range errs {
			s := stores[i%2]
			wg.Go(func() {
				<-start
				errs[i] = s.UsePowerAuthNonce(ctx, "token", nonce, now.Add(time.Hour), now)
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, storage.ErrConflict):
				t.Fatalf("round %d, call %d: %v", round, i, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d calls succeeded, want exactly 1", round, won)
		}
	}
}
