package conformance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// changeReader follows a store's change feed the way a cache would.
type changeReader struct {
	s     storage.Store
	pos   int64
	hooks int // OnChange calls so far
}

func newChangeReader(t *testing.T, s storage.Store) *changeReader {
	t.Helper()
	r := &changeReader{s: s}
	s.OnChange(func(context.Context) { r.hooks++ })
	changes, pos, err := s.ReadChanges(context.Background(), -1, 100)
	if err != nil || len(changes) != 0 {
		t.Fatalf("ReadChanges(-1) = %v, %d, %v; want no changes", changes, pos, err)
	}
	r.pos = pos
	return r
}

// next returns the changes after the last call as sorted "kind:key" strings (a change delivered again, as a
// backend may, is left out by its sequence number).
func (r *changeReader) next(t *testing.T) []string {
	t.Helper()
	changes, pos, err := r.s.ReadChanges(context.Background(), r.pos, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range changes {
		if c.Seq > r.pos {
			out = append(out, string(c.Kind)+":"+c.Key)
		}
	}
	if pos < r.pos {
		t.Fatalf("position went back from %d to %d", r.pos, pos)
	}
	r.pos = pos
	slices.Sort(out)
	return out
}

// expect checks that op wrote exactly want to the feed and ran the OnChange hooks before returning.
func (r *changeReader) expect(t *testing.T, what string, op func() error, want ...string) {
	t.Helper()
	before := r.hooks
	if err := op(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if r.hooks == before {
		t.Errorf("%s: OnChange hooks did not run", what)
	}
	slices.Sort(want)
	if got := r.next(t); !slices.Equal(got, want) {
		t.Errorf("%s: changes %q, want %q", what, got, want)
	}
}

func testCacheChanges(t *testing.T, s storage.Store) {
	ctx := context.Background()
	r := newChangeReader(t, s)
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	for _, sess := range []storage.Session{
		{ID: "s1", User: "alice"}, {ID: "s2", User: "alice"}, {ID: "s3", User: "alice"}, {ID: "s4", User: "bob"},
	} {
		sess.CreatedAt, sess.LastSeenAt = base, base
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
	}
	for i, sid := range []string{"", "s1", "s2", "s3", "s4", ""} {
		user := "alice"
		if i >= 4 {
			user = "bob"
		}
		kind := storage.KindSession
		if sid == "" {
			kind = storage.KindOpen
		}
		if err := s.CreateToken(ctx, storage.Token{ID: fmt.Sprint("t", i), User: user, Kind: kind, SessionID: sid,
			CreatedAt: base, LastUsedAt: base}); err != nil {
			t.Fatal(err)
		}
	}
	later := base.Add(time.Hour)
	if err := s.TouchToken(ctx, "t1", later, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchSession(ctx, "s1", later, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := r.next(t); len(got) != 0 || r.hooks != 0 {
		t.Fatalf("creating and touching wrote changes %q (hooks %d); only revocations should", got, r.hooks)
	}

	at := base.Add(2 * time.Hour)
	r.expect(t, "RevokeToken", func() error { return s.RevokeToken(ctx, "t0", at) }, "token:t0")
	r.expect(t, "EndSession", func() error { return s.EndSession(ctx, "s1", at) }, "session:s1", "token:t1")
	r.expect(t, "RevokeSessionTokens", func() error { _, err := s.RevokeSessionTokens(ctx, "s2", at); return err }, "token:t2")
	r.expect(t, "EndUserSessions", func() error { _, err := s.EndUserSessions(ctx, "alice", at); return err },
		"session:s2", "session:s3", "token:t3")
	r.expect(t, "RevokeUserTokens", func() error { _, err := s.RevokeUserTokens(ctx, "bob", at); return err },
		"session:s4", "token:t4", "token:t5")
	r.expect(t, "UpdateUser", func() error {
		return s.UpdateUser(ctx, "alice", func(u *storage.User) error { u.Disabled = true; return nil })
	}, "user:alice")

	// Revoking again changes nothing a cache holds; an aborted update writes nothing and runs no hooks.
	if err := s.RevokeToken(ctx, "t0", at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := r.next(t); len(got) != 0 {
		t.Errorf("revoking a revoked token wrote %q", got)
	}
	hooks := r.hooks
	abort := errors.New("abort")
	if err := s.UpdateUser(ctx, "bob", func(*storage.User) error { return abort }); !errors.Is(err, abort) {
		t.Fatalf("aborted UpdateUser = %v", err)
	}
	if got := r.next(t); len(got) != 0 || r.hooks != hooks {
		t.Errorf("an aborted update wrote %q and ran %d hooks", got, r.hooks-hooks)
	}

	// Each change is dated by the database; old ones are deleted in batches.
	changes, _, err := s.ReadChanges(ctx, 0, 1000)
	if err != nil || len(changes) < 11 {
		t.Fatalf("ReadChanges(0) = %d changes, %v", len(changes), err)
	}
	for i, c := range changes {
		if c.At.IsZero() || time.Since(c.At) > time.Hour || (i > 0 && c.Seq <= changes[i-1].Seq) {
			t.Fatalf("change %d = %+v (previous %+v): want increasing seq and a current time", i, c, changes[max(i-1, 0)])
		}
	}
	if n, err := s.DeleteChanges(ctx, time.Now().Add(-time.Hour), 100); err != nil || n != 0 {
		t.Fatalf("DeleteChanges(an hour ago) = %d, %v; want 0", n, err)
	}
	n, err := s.DeleteChanges(ctx, time.Now().Add(time.Hour), 5)
	if err != nil || n != 5 {
		t.Fatalf("DeleteChanges(limit 5) = %d, %v", n, err)
	}
	if n, err := s.DeleteChanges(ctx, time.Now().Add(time.Hour), 1000); err != nil || n != len(changes)-5 {
		t.Fatalf("DeleteChanges(rest) = %d, %v; want %d", n, err, len(changes)-5)
	}
	if left, _, err := s.ReadChanges(ctx, 0, 1000); err != nil || len(left) != 0 {
		t.Fatalf("after deleting all: %v, %v", left, err)
	}
}
