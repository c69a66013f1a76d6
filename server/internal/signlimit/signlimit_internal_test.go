package signlimit

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/clusterlimit"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

// Two nodes on one database share the signature limits: the address's burst is spent across both.
func TestLimitsAcrossNodes(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Now().Truncate(time.Microsecond)
	clock := func() time.Time { return now }
	var syncs []*clusterlimit.Sync
	var nodes []*Limiter
	for range 2 {
		s := clusterlimit.New(store, clusterlimit.Options{Now: clock})
		syncs = append(syncs, s)
		nodes = append(nodes, New(Limits{Token: Limit{Burst: 100, Every: time.Second}, Address: Limit{Burst: 3, Every: time.Minute},
			Shared: s}, slog.New(slog.DiscardHandler)))
	}
	granted := 0
	for i := range 10 {
		if nodes[i%2].allow("token:1", "192.0.2.1", now) == 0 {
			granted++
		}
		for _, s := range append(syncs, syncs[0]) {
			if err := s.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if granted != 3 {
		t.Fatalf("%d signatures granted to one address over two nodes; the burst is 3", granted)
	}
	// Another address is not held back, on either node.
	if nodes[1].allow("token:1", "192.0.2.2", now) != 0 {
		t.Fatal("another address refused")
	}
}
