package conformance

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

func hash32(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func mustAPIClient(t *testing.T, s storage.Store, id string) storage.APIClient {
	t.Helper()
	c := storage.APIClient{
		ID: id, Description: "integration " + id,
		PrimaryKeyHash: hash32(1), SecondaryKeyHash: hash32(2), PrimaryKeySetAt: base, SecondaryKeySetAt: base,
		Scopes: []string{"Partner", "Distributor"}, GrantTypes: []string{"client_credentials"},
		TokenLifetime: time.Hour, RequireSubscriptionKey: true, CreatedAt: base, UpdatedAt: base,
		TokenFormat: "jwt",
	}
	if err := s.CreateAPIClient(context.Background(), c); err != nil {
		t.Fatalf("CreateAPIClient(%q): %v", id, err)
	}
	return c
}

func sameAPIClient(a, b storage.APIClient) bool {
	return a.ID == b.ID && a.Description == b.Description &&
		bytes.Equal(a.PrimaryKeyHash, b.PrimaryKeyHash) && bytes.Equal(a.SecondaryKeyHash, b.SecondaryKeyHash) &&
		a.PrimaryKeySetAt.Equal(b.PrimaryKeySetAt) && a.SecondaryKeySetAt.Equal(b.SecondaryKeySetAt) &&
		slices.Equal(a.Scopes, b.Scopes) && slices.Equal(a.GrantTypes, b.GrantTypes) && a.Introspect == b.Introspect &&
		a.TokenLifetime == b.TokenLifetime && a.RequireSubscriptionKey == b.RequireSubscriptionKey &&
		a.Disabled == b.Disabled && a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) &&
		a.TokenFormat == b.TokenFormat
}

func testAPIClientCRUD(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if _, err := s.GetAPIClient(ctx, "c1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetAPIClient(missing) = %v, want ErrNotFound", err)
	}
	want := mustAPIClient(t, s, "c1")
	if err := s.CreateAPIClient(ctx, want); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("CreateAPIClient(duplicate) = %v, want ErrConflict", err)
	}
	got, err := s.GetAPIClient(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if !sameAPIClient(got, want) {
		t.Fatalf("GetAPIClient = %+v, want %+v", got, want)
	}

	later := base.Add(time.Minute)
	err = s.UpdateAPIClient(ctx, "c1", func(c *storage.APIClient) error {
		c.PrimaryKeyHash, c.PrimaryKeySetAt = hash32(3), later
		c.Scopes, c.GrantTypes, c.Introspect = nil, nil, true
		c.TokenLifetime, c.RequireSubscriptionKey, c.Disabled = 90*time.Second, false, true
		c.Description, c.UpdatedAt = "", later
		c.TokenFormat = "opaque"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetAPIClient(ctx, "c1")
	want.PrimaryKeyHash, want.PrimaryKeySetAt = hash32(3), later
	want.Scopes, want.GrantTypes, want.Introspect = nil, nil, true
	want.TokenLifetime, want.RequireSubscriptionKey, want.Disabled = 90*time.Second, false, true
	want.Description, want.UpdatedAt = "", later
	want.TokenFormat = "opaque"
	if !sameAPIClient(got, want) || len(got.Scopes) != 0 || len(got.GrantTypes) != 0 {
		t.Fatalf("after update: %+v, want %+v", got, want)
	}
	if err := s.UpdateAPIClient(ctx, "nope", func(*storage.APIClient) error { return nil }); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("UpdateAPIClient(missing) = %v, want ErrNotFound", err)
	}

	boom := errors.New("boom")
	if err := s.UpdateAPIClient(ctx, "c1", func(c *storage.APIClient) error { c.Disabled = false; return boom }); !errors.Is(err, boom) {
		t.Fatalf("UpdateAPIClient(abort) = %v, want the updater's error", err)
	}
	if got, _ := s.GetAPIClient(ctx, "c1"); !got.Disabled {
		t.Fatal("an aborted update was written")
	}

	mustAPIClient(t, s, "a0")
	list, err := s.ListAPIClients(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "a0" || list[1].ID != "c1" {
		t.Fatalf("ListAPIClients = %v, %v; want a0, c1", list, err)
	}
}

func testAccessTokenLifecycle(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustAPIClient(t, s, "c1")
	if _, err := s.GetAccessToken(ctx, "h1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetAccessToken(missing) = %v", err)
	}
	want := storage.AccessToken{ID: "h1", ClientID: "c1", Scopes: []string{"Partner"}, KeyHash: hash32(1),
		CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	if err := s.CreateAccessToken(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccessToken(ctx, want); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("CreateAccessToken(duplicate) = %v, want ErrConflict", err)
	}
	orphan := want
	orphan.ID, orphan.ClientID = "h2", "no-such-client"
	if err := s.CreateAccessToken(ctx, orphan); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CreateAccessToken(unknown client) = %v, want ErrNotFound", err)
	}
	got, err := s.GetAccessToken(ctx, "h1")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != want.ID || got.ClientID != want.ClientID || !slices.Equal(got.Scopes, want.Scopes) ||
		!bytes.Equal(got.KeyHash, want.KeyHash) || !got.CreatedAt.Equal(base) || !got.ExpiresAt.Equal(want.ExpiresAt) || got.Revoked() {
		t.Fatalf("GetAccessToken = %+v, want %+v", got, want)
	}

	at := base.Add(2 * time.Minute)
	if err := s.RevokeAccessToken(ctx, "h1", at); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAccessToken(ctx, "h1", at.Add(time.Minute)); err != nil {
		t.Fatalf("second revoke: %v", err)
	}
	got, _ = s.GetAccessToken(ctx, "h1")
	if !got.Revoked() || !got.RevokedAt.Equal(at) {
		t.Fatalf("revoked at %v, want %v (first revocation kept)", got.RevokedAt, at)
	}
	if err := s.RevokeAccessToken(ctx, "nope", at); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("RevokeAccessToken(missing) = %v", err)
	}
}

func testDeleteAPIClientDeletesTokens(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustAPIClient(t, s, "c1")
	mustAPIClient(t, s, "c2")
	for id, client := range map[string]string{"t1": "c1", "t2": "c1", "t3": "c2"} {
		tok := storage.AccessToken{ID: id, ClientID: client, KeyHash: hash32(1), CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
		if err := s.CreateAccessToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteAPIClient(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAPIClient(ctx, "c1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("DeleteAPIClient(twice) = %v, want ErrNotFound", err)
	}
	if _, err := s.GetAPIClient(ctx, "c1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetAPIClient(deleted) = %v", err)
	}
	for id, wantGone := range map[string]bool{"t1": true, "t2": true, "t3": false} {
		_, err := s.GetAccessToken(ctx, id)
		if gone := errors.Is(err, storage.ErrNotFound); gone != wantGone {
			t.Errorf("token %s gone=%v (err %v), want %v", id, gone, err, wantGone)
		}
	}
	// The id is free again, and the new client does not inherit anything.
	mustAPIClient(t, s, "c1")
	if _, err := s.GetAccessToken(ctx, "t1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a recreated client sees its predecessor's token: %v", err)
	}
}

func testAccessTokenGarbageCollection(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustAPIClient(t, s, "c1")
	tokens := []storage.AccessToken{
		{ID: "expired", ExpiresAt: base.Add(time.Minute)},
		{ID: "revoked", ExpiresAt: base.Add(24 * time.Hour), RevokedAt: base.Add(time.Minute)},
		{ID: "live", ExpiresAt: base.Add(24 * time.Hour)},
		{ID: "revoked-later", ExpiresAt: base.Add(24 * time.Hour), RevokedAt: base.Add(time.Hour)},
	}
	for _, tok := range tokens {
		tok.ClientID, tok.KeyHash, tok.CreatedAt = "c1", hash32(1), base
		if err := s.CreateAccessToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	cutoff := base.Add(30 * time.Minute)
	n, err := s.DeleteAccessTokens(ctx, cutoff, 1)
	if err != nil || n != 1 {
		t.Fatalf("DeleteAccessTokens(limit 1) = %d, %v", n, err)
	}
	n, err = s.DeleteAccessTokens(ctx, cutoff, 100)
	if err != nil || n != 1 {
		t.Fatalf("DeleteAccessTokens = %d, %v; want the remaining 1", n, err)
	}
	for id, wantGone := range map[string]bool{"expired": true, "revoked": true, "live": false, "revoked-later": false} {
		_, err := s.GetAccessToken(ctx, id)
		if gone := errors.Is(err, storage.ErrNotFound); gone != wantGone {
			t.Errorf("token %s gone=%v (err %v), want %v", id, gone, err, wantGone)
		}
	}
}

func testListAccessTokens(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustAPIClient(t, s, "c1")
	mustAPIClient(t, s, "c2")
	for i, tok := range []storage.AccessToken{
		{ID: "old", ClientID: "c1", ExpiresAt: base.Add(time.Minute)},
		{ID: "revoked", ClientID: "c1", ExpiresAt: base.Add(time.Hour), RevokedAt: base},
		{ID: "live", ClientID: "c1", ExpiresAt: base.Add(time.Hour)},
		{ID: "other", ClientID: "c2", ExpiresAt: base.Add(time.Hour)},
	} {
		tok.KeyHash, tok.CreatedAt = hash32(1), base.Add(time.Duration(i)*time.Second)
		revokedAt := tok.RevokedAt
		tok.RevokedAt = time.Time{}
		if err := s.CreateAccessToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if !revokedAt.IsZero() {
			if err := s.RevokeAccessToken(ctx, tok.ID, revokedAt); err != nil {
				t.Fatal(err)
			}
		}
	}
	id := func(t storage.AccessToken) string { return t.ID }
	for _, c := range []struct {
		client string
		live   time.Time
		limit  int
		want   string
	}{
		{"c1", time.Time{}, 0, "live revoked old"},
		{"c1", base.Add(2 * time.Minute), 0, "live"},
		{"", time.Time{}, 0, "other live revoked old"},
		{"", time.Time{}, 2, "other live"},
	} {
		got, err := s.ListAccessTokens(ctx, storage.AccessTokenFilter{ClientID: c.client, LiveAt: c.live, Limit: c.limit})
		if err != nil || ids(got, id) != c.want {
			t.Errorf("ListAccessTokens(%q, %v, %d) = %q, %v; want %q", c.client, c.live, c.limit, ids(got, id), err, c.want)
		}
	}
}
