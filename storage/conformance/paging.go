package conformance

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// The paged listings: rows created at the same instant are told apart by id, so that following the cursor from
// page to page answers every row once, in the listing's order, whatever the page size.

// follow pages through a listing, limit rows a page, and returns the ids answered, space-separated.
func follow[T any](t *testing.T, what string, limit int, page func(limit int, after *T) ([]T, error), id func(T) string) string {
	t.Helper()
	var out []string
	var after *T
	for n := 0; ; n++ {
		if n > 20 {
			t.Fatalf("%s: paging does not end: %v", what, out)
		}
		got, err := page(limit, after)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if len(got) > limit {
			t.Fatalf("%s: %d rows, more than the limit %d", what, len(got), limit)
		}
		for _, r := range got {
			out = append(out, id(r))
		}
		if len(got) < limit {
			return strings.Join(out, " ")
		}
		after = &got[len(got)-1]
	}
}

func testPageTokensSessions(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	for i, id := range []string{"t0", "t3", "t1", "t2", "t4", "t5"} { // t3, t1, t2 created at the same instant
		user := "alice"
		if i%2 == 1 {
			user = "bob"
		}
		created := base.Add(time.Duration([]int{0, 1, 1, 1, 2, 3}[i]) * time.Second)
		if err := s.CreateToken(ctx, storage.Token{ID: id, User: user, Kind: storage.KindOpen, CreatedAt: created, LastUsedAt: created}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateSession(ctx, storage.Session{ID: "s" + id[1:], User: user, CreatedAt: created, LastSeenAt: created}); err != nil {
			t.Fatal(err)
		}
	}
	tokenPage := func(f storage.TokenFilter) func(int, *storage.Token) ([]storage.Token, error) {
		return func(limit int, after *storage.Token) ([]storage.Token, error) {
			f.Limit = limit
			if after != nil {
				f.After = storage.PageAfter{At: after.CreatedAt, ID: after.ID}
			}
			return s.ListTokens(ctx, f)
		}
	}
	sessionPage := func(f storage.SessionFilter) func(int, *storage.Session) ([]storage.Session, error) {
		return func(limit int, after *storage.Session) ([]storage.Session, error) {
			f.Limit = limit
			if after != nil {
				f.After = storage.PageAfter{At: after.CreatedAt, ID: after.ID}
			}
			return s.ListSessions(ctx, f)
		}
	}
	tokID := func(t storage.Token) string { return t.ID }
	sessID := func(s storage.Session) string { return s.ID }
	for limit := 1; limit <= 7; limit++ {
		if got := follow(t, "tokens", limit, tokenPage(storage.TokenFilter{}), tokID); got != "t5 t4 t1 t2 t3 t0" {
			t.Errorf("tokens, %d a page: %q", limit, got)
		}
		if got := follow(t, "sessions", limit, sessionPage(storage.SessionFilter{}), sessID); got != "s5 s4 s1 s2 s3 s0" {
			t.Errorf("sessions, %d a page: %q", limit, got)
		}
	}
	if got := follow(t, "bob's tokens", 1, tokenPage(storage.TokenFilter{User: "bob"}), tokID); got != "t5 t2 t3" {
		t.Errorf("bob's tokens: %q", got)
	}
	if got := follow(t, "alice's sessions", 2, sessionPage(storage.SessionFilter{User: "alice"}), sessID); got != "s4 s1 s0" {
		t.Errorf("alice's sessions: %q", got)
	}
}

func testPageAccessTokens(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustAPIClient(t, s, "c1")
	mustAPIClient(t, s, "c2")
	for i, id := range []string{"a0", "a3", "a1", "a2", "a4"} {
		client := "c1"
		if id == "a2" {
			client = "c2"
		}
		created := base.Add(time.Duration([]int{0, 1, 1, 1, 2}[i]) * time.Second)
		if err := s.CreateAccessToken(ctx, storage.AccessToken{ID: id, ClientID: client, KeyHash: hash32(1), CreatedAt: created,
			ExpiresAt: created.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	page := func(f storage.AccessTokenFilter) func(int, *storage.AccessToken) ([]storage.AccessToken, error) {
		return func(limit int, after *storage.AccessToken) ([]storage.AccessToken, error) {
			f.Limit = limit
			if after != nil {
				f.After = storage.PageAfter{At: after.CreatedAt, ID: after.ID}
			}
			return s.ListAccessTokens(ctx, f)
		}
	}
	id := func(t storage.AccessToken) string { return t.ID }
	for limit := 1; limit <= 6; limit++ {
		if got := follow(t, "access tokens", limit, page(storage.AccessTokenFilter{}), id); got != "a4 a1 a2 a3 a0" {
			t.Errorf("access tokens, %d a page: %q", limit, got)
		}
	}
	if got := follow(t, "c1's", 1, page(storage.AccessTokenFilter{ClientID: "c1"}), id); got != "a4 a1 a3 a0" {
		t.Errorf("c1's: %q", got)
	}
	if got := follow(t, "live", 2, page(storage.AccessTokenFilter{LiveAt: base.Add(time.Hour + 1500*time.Millisecond)}), id); got != "a4" {
		t.Errorf("live: %q", got)
	}
}

func testPagePowerAuth(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	for i, id := range []string{"p0", "p3", "p1", "p2", "p4"} {
		user := "alice"
		if id == "p2" || id == "p4" {
			user = "bob"
		}
		created := base.Add(time.Duration([]int{0, 1, 1, 1, 2}[i]) * time.Second)
		if err := s.CreatePowerAuthActivation(ctx, storage.PowerAuthActivation{ID: id, User: user, Name: "phone", Status: storage.PowerAuthActive,
			CreatedAt: created, UpdatedAt: created}); err != nil {
			t.Fatal(err)
		}
		for j := range 2 {
			if err := s.CreatePowerAuthToken(ctx, storage.PowerAuthToken{ID: fmt.Sprintf("%s-%d", id, j), ActivationID: id,
				SealedSecret: []byte("x"), CreatedAt: created}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.UpdatePowerAuthActivation(ctx, "p1", func(a *storage.PowerAuthActivation) error {
		a.Status = storage.PowerAuthBlocked
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	actPage := func(f storage.PowerAuthActivationFilter) func(int, *storage.PowerAuthActivation) ([]storage.PowerAuthActivation, error) {
		return func(limit int, after *storage.PowerAuthActivation) ([]storage.PowerAuthActivation, error) {
			f.Limit = limit
			if after != nil {
				f.After = storage.PageAfter{At: after.CreatedAt, ID: after.ID}
			}
			return s.PagePowerAuthActivations(ctx, f)
		}
	}
	tokPage := func(f storage.PowerAuthTokenFilter) func(int, *storage.PowerAuthToken) ([]storage.PowerAuthToken, error) {
		return func(limit int, after *storage.PowerAuthToken) ([]storage.PowerAuthToken, error) {
			f.Limit = limit
			if after != nil {
				f.After = storage.PageAfter{At: after.CreatedAt, ID: after.ID}
			}
			return s.PagePowerAuthTokens(ctx, f)
		}
	}
	actID := func(a storage.PowerAuthActivation) string { return a.ID }
	tokID := func(t storage.PowerAuthToken) string { return t.ID }
	for limit := 1; limit <= 6; limit++ {
		if got := follow(t, "activations", limit, actPage(storage.PowerAuthActivationFilter{}), actID); got != "p0 p1 p2 p3 p4" {
			t.Errorf("activations, %d a page: %q", limit, got)
		}
		// p1's tokens went when it was blocked.
		if got := follow(t, "tokens", limit, tokPage(storage.PowerAuthTokenFilter{}), tokID); got != "p0-0 p0-1 p2-0 p2-1 p3-0 p3-1 p4-0 p4-1" {
			t.Errorf("tokens, %d a page: %q", limit, got)
		}
	}
	for what, c := range map[string]struct {
		f    storage.PowerAuthActivationFilter
		want string
	}{
		"bob's":    {storage.PowerAuthActivationFilter{User: "bob"}, "p2 p4"},
		"blocked":  {storage.PowerAuthActivationFilter{Status: storage.PowerAuthBlocked}, "p1"},
		"nobody's": {storage.PowerAuthActivationFilter{User: "nobody"}, ""},
	} {
		if got := follow(t, what, 1, actPage(c.f), actID); got != c.want {
			t.Errorf("activations %s: %q, want %q", what, got, c.want)
		}
	}
	if got := follow(t, "bob's tokens", 3, tokPage(storage.PowerAuthTokenFilter{User: "bob"}), tokID); got != "p2-0 p2-1 p4-0 p4-1" {
		t.Errorf("bob's tokens: %q", got)
	}
	if got := follow(t, "p3's tokens", 1, tokPage(storage.PowerAuthTokenFilter{ActivationID: "p3"}), tokID); got != "p3-0 p3-1" {
		t.Errorf("p3's tokens: %q", got)
	}
}
