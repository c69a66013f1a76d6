package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

func testLicenseMessages(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	mustVendor(t, s, "other")
	if _, err := s.CreateMessage(ctx, storage.LicenseMessage{Vendor: "ghost", Content: "x", Created: base}, 10); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CreateMessage(no such vendor) = %v, want ErrNotFound", err)
	}
	var ids []int64
	for i, ch := range []string{"", "beta", "beta"} {
		m, err := s.CreateMessage(ctx, storage.LicenseMessage{Vendor: "acme", Channel: ch, Content: fmt.Sprintf("m%d", i),
			Created: base.Add(time.Duration(i) * time.Minute)}, 3)
		if err != nil || m.ID == 0 {
			t.Fatalf("CreateMessage %d = %+v, %v", i, m, err)
		}
		ids = append(ids, m.ID)
	}
	if _, err := s.CreateMessage(ctx, storage.LicenseMessage{Vendor: "acme", Content: "over", Created: base}, 3); !errors.Is(err, storage.ErrLimitReached) {
		t.Fatalf("CreateMessage(past the bound) = %v, want ErrLimitReached", err)
	}
	if _, err := s.CreateMessage(ctx, storage.LicenseMessage{Vendor: "other", Content: "theirs", Created: base}, 3); err != nil {
		t.Fatalf("another vendor's bound is its own: %v", err)
	}
	all, err := s.ListMessages(ctx, storage.MessageFilter{Vendor: "acme"})
	if err != nil || len(all) != 3 || all[0].Content != "m2" || !all[0].Created.Equal(base.Add(2*time.Minute)) || all[2].Channel != "" {
		t.Fatalf("ListMessages = %+v, %v; want 3, newest first", all, err)
	}
	beta, err := s.ListMessages(ctx, storage.MessageFilter{Vendor: "acme", Channel: "beta", After: base.Add(time.Minute)})
	if err != nil || len(beta) != 1 || beta[0].Content != "m2" {
		t.Fatalf("ListMessages(beta, strictly after 1 min) = %+v, %v", beta, err)
	}
	if err := s.DeleteMessage(ctx, "other", ids[0]); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("DeleteMessage(another vendor's) = %v, want ErrNotFound", err)
	}
	if err := s.DeleteMessage(ctx, "acme", ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMessage(ctx, "acme", ids[0]); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("DeleteMessage(twice) = %v, want ErrNotFound", err)
	}
}

// testLicenseMessageLimitRace: of creators racing for the last places, exactly as many as there are places win.
func testLicenseMessageLimitRace(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	const racers, max = 12, 5
	var won, limited atomic.Int32
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.CreateMessage(ctx, storage.LicenseMessage{Vendor: "acme", Content: fmt.Sprint(i), Created: base}, max)
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, storage.ErrLimitReached):
				limited.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != max || limited.Load() != racers-max {
		t.Fatalf("won %d, limited %d; want %d and %d", won.Load(), limited.Load(), max, racers-max)
	}
}

func testLicenseEvents(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	mustVendor(t, s, "other")
	p := mustProduct(t, s, "acme", "app")
	k := mustKey(t, s, storage.LicenseKey{ProductID: p.ID, Key: "AAAAA-BBBBB"})
	events := []storage.LicenseEvent{
		{Vendor: "acme", ProductID: p.ID, KeyGlobalID: k.GlobalID, MachineCode: "m1", FeatureName: "export", EventName: "start",
			Value: 3, Currency: "EUR", Metadata: `{"a":1}`, At: base},
		{Vendor: "acme", EventName: "no product", At: base.Add(time.Second)},
		{Vendor: "other", EventName: "theirs", At: base},
	}
	if err := s.AppendLicenseEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	bad := []storage.LicenseEvent{{Vendor: "acme", EventName: "ok", At: base}, {Vendor: "acme", ProductID: p.ID, KeyGlobalID: 1 << 40, At: base}}
	if err := s.AppendLicenseEvents(ctx, bad); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("AppendLicenseEvents(no such key) = %v, want ErrNotFound", err)
	}
	got, err := s.ListLicenseEvents(ctx, storage.EventFilter{Vendor: "acme"})
	if err != nil || len(got) != 2 {
		t.Fatalf("ListLicenseEvents = %+v, %v; want the 2 events (nothing of the refused batch)", got, err)
	}
	e := got[0]
	if e.Key != "AAAAA-BBBBB" || e.KeyGlobalID != k.GlobalID || e.ProductID != p.ID || e.Value != 3 || e.Currency != "EUR" ||
		e.Metadata != `{"a":1}` || e.FeatureName != "export" || e.MachineCode != "m1" || !e.At.Equal(base) {
		t.Fatalf("event read back as %+v", e)
	}
	if got[1].ProductID != 0 || got[1].Key != "" {
		t.Fatalf("event without product read back as %+v", got[1])
	}
	after, err := s.ListLicenseEvents(ctx, storage.EventFilter{Vendor: "acme", StartingAfter: e.ID})
	if err != nil || len(after) != 1 || after[0].EventName != "no product" {
		t.Fatalf("ListLicenseEvents(StartingAfter) = %+v, %v", after, err)
	}
	byKey, err := s.ListLicenseEvents(ctx, storage.EventFilter{Vendor: "acme", ProductID: p.ID, KeyGlobalID: k.GlobalID, Limit: 1})
	if err != nil || len(byKey) != 1 || byKey[0].ID != e.ID {
		t.Fatalf("ListLicenseEvents(key) = %+v, %v", byKey, err)
	}
}

func testWebAPILog(t *testing.T, s storage.Store) {
	ctx := context.Background()
	hash := bytes.Repeat([]byte{7}, 32)
	var entries []storage.WebAPILogEntry
	for i := range 5 {
		e := storage.WebAPILogEntry{Vendor: "acme", Method: "key/activate", ProductID: 3, Key: "AAAAA-…", KeyHash: hash,
			MachineCode: fmt.Sprint("m", i%2), FriendlyName: "pc", IP: "127.0.0.1", Result: "ok", State: 1,
			At: base.Add(time.Duration(i) * time.Hour)}
		if i == 4 {
			e.KeyHash, e.Key, e.Result, e.State = nil, "", "denied", 3
		}
		entries = append(entries, e)
	}
	entries = append(entries, storage.WebAPILogEntry{Vendor: "other", Method: "key/getkey", ProductID: 9, Result: "ok", At: base})
	if err := s.AppendWebAPILog(ctx, entries); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListWebAPILog(ctx, storage.WebAPILogFilter{Vendor: "acme"})
	if err != nil || len(all) != 5 {
		t.Fatalf("ListWebAPILog = %d entries, %v; want 5", len(all), err)
	}
	if e := all[0]; e.Method != "key/activate" || e.ProductID != 3 || e.Key != "AAAAA-…" || !bytes.Equal(e.KeyHash, hash) ||
		e.MachineCode != "m0" || e.IP != "127.0.0.1" || e.Result != "ok" || e.State != 1 || !e.At.Equal(base) {
		t.Fatalf("entry read back as %+v", e)
	}
	if all[4].KeyHash != nil || all[4].Result != "denied" {
		t.Fatalf("entry without key read back as %+v", all[4])
	}
	for _, tc := range []struct {
		name string
		f    storage.WebAPILogFilter
		want int
	}{
		{"key", storage.WebAPILogFilter{Vendor: "acme", KeyHash: hash}, 4},
		{"machine", storage.WebAPILogFilter{Vendor: "acme", MachineCode: "m1"}, 2},
		{"after", storage.WebAPILogFilter{Vendor: "acme", StartingAfter: all[1].ID}, 3},
		{"before", storage.WebAPILogFilter{Vendor: "acme", EndingBefore: base.Add(2 * time.Hour)}, 2},
		{"descending after", storage.WebAPILogFilter{Vendor: "acme", Descending: true, StartingAfter: all[1].ID}, 1},
		{"limit", storage.WebAPILogFilter{Vendor: "acme", Limit: 2}, 2},
		{"product", storage.WebAPILogFilter{Vendor: "acme", ProductID: 9}, 0},
	} {
		got, err := s.ListWebAPILog(ctx, tc.f)
		if err != nil || len(got) != tc.want {
			t.Errorf("%s: %d entries, %v; want %d", tc.name, len(got), err, tc.want)
		}
	}
	desc, _ := s.ListWebAPILog(ctx, storage.WebAPILogFilter{Vendor: "acme", Descending: true, Limit: 1})
	if len(desc) != 1 || desc[0].ID != all[4].ID {
		t.Fatalf("descending = %+v", desc)
	}
}

// testLicenseActivityPruning: entries past the retention go, and beyond the row cap only the newest stay.
func testLicenseActivityPruning(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	var log []storage.WebAPILogEntry
	var events []storage.LicenseEvent
	for i := range 10 {
		at := base.Add(time.Duration(i) * time.Hour)
		log = append(log, storage.WebAPILogEntry{Vendor: "acme", Method: "key/getkey", At: at})
		events = append(events, storage.LicenseEvent{Vendor: "acme", EventName: fmt.Sprint(i), At: at})
	}
	if err := s.AppendWebAPILog(ctx, log); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendLicenseEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	// Retention: the first 3 hours of each table go (6 rows), in batches of 2.
	total := 0
	for {
		n, err := s.PruneLicenseActivity(ctx, base.Add(3*time.Hour), 0, 2)
		if err != nil {
			t.Fatal(err)
		}
		if total += n; n == 0 {
			break
		}
	}
	if total != 6 {
		t.Fatalf("pruned %d rows past the retention, want 6", total)
	}
	// Row cap: of the 7 left in each table, the newest 4 stay.
	if _, err := s.PruneLicenseActivity(ctx, base, 4, 100); err != nil {
		t.Fatal(err)
	}
	left, _ := s.ListWebAPILog(ctx, storage.WebAPILogFilter{Vendor: "acme"})
	ev, _ := s.ListLicenseEvents(ctx, storage.EventFilter{Vendor: "acme"})
	if len(left) != 4 || !left[0].At.Equal(base.Add(6*time.Hour)) || len(ev) != 4 || ev[0].EventName != "6" {
		t.Fatalf("after the cap: %d log entries (first %+v), %d events; want the newest 4 of each", len(left), left, len(ev))
	}
}

// testKeyUsageRace: racing additions to a key's metered usage never lose one, and the total never wraps.
func testKeyUsageRace(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustVendor(t, s, "acme")
	p := mustProduct(t, s, "acme", "app")
	k := mustKey(t, s, storage.LicenseKey{ProductID: p.ID, Key: "USAGE"})
	if _, err := s.AddKeyUsage(ctx, 1<<40, 1, base); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("AddKeyUsage(no such key) = %v, want ErrNotFound", err)
	}
	if n, err := s.KeyUsage(ctx, k.GlobalID); n != 0 || err != nil {
		t.Fatalf("KeyUsage(none recorded) = %d, %v", n, err)
	}
	const racers, each = 8, 10
	var wg sync.WaitGroup
	for range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if _, err := s.AddKeyUsage(ctx, k.GlobalID, 3, base); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n, err := s.KeyUsage(ctx, k.GlobalID); n != racers*each*3 || err != nil {
		t.Fatalf("KeyUsage = %d, %v; want %d", n, err, racers*each*3)
	}
	if _, err := s.AddKeyUsage(ctx, k.GlobalID, math.MaxInt64-10, base); !errors.Is(err, storage.ErrLimitReached) {
		t.Fatalf("AddKeyUsage(past int64) = %v, want ErrLimitReached", err)
	}
	if n, _ := s.KeyUsage(ctx, k.GlobalID); n != racers*each*3 {
		t.Fatalf("a refused addition changed the total to %d", n)
	}
}
