package license

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tokenmanager/tokenmanager/storage"
)

// KeysPageSize is how many keys product/GetKeys answers per page, as Cryptolens does ("only 99 will be
// returned").
const KeysPageSize = 99

// MaxOrderByLen bounds GetKeys' OrderBy.
const MaxOrderByLen = 64

// KeysRequest is product/GetKeys' parameters.
type KeysRequest struct {
	ProductID   int64
	Page        int    // from 1
	OrderBy     string // "Field [ascending|descending]"; empty: ID ascending
	SearchQuery string
	GlobalID    int64 // > 0: only the key with this global id
}

// KeysPage is one page of a product's keys.
type KeysPage struct {
	Keys      []License // Customer, Reseller and the node-locked Machines filled in
	Returned  int       // len(Keys)
	Total     int       // keys matching the query on every page
	PageCount int       // pages of KeysPageSize that hold Total
}

// keyOrders are GetKeys' OrderBy fields by lower-case name.
var keyOrders = map[string]func(a, b storage.LicenseKey) int{
	"id":              func(a, b storage.LicenseKey) int { return cmp.Compare(a.ID, b.ID) },
	"globalid":        func(a, b storage.LicenseKey) int { return cmp.Compare(a.GlobalID, b.GlobalID) },
	"key":             func(a, b storage.LicenseKey) int { return strings.Compare(a.Key, b.Key) },
	"created":         func(a, b storage.LicenseKey) int { return a.CreatedAt.Compare(b.CreatedAt) },
	"expires":         func(a, b storage.LicenseKey) int { return a.ExpiresAt.Compare(b.ExpiresAt) },
	"period":          func(a, b storage.LicenseKey) int { return cmp.Compare(a.Period, b.Period) },
	"notes":           func(a, b storage.LicenseKey) int { return strings.Compare(a.Notes, b.Notes) },
	"block":           func(a, b storage.LicenseKey) int { return cmpBool(a.Blocked, b.Blocked) },
	"trialactivation": func(a, b storage.LicenseKey) int { return cmpBool(a.TrialActivation, b.TrialActivation) },
	"maxnoofmachines": func(a, b storage.LicenseKey) int { return cmp.Compare(a.MaxNoOfMachines, b.MaxNoOfMachines) },
	"customerid":      func(a, b storage.LicenseKey) int { return cmp.Compare(a.CustomerID, b.CustomerID) },
	"resellerid":      func(a, b storage.LicenseKey) int { return cmp.Compare(a.ResellerID, b.ResellerID) },
}

func init() {
	for i := range 8 {
		keyOrders[fmt.Sprintf("f%d", i+1)] = func(a, b storage.LicenseKey) int { return cmpBool(a.Features[i], b.Features[i]) }
	}
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case b:
		return -1
	}
	return 1
}

// parseOrderBy reads "Field [ascending|descending]" (asc/desc too) into a comparison; ties go by ID.
func parseOrderBy(s string) (func(a, b storage.LicenseKey) int, error) {
	if len(s) > MaxOrderByLen {
		return nil, invalid("OrderBy longer than %d bytes", MaxOrderByLen)
	}
	f := strings.Fields(s)
	if len(f) == 0 {
		return keyOrders["id"], nil
	}
	by, ok := keyOrders[strings.ToLower(f[0])]
	if !ok || len(f) > 2 {
		return nil, invalid("OrderBy %q: a field of the key, then ascending or descending", s)
	}
	desc := false
	if len(f) == 2 {
		switch strings.ToLower(f[1]) {
		case "ascending", "asc":
		case "descending", "desc":
			desc = true
		default:
			return nil, invalid("OrderBy %q: ascending or descending", s)
		}
	}
	return func(a, b storage.LicenseKey) int {
		c := by(a, b)
		if desc {
			c = -c
		}
		if c == 0 {
			c = cmp.Compare(a.ID, b.ID)
		}
		return c
	}, nil
}

// GetKeys returns one page of the product's keys that match the search query, in the order asked for. A token
// locked to one key sees only that key.
func (s *Service) GetKeys(ctx context.Context, a *Access, req KeysRequest) (KeysPage, error) {
	if err := a.allow(MethodGetKeys); err != nil {
		return KeysPage{}, err
	}
	if req.Page < 1 {
		return KeysPage{}, invalid("Page %d: pages count from 1", req.Page)
	}
	if req.GlobalID < 0 {
		return KeysPage{}, invalid("GlobalId %d", req.GlobalID)
	}
	order, err := parseOrderBy(req.OrderBy)
	if err != nil {
		return KeysPage{}, err
	}
	q, err := ParseKeyQuery(req.SearchQuery)
	if err != nil {
		return KeysPage{}, err
	}
	p, err := s.product(ctx, a, req.ProductID)
	if err != nil {
		return KeysPage{}, err
	}
	keys, err := s.store.ListLicenseKeys(ctx, p.ID)
	if err != nil {
		return KeysPage{}, err
	}
	// Customers and resellers are read once for the vendor, not per key, and only when needed.
	customers := map[int64]*storage.Customer{}
	resellers := map[int64]*storage.Reseller{}
	cs, err := s.store.ListCustomers(ctx, p.Vendor)
	if err != nil {
		return KeysPage{}, err
	}
	for i := range cs {
		customers[cs[i].ID] = &cs[i]
	}
	rs, err := s.store.ListResellers(ctx, p.Vendor)
	if err != nil {
		return KeysPage{}, err
	}
	for i := range rs {
		resellers[rs[i].ID] = &rs[i]
	}
	var matched []KeyRecord
	for _, k := range keys {
		if a.keyAllowed(k) != nil || (req.GlobalID > 0 && k.GlobalID != req.GlobalID) {
			continue
		}
		r := KeyRecord{Key: k, Customer: customers[k.CustomerID], Reseller: resellers[k.ResellerID]}
		if q.Match(r) {
			matched = append(matched, r)
		}
	}
	slices.SortStableFunc(matched, func(x, y KeyRecord) int { return order(x.Key, y.Key) })
	out := KeysPage{Total: len(matched), PageCount: (len(matched) + KeysPageSize - 1) / KeysPageSize, Keys: []License{}}
	from := (req.Page - 1) * KeysPageSize
	if req.Page > out.PageCount+1 || from >= len(matched) {
		return out, nil
	}
	now := s.now()
	for _, r := range matched[from:min(from+KeysPageSize, len(matched))] {
		acts, err := s.store.ListActivations(ctx, r.Key.GlobalID)
		if err != nil {
			return KeysPage{}, err
		}
		l := s.view(p, r.Key, acts, a, 0, now)
		l.Customer, l.Reseller = r.Customer, r.Reseller
		out.Keys = append(out.Keys, l)
	}
	out.Returned = len(out.Keys)
	return out, nil
}

// GetProducts returns the products the access reaches: a token locked to a product sees only that one.
func (s *Service) GetProducts(ctx context.Context, a *Access) ([]storage.Product, error) {
	if err := a.allow(MethodGetProducts); err != nil {
		return nil, err
	}
	ps, err := s.store.ListProducts(ctx, a.vendor)
	if err != nil {
		return nil, err
	}
	if lock := a.token.ProductLock; lock != 0 {
		ps = slices.DeleteFunc(ps, func(p storage.Product) bool { return p.ID != lock })
	}
	return ps, nil
}
