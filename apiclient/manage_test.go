package apiclient_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/storage"
)

// TestUpdate: an edit writes only the fields given, checks them as Create does, and a failing check or bad
// value writes nothing.
func TestUpdate(t *testing.T) {
	f := newFixture(t, apiclient.Config{})
	ctx := context.Background()
	f.create(t, apiclient.Spec{ID: "app", Scopes: []string{"Partner"}, Description: "before"})
	scopes := []string{"Reports", "Partner", "Reports"}
	life := 10 * time.Minute
	c, err := f.svc.Update(ctx, "app", apiclient.Change{Scopes: &scopes, TokenLifetime: &life})
	if err != nil || !slices.Equal(c.Scopes, []string{"Reports", "Partner"}) || c.TokenLifetime != life || c.Description != "before" {
		t.Fatalf("Update = %+v, %v", c, err)
	}
	if got, _ := f.svc.Get(ctx, "app"); !slices.Equal(got.Scopes, c.Scopes) || got.TokenLifetime != life {
		t.Fatalf("stored: %+v", got)
	}
	bad := []string{"has space"}
	long := 25 * time.Hour
	format := "xml"
	for name, ch := range map[string]apiclient.Change{"scope": {Scopes: &bad}, "lifetime": {TokenLifetime: &long}, "format": {TokenFormat: &format}} {
		if _, err := f.svc.Update(ctx, "app", ch); !errors.Is(err, apiclient.ErrInvalidSpec) {
			t.Errorf("Update(bad %s) = %v, want ErrInvalidSpec", name, err)
		}
	}
	stale := errors.New("stale")
	off := true
	if _, err := f.svc.Update(ctx, "app", apiclient.Change{Disabled: &off, Check: func(storage.APIClient) error { return stale }}); !errors.Is(err, stale) {
		t.Fatalf("Update(failing check) = %v", err)
	}
	if got, _ := f.svc.Get(ctx, "app"); got.Disabled {
		t.Fatal("an update whose check failed was written")
	}
	if _, err := f.svc.Update(ctx, "nope", apiclient.Change{Disabled: &off}); !errors.Is(err, apiclient.ErrUnknownClient) {
		t.Fatalf("Update(unknown) = %v", err)
	}
}
