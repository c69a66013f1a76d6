package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/token"
)

// ListTokenKeys returns the token key ring, oldest first; before any rotation, the original key alone.
func (s *Service) ListTokenKeys(ctx context.Context) ([]storage.TokenKey, error) {
	list, err := s.store.ListTokenKeys(ctx)
	if err == nil && len(list) == 0 {
		list = []storage.TokenKey{{ID: storage.OriginalTokenKey, State: storage.KeyPrimary}}
	}
	return list, err
}

// RotateTokenKey adds a new primary token key to ring and returns its id. The ring must be readable with the
// server key in use, so that a node with a wrong key cannot lock everyone out.
func (s *Service) RotateTokenKey(ctx context.Context, a Actor, ring *token.Keyring) (string, error) {
	if ring == nil {
		return "", errors.New("no token key ring")
	}
	if _, err := ring.Load(ctx); err != nil {
		return "", err
	}
	id, err := ring.Rotate(ctx, s.now())
	if err != nil {
		return "", err
	}
	return id, s.record(ctx, a, "key.rotate", "", "key="+id)
}

// RetireTokenKey refuses every token of a verify-only key from now on. The primary key is ErrConflict.
func (s *Service) RetireTokenKey(ctx context.Context, a Actor, id string) error {
	if err := s.store.RetireTokenKey(ctx, id, s.now()); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return fmt.Errorf("%w: %s is the primary token key: rotate first, then retire it", ErrConflict, id)
		}
		return mapErr(err)
	}
	return s.record(ctx, a, "key.retire", "", "key="+id)
}
