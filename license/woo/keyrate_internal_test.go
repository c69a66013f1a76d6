package woo

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/clusterlimit"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

// Two nodes on one database share a key's token limit: its burst is spent across both.
func TestKeyRateAcrossNodes(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Now().Truncate(time.Microsecond)
	clock := func() time.Time { return now }
	var syncs []*clusterlimit.Sync
	var nodes []*keyRate
	for range 2 {
		s := clusterlimit.New(store, clusterlimit.Options{Now: clock})
		syncs = append(syncs, s)
		nodes = append(nodes, newKeyRate(4, time.Minute, s))
	}
	granted := 0
	for i := range 12 {
		if nodes[i%2].take(7, now) == 0 {
			granted++
		}
		for _, s := range append(syncs, syncs[0]) {
			if err := s.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if granted != 4 {
		t.Fatalf("%d tokens for one key over two nodes; the burst is 4", granted)
	}
	if nodes[0].take(8, now) != 0 {
		t.Fatal("another key refused")
	}
}
