package cached

import (
	"context"
	"slices"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// The records every OAuth 2.0 call reads: the API client that authenticates (and the client a presented token
// was issued to), and the access token presented. Their triggers (migration 0025) announce every change or
// removal of a client and every revocation of a token, so they follow the same rules as the other records: a
// client disabled, given a new key or removed, and a token revoked, are dropped here before the call that did it
// returns, and on other nodes at their next Sync. A token's other fields never change. A client's removal also
// removes its tokens unannounced, so any change of a client drops the copies of its tokens too (a scan of the
// table: clients change rarely).
type oauth struct {
	clients      *table[storage.APIClient]
	accessTokens *table[storage.AccessToken]
}

func newOAuth(o Options) oauth {
	return oauth{clients: newTable[storage.APIClient](o), accessTokens: newTable[storage.AccessToken](o)}
}

// drop drops the entry a change names; false if the kind is not an OAuth one.
func (a oauth) drop(kind storage.ChangeKind, key string) bool {
	switch kind {
	case storage.ChangedAPIClient:
		a.clients.drop(key)
		a.accessTokens.dropWhere(func(t storage.AccessToken) bool { return t.ClientID == key })
	case storage.ChangedAccessToken:
		a.accessTokens.drop(key)
	default:
		return false
	}
	return true
}

func (a oauth) dropAll() {
	a.clients.dropAll()
	a.accessTokens.dropAll()
}

func (a oauth) sweep(now time.Time) {
	a.clients.sweep(now)
	a.accessTokens.sweep(now)
}

func (c *Store) GetAPIClient(ctx context.Context, id string) (storage.APIClient, error) {
	cl, err := read(c, c.oauth.clients, id, func() (storage.APIClient, error) { return c.Store.GetAPIClient(ctx, id) })
	// callers own what they get
	cl.PrimaryKeyHash, cl.SecondaryKeyHash = slices.Clone(cl.PrimaryKeyHash), slices.Clone(cl.SecondaryKeyHash)
	cl.Scopes, cl.GrantTypes = slices.Clone(cl.Scopes), slices.Clone(cl.GrantTypes)
	return cl, err
}

func (c *Store) GetAccessToken(ctx context.Context, id string) (storage.AccessToken, error) {
	t, err := read(c, c.oauth.accessTokens, id, func() (storage.AccessToken, error) { return c.Store.GetAccessToken(ctx, id) })
	t.Scopes, t.KeyHash = slices.Clone(t.Scopes), slices.Clone(t.KeyHash)
	return t, err
}
