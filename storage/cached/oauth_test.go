package cached

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// newOAuthFixture adds three API clients to a fixture: "svc" (to be disabled), "rot" (its key to be replaced),
// "gone" (to be removed), and an access token "at" of svc's (to be revoked).
func newOAuthFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, nil, Options{TTL: time.Hour})
	ctx := context.Background()
	for _, id := range []string{"svc", "rot", "gone"} {
		c := storage.APIClient{ID: id, PrimaryKeyHash: []byte{1}, SecondaryKeyHash: []byte{2}, Scopes: []string{"Partner"},
			GrantTypes: []string{"client_credentials"}, TokenLifetime: time.Hour, CreatedAt: t0, UpdatedAt: t0}
		if err := f.other.CreateAPIClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.other.CreateAccessToken(ctx, storage.AccessToken{ID: "at", ClientID: "svc", Scopes: []string{"Partner"},
		KeyHash: []byte{1}, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// A token of the client that is removed: it goes with the client, unannounced.
	if err := f.other.CreateAccessToken(ctx, storage.AccessToken{ID: "gone-at", ClientID: "gone", Scopes: []string{"Partner"},
		KeyHash: []byte{2}, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return f
}

// oauthState reads the records through the cache.
func oauthState(t *testing.T, f *fixture) string {
	t.Helper()
	ctx := context.Background()
	svc, err1 := f.c.GetAPIClient(ctx, "svc")
	rot, err2 := f.c.GetAPIClient(ctx, "rot")
	tok, err3 := f.c.GetAccessToken(ctx, "at")
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatal(err1, err2, err3)
	}
	_, err := f.c.GetAPIClient(ctx, "gone")
	gone := errors.Is(err, storage.ErrNotFound)
	if err != nil && !gone {
		t.Fatal(err)
	}
	_, err = f.c.GetAccessToken(ctx, "gone-at")
	goneToken := errors.Is(err, storage.ErrNotFound)
	if err != nil && !goneToken {
		t.Fatal(err)
	}
	return fmt.Sprintf("disabled=%v key=%d gone=%v revoked=%v gone_token=%v", svc.Disabled, rot.PrimaryKeyHash[0], gone,
		tok.Revoked(), goneToken)
}

func changeOAuth(t *testing.T, s storage.Store) {
	t.Helper()
	ctx := context.Background()
	if err := s.UpdateAPIClient(ctx, "svc", func(c *storage.APIClient) error { c.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateAPIClient(ctx, "rot", func(c *storage.APIClient) error { c.PrimaryKeyHash = []byte{7}; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAPIClient(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAccessToken(ctx, "at", t0); err != nil {
		t.Fatal(err)
	}
}

const (
	oauthLive    = "disabled=false key=1 gone=false revoked=false gone_token=false"
	oauthChanged = "disabled=true key=7 gone=true revoked=true gone_token=true"
)

func TestOwnOAuthChangesAreSeenAtOnce(t *testing.T) {
	f := newOAuthFixture(t)
	if got := oauthState(t, f); got != oauthLive {
		t.Fatal(got)
	}
	changeOAuth(t, f.c)
	if got := oauthState(t, f); got != oauthChanged {
		t.Fatalf("after changing through this store: %s", got)
	}
}

func TestOtherNodesOAuthChangesAreSeenAtTheNextSync(t *testing.T) {
	f := newOAuthFixture(t)
	if got := oauthState(t, f); got != oauthLive {
		t.Fatal(got)
	}
	changeOAuth(t, f.other)
	if got := oauthState(t, f); got != oauthLive {
		t.Fatalf("before Sync: %s (the cache was not used)", got)
	}
	if err := f.c.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := oauthState(t, f); got != oauthChanged {
		t.Fatalf("after Sync: %s", got)
	}
}

// A caller changing what it got must not change the cached copy.
func TestOAuthCopiesAreTheCallers(t *testing.T) {
	f := newOAuthFixture(t)
	ctx := context.Background()
	c, _ := f.c.GetAPIClient(ctx, "svc")
	c.PrimaryKeyHash[0], c.SecondaryKeyHash[0], c.Scopes[0], c.GrantTypes[0] = 9, 9, "X", "X"
	tok, _ := f.c.GetAccessToken(ctx, "at")
	tok.Scopes[0], tok.KeyHash[0] = "X", 9
	c, err1 := f.c.GetAPIClient(ctx, "svc")
	tok, err2 := f.c.GetAccessToken(ctx, "at")
	if err1 != nil || err2 != nil || c.PrimaryKeyHash[0] != 1 || c.SecondaryKeyHash[0] != 2 || c.Scopes[0] != "Partner" ||
		c.GrantTypes[0] != "client_credentials" || tok.Scopes[0] != "Partner" || tok.KeyHash[0] != 1 {
		t.Fatalf("a caller's change reached the cache: %+v %+v %v %v", c, tok, err1, err2)
	}
}
