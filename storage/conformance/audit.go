package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

func testAudit(t *testing.T, s storage.Store) {
	ctx := context.Background()
	events := []storage.AuditEvent{
		{At: base, Action: "token.issue", Outcome: "ok", Actor: "alice", Subject: "alice", ClientHost: "::1", Detail: "kind=session"},
		{At: base.Add(time.Minute), Action: "login.fail", Outcome: "bad_credentials", Subject: "bob", ClientHost: "192.0.2.1"},
		{At: base.Add(2 * time.Minute), Action: "user.disable", Outcome: "ok", Actor: "cli", Subject: "alice"},
		{At: base.Add(3 * time.Minute), Action: "token.refuse", Outcome: "expired", ClientHost: "::1"},
		{At: base.Add(4 * time.Minute), Action: "tokenx.odd", Outcome: "ok"}, // "token." must not match it
	}
	if err := s.AppendAudit(ctx, events); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAudit(ctx, nil); err != nil {
		t.Fatalf("AppendAudit(nil) = %v", err)
	}
	all, err := s.ListAudit(ctx, storage.AuditFilter{})
	if err != nil || len(all) != 5 {
		t.Fatalf("ListAudit(all) = %d events, %v", len(all), err)
	}
	got := all[len(all)-1] // newest first: the oldest is last
	got.ID = 0
	if got != events[0] {
		t.Fatalf("round trip: %+v, want %+v", got, events[0])
	}
	for _, c := range []struct {
		name string
		f    storage.AuditFilter
		want []string // actions, newest first
	}{
		{"subject or actor", storage.AuditFilter{Subject: "alice"}, []string{"user.disable", "token.issue"}},
		{"action prefix", storage.AuditFilter{Action: "token."}, []string{"token.refuse", "token.issue"}},
		{"exact action", storage.AuditFilter{Action: "login.fail"}, []string{"login.fail"}},
		{"since", storage.AuditFilter{Since: base.Add(2 * time.Minute)}, []string{"tokenx.odd", "token.refuse", "user.disable"}},
		{"until", storage.AuditFilter{Until: base.Add(time.Minute)}, []string{"token.issue"}},
		{"limit", storage.AuditFilter{Limit: 2}, []string{"tokenx.odd", "token.refuse"}},
		{"wildcards are literal", storage.AuditFilter{Action: "%"}, nil},
	} {
		got, err := s.ListAudit(ctx, c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var actions []string
		for _, e := range got {
			actions = append(actions, e.Action)
		}
		if len(actions) != len(c.want) {
			t.Errorf("%s: %v, want %v", c.name, actions, c.want)
			continue
		}
		for i := range actions {
			if actions[i] != c.want[i] {
				t.Errorf("%s: %v, want %v", c.name, actions, c.want)
				break
			}
		}
	}
	if n, err := s.DeleteAudit(ctx, base.Add(2*time.Minute), 1); err != nil || n != 1 {
		t.Fatalf("DeleteAudit(limit 1) = %d, %v", n, err)
	}
	if n, err := s.DeleteAudit(ctx, base.Add(2*time.Minute), 10); err != nil || n != 1 {
		t.Fatalf("DeleteAudit = %d, %v; want the one left before the cutoff", n, err)
	}
	if left, _ := s.ListAudit(ctx, storage.AuditFilter{}); len(left) != 3 {
		t.Fatalf("after retention: %d events, want 3", len(left))
	}
}
