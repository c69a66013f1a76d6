package apiclient

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Change edits a client's settings; nil fields stay as they are. Its keys change only by RegenerateKey.
type Change struct {
	Description            *string
	Scopes                 *[]string // the whole set; tokens already issued keep the scopes they were given
	TokenLifetime          *time.Duration
	RequireSubscriptionKey *bool
	Introspect             *bool
	Disabled               *bool
	TokenFormat            *string // FormatJWT, FormatOpaque, or "" for the server's default
	// Check, when set, runs on the stored client inside the change's transaction; its error aborts the change
	// (the management API's If-Match).
	Check func(storage.APIClient) error
}

// Update applies ch to the client in one transaction and returns the client as written. The checks are those
// of Create; ErrUnknownClient (wrapped) when there is no such client.
func (s *Service) Update(ctx context.Context, id string, ch Change) (storage.APIClient, error) {
	var scopes []string
	if ch.Scopes != nil {
		var err error
		if scopes, err = validScopeList(*ch.Scopes); err != nil {
			return storage.APIClient{}, err
		}
	}
	if d := ch.TokenLifetime; d != nil && (*d < MinTokenLifetime || *d > MaxTokenLifetime) {
		return storage.APIClient{}, fmt.Errorf("%w: token lifetime %v is outside %v..%v", ErrInvalidSpec, *d, MinTokenLifetime, MaxTokenLifetime)
	}
	if ch.TokenFormat != nil {
		if err := ValidFormat(*ch.TokenFormat); err != nil {
			return storage.APIClient{}, err
		}
	}
	if d := ch.Description; d != nil {
		if err := validDescription(*d); err != nil {
			return storage.APIClient{}, err
		}
	}
	now := s.now()
	var out storage.APIClient
	err := s.store.UpdateAPIClient(ctx, id, func(c *storage.APIClient) error {
		if ch.Check != nil {
			if err := ch.Check(*c); err != nil {
				return err
			}
		}
		if ch.Description != nil {
			c.Description = *ch.Description
		}
		if ch.Scopes != nil {
			c.Scopes = scopes
		}
		if ch.TokenLifetime != nil {
			c.TokenLifetime = *ch.TokenLifetime
		}
		if ch.RequireSubscriptionKey != nil {
			c.RequireSubscriptionKey = *ch.RequireSubscriptionKey
		}
		if ch.Introspect != nil {
			c.Introspect = *ch.Introspect
		}
		if ch.Disabled != nil {
			c.Disabled = *ch.Disabled
		}
		if ch.TokenFormat != nil {
			c.TokenFormat = *ch.TokenFormat
		}
		c.UpdatedAt = now
		out = *c
		return nil
	})
	if err != nil {
		return storage.APIClient{}, clientErr(id, err)
	}
	return out, nil
}

// validDescription bounds the operators' note on a client.
func validDescription(d string) error {
	if strings.ContainsFunc(d, isControl) || len(d) > 1024 {
		return fmt.Errorf("%w: description has control characters or is longer than 1024 bytes", ErrInvalidSpec)
	}
	return nil
}
