package license

import (
	"context"

	"github.com/tokenmanager/tokenmanager/storage"
)

// APIToken returns one access token (never its secret, which is not kept); with a vendor, only that vendor's:
// another vendor's is storage.ErrNotFound, as RevokeAPIToken answers.
func (s *Service) APIToken(ctx context.Context, vendor string, id int64) (storage.APIToken, error) {
	if id <= 0 {
		return storage.APIToken{}, storage.ErrNotFound
	}
	t, err := s.store.GetAPIToken(ctx, id)
	if err == nil && vendor != "" && t.Vendor != vendor {
		return storage.APIToken{}, storage.ErrNotFound
	}
	return t, err
}
