package conformance

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/tokenmanager/tokenmanager/storage"
)

// testSettings: a setting keeps its first value, also when several processes set it at once.
func testSettings(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if got, err := s.InitSetting(ctx, "a", "first"); err != nil || got != "first" {
		t.Fatalf("first InitSetting = %q, %v", got, err)
	}
	if got, err := s.InitSetting(ctx, "a", "second"); err != nil || got != "first" {
		t.Fatalf("second InitSetting = %q, %v; want the first value", got, err)
	}
	if got, err := s.InitSetting(ctx, "b", "other"); err != nil || got != "other" {
		t.Fatalf("another name = %q, %v", got, err)
	}
	var wg sync.WaitGroup
	got := make([]string, 8)
	errs := make([]error, len(got))
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = s.InitSetting(ctx, "race", fmt.Sprint(i))
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i] != got[0] {
			t.Fatalf("racing InitSetting: %q %v", got, errs)
		}
	}
}
