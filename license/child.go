package license

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Child tokens (Cryptolens' "Get Token" flow). A vendor makes a parent token with the GetToken permission and
// ships it in an app; a user approves the app's request; the app then receives a child token. The parent
// bounds every child: a child holds only methods the parent holds (never GetToken itself), lives at most the
// parent's key lock in days and never beyond the parent's own expiry, reaches only the parent's locked
// product, and hides at least the fields the parent's feature lock hides. Revoking the parent revokes its
// children (RevokeAPIToken revokes derived tokens).

// Child token lifetimes, in days.
const (
	DefaultChildDays = 30   // when neither the app nor the parent's key lock says
	MaxChildDays     = 3650 // whatever they say
)

// ChildRequest is what an app asks for: Cryptolens' Scope (methods and locks) and Expires.
type ChildRequest struct {
	Methods     []Method
	ProductLock int64 // LockToProduct; 0: the parent's
	KeyLock     int64 // LockToKey: the key with this ID of the child's product; 0: every key
	FeatureLock int64 // LockToFeature: fields to hide, beyond the parent's feature lock
	Days        int   // Expires; 0: as long as the parent allows
}

// ChildGrant is a request bounded by its parent: what the user is shown and approves, and what the child gets.
type ChildGrant struct {
	Methods     []Method
	Withheld    []Method // asked for, but the parent cannot give them
	ProductLock int64
	KeyLock     int64
	FeatureLock int64
	Lifetime    time.Duration
	// Capped: the app asked for longer than the parent allows.
	Capped bool
}

// IsParent reports whether t may authorize apps (the GetToken permission).
func IsParent(t storage.APIToken) bool { return slices.Contains(t.Permissions, string(MethodGetToken)) }

// GrantChild bounds req by parent, at now. It fails with ErrAccessDenied if parent is not a live parent
// token, and with ErrInvalidInput if the request contradicts the parent (another product) or itself (a key
// lock without a product), or if the parent can give none of the methods asked for.
func (s *Service) GrantChild(ctx context.Context, parent storage.APIToken, req ChildRequest) (ChildGrant, error) {
	now := s.now()
	if !IsParent(parent) || parent.Revoked() || (!parent.ExpiresAt.IsZero() && !now.Before(parent.ExpiresAt)) {
		return ChildGrant{}, fmt.Errorf("%w: token %d is not a live token with the GetToken permission", ErrAccessDenied, parent.ID)
	}
	if req.ProductLock < 0 || req.KeyLock < 0 || req.FeatureLock < 0 || req.Days < 0 {
		return ChildGrant{}, invalid("negative lock or lifetime in the request")
	}
	g := ChildGrant{ProductLock: parent.ProductLock, KeyLock: req.KeyLock, FeatureLock: parent.FeatureLock | req.FeatureLock}
	switch {
	case req.ProductLock == 0:
	case parent.ProductLock == 0:
		if _, err := s.product(ctx, &Access{vendor: parent.Vendor, all: true}, req.ProductLock); err != nil {
			return ChildGrant{}, err
		}
		g.ProductLock = req.ProductLock
	case req.ProductLock != parent.ProductLock:
		return ChildGrant{}, invalid("the app asks for product %d, but its token is locked to product %d", req.ProductLock, parent.ProductLock)
	}
	if g.KeyLock > 0 && g.ProductLock == 0 {
		return ChildGrant{}, invalid("a key lock needs a product lock: key ids are per product")
	}
	for _, m := range req.Methods {
		switch {
		case slices.Contains(g.Methods, m) || slices.Contains(g.Withheld, m):
		case m != MethodGetToken && slices.Contains(parent.Permissions, string(m)):
			g.Methods = append(g.Methods, m)
		default:
			g.Withheld = append(g.Withheld, m)
		}
	}
	if len(g.Methods) == 0 {
		return g, invalid("the token of the app can give none of the permissions asked for")
	}
	if slices.Contains(g.Methods, MethodGetLicenseKeys) && g.ProductLock == 0 {
		return g, invalid("listing license keys needs a product whose key signs the list, and the app's token is locked to none")
	}

	limit := MaxChildDays
	if parent.KeyLock > 0 {
		limit = int(min(parent.KeyLock, MaxChildDays))
	}
	n := req.Days
	switch {
	case n == 0 && parent.KeyLock > 0:
		n = limit
	case n == 0:
		n = DefaultChildDays
	case n > limit:
		n, g.Capped = limit, true
	}
	g.Lifetime = days(n)
	if !parent.ExpiresAt.IsZero() && now.Add(g.Lifetime).After(parent.ExpiresAt) {
		g.Lifetime, g.Capped = parent.ExpiresAt.Sub(now), true
	}
	return g, nil
}

// IssueChild makes the child token of an approved grant for the parent token the caller presented, named
// name. Its life counts from now and ends no later than the parent's. store saves the token (the caller links
// it to its authorization in the same transaction) and returns it with its ID.
func (s *Service) IssueChild(parent *Access, name string, g ChildGrant, store func(storage.APIToken) (storage.APIToken, error)) (IssuedToken, error) {
	p, ok := parent.Token()
	if !ok || !IsParent(p) {
		return IssuedToken{}, fmt.Errorf("%w: not a parent token", ErrAccessDenied)
	}
	child := storage.APIToken{Vendor: p.Vendor, Name: name, ParentID: p.ID, ProductLock: g.ProductLock, KeyLock: g.KeyLock,
		FeatureLock: g.FeatureLock | p.FeatureLock, ExpiresAt: s.now().Add(g.Lifetime)}
	if p.ProductLock != 0 && child.ProductLock != p.ProductLock {
		return IssuedToken{}, fmt.Errorf("%w: grant for product %d under a token locked to %d", ErrAccessDenied, g.ProductLock, p.ProductLock)
	}
	for _, m := range g.Methods {
		if m != MethodGetToken && slices.Contains(p.Permissions, string(m)) {
			child.Permissions = append(child.Permissions, string(m))
		}
	}
	if len(child.Permissions) == 0 {
		return IssuedToken{}, fmt.Errorf("%w: the parent token no longer holds the granted methods", ErrAccessDenied)
	}
	if !p.ExpiresAt.IsZero() && child.ExpiresAt.After(p.ExpiresAt) {
		child.ExpiresAt = p.ExpiresAt
	}
	return s.issueWith(child, store)
}
