package conformance

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// testOAuthChanges: every change or removal of an API client, and every revocation of an access token, reaches
// the change feed under its id and runs the OnChange hooks before returning, and reads right after the change
// see it, also when the same record was read (and so may be cached) before.
func testOAuthChanges(t *testing.T, s storage.Store) {
	ctx := context.Background()
	r := newChangeReader(t, s)
	mustAPIClient(t, s, "svc")
	mustAPIClient(t, s, "gone")
	for _, tok := range []storage.AccessToken{
		{ID: "at1", ClientID: "svc", Scopes: []string{"Partner"}, KeyHash: hash32(1), CreatedAt: base, ExpiresAt: base.Add(time.Hour)},
		{ID: "at2", ClientID: "gone", Scopes: []string{"Partner"}, KeyHash: hash32(1), CreatedAt: base, ExpiresAt: base.Add(time.Hour)},
	} {
		if err := s.CreateAccessToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.next(t); len(got) != 0 {
		t.Fatalf("creating clients and tokens announced %q; nothing was cached of them", got)
	}
	// Read everything once, as a request would, so that a cache in front holds it.
	for _, id := range []string{"svc", "gone"} {
		if _, err := s.GetAPIClient(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"at1", "at2"} {
		if _, err := s.GetAccessToken(ctx, id); err != nil {
			t.Fatal(err)
		}
	}

	r.expect(t, "UpdateAPIClient", func() error {
		return s.UpdateAPIClient(ctx, "svc", func(c *storage.APIClient) error {
			c.Disabled, c.PrimaryKeyHash = true, hash32(9)
			return nil
		})
	}, "apiclient:svc")
	if c, err := s.GetAPIClient(ctx, "svc"); err != nil || !c.Disabled || c.PrimaryKeyHash[0] != 9 {
		t.Fatalf("client right after its update: %+v, %v", c, err)
	}

	at := base.Add(time.Minute)
	r.expect(t, "RevokeAccessToken", func() error { return s.RevokeAccessToken(ctx, "at1", at) }, "accesstoken:at1")
	if tok, err := s.GetAccessToken(ctx, "at1"); err != nil || !tok.RevokedAt.Equal(at) {
		t.Fatalf("token right after its revocation: %+v, %v", tok, err)
	}
	// Revoking again changes nothing, and so announces nothing.
	r.expect(t, "RevokeAccessToken again", func() error { return s.RevokeAccessToken(ctx, "at1", at.Add(time.Minute)) })

	r.expect(t, "DeleteAPIClient", func() error { return s.DeleteAPIClient(ctx, "gone") }, "apiclient:gone")
	if _, err := s.GetAPIClient(ctx, "gone"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("client after its removal: %v, want ErrNotFound", err)
	}

	// Failed calls announce nothing.
	if err := s.UpdateAPIClient(ctx, "nobody", func(*storage.APIClient) error { return nil }); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("UpdateAPIClient(unknown) = %v, want ErrNotFound", err)
	}
	abort := errors.New("abort")
	if err := s.UpdateAPIClient(ctx, "svc", func(c *storage.APIClient) error { c.Disabled = false; return abort }); !errors.Is(err, abort) {
		t.Fatalf("UpdateAPIClient(aborted) = %v, want the callback's error", err)
	}
	if err := s.RevokeAccessToken(ctx, "nothing", at); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("RevokeAccessToken(unknown) = %v, want ErrNotFound", err)
	}
	if got := r.next(t); len(got) != 0 {
		t.Errorf("failed calls announced %q", got)
	}
}
