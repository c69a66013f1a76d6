package manage

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/usage"
)

// The overview's figures: GET /stats and its charts. What the database keeps no record of is counted by each
// node (package usage), reaches the history within a minute and is read with the node's own counts not yet written
// added (so a chart is current for this node); the sign-ins refused are read from the audit
// log. Every read is bounded: at most 720 hours, 366 days, and a LIMIT on each query.
//
// A vendor account sees only its own products' activations: the live figures, the tokens and the sign-ins are
// the operator's (they are not any one vendor's), left out of its answer, and their charts answer it 403.

// History is the usage history the stats routes read.
type History interface {
	ListUsageCounts(ctx context.Context, f storage.UsageFilter) ([]storage.UsageCount, error)
	SignInHistory(ctx context.Context, since time.Time, limit int) ([]storage.SignInCount, error)
}

// LiveCounts are the live figures /metrics reports.
type LiveCounts struct {
	Tokens, Sessions, OAuth, PowerAuth int
}

const (
	defaultStatsHours = 48
	maxStatsHours     = 720
	defaultStatsDays  = 30
	maxStatsDays      = 366
	// maxStatsProducts bounds the products an answer lists, those with the most activations first.
	maxStatsProducts = 100
	// maxActivationRows bounds the rows of the activation history read at once: beyond, the answer says it is
	// truncated.
	maxActivationRows = 20_000
	// maxScopeList is the most product ids sent to the database as a list; a vendor with more is filtered here.
	maxScopeList = 1000
)

// statsKinds are the token kinds the overview shows, with their names in the charts.
var statsKinds = []struct{ kind, label string }{
	{"session", "Spectrum session"}, {"expiring", "Spectrum expiring"}, {"open", "Spectrum open"},
	{"oauth", "OAuth"}, {"powerauth", "PowerAuth"}, {"app", "App authorization"},
}

type statsQuery struct {
	hours, days int
	product     int64 // 0: every product
	now         time.Time
}

// firstHour and firstDay are the starts of the windows: the current hour or day is the last of them.
func (q statsQuery) firstHour() time.Time {
	return q.now.UTC().Truncate(time.Hour).Add(-time.Duration(q.hours-1) * time.Hour)
}

func (q statsQuery) firstDay() time.Time {
	d := q.now.UTC()
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -(q.days - 1))
}

// parseStats reads ?hours=, ?days= and ?product=, answering a bad value 400 naming it.
func (a *API) parseStats(w http.ResponseWriter, r *http.Request) (statsQuery, bool) {
	q := statsQuery{hours: defaultStatsHours, days: defaultStatsDays, now: a.env.Now()}
	v := r.URL.Query()
	for _, f := range []struct {
		name string
		dst  *int
		max  int
	}{{"hours", &q.hours, maxStatsHours}, {"days", &q.days, maxStatsDays}} {
		if s := v.Get(f.name); s != "" || v.Has(f.name) {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > f.max {
				Problem(w, http.StatusBadRequest, f.name+": want a whole number from 1 to "+strconv.Itoa(f.max))
				return q, false
			}
			*f.dst = n
		}
	}
	if v.Has("product") {
		id, err := strconv.ParseInt(v.Get("product"), 10, 64)
		if err != nil || id <= 0 {
			Problem(w, http.StatusBadRequest, "product: want a product's id")
			return q, false
		}
		q.product = id
	}
	return q, true
}

type liveView struct {
	Tokens          int `json:"tokens"`
	Sessions        int `json:"sessions"`
	OAuthTokens     int `json:"oauth_tokens"`
	PowerAuthTokens int `json:"powerauth_tokens"`
}

type tokenHourView struct {
	Hour      time.Time `json:"hour"`
	Session   int64     `json:"session"`
	Expiring  int64     `json:"expiring"`
	Open      int64     `json:"open"`
	OAuth     int64     `json:"oauth"`
	PowerAuth int64     `json:"powerauth"`
	App       int64     `json:"app"`
}

type signInHourView struct {
	Hour      time.Time `json:"hour"`
	Failed    int64     `json:"failed"`
	Throttled int64     `json:"throttled"`
}

type productActivationsView struct {
	ID     int64   `json:"id"`
	Name   string  `json:"name"`
	Vendor string  `json:"vendor,omitempty"`
	Total  int64   `json:"total"`
	Counts []int64 `json:"counts"` // one per day of days
}

type activationsView struct {
	Days      []string                 `json:"days"` // UTC dates, oldest first
	Products  []productActivationsView `json:"products"`
	Truncated bool                     `json:"truncated,omitempty"`
}

type statsView struct {
	GeneratedAt       time.Time        `json:"generated_at"`
	Hours             int              `json:"hours"`
	Days              int              `json:"days"`
	Live              *liveView        `json:"live,omitempty"`
	TokensPerHour     []tokenHourView  `json:"tokens_per_hour,omitempty"`
	ActivationsPerDay *activationsView `json:"activations_per_day,omitempty"`
	SignInsPerHour    []signInHourView `json:"signins_per_hour,omitempty"`
}

// stats answers GET /stats: the operator gets every figure, a vendor account its products' activations.
func (a *API) stats(w http.ResponseWriter, r *http.Request, p principal) {
	q, ok := a.parseStats(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	v := statsView{GeneratedAt: q.now.UTC(), Hours: q.hours, Days: q.days}
	acts, ok := a.activations(w, r, p, q)
	if !ok {
		return
	}
	v.ActivationsPerDay = acts
	if p.vendor == "" {
		if a.deps.Live != nil {
			n, err := a.deps.Live()
			if err != nil {
				a.failure(w, r, err)
				return
			}
			v.Live = &liveView{Tokens: n.Tokens, Sessions: n.Sessions, OAuthTokens: n.OAuth, PowerAuthTokens: n.PowerAuth}
		}
		var err error
		if v.TokensPerHour, err = a.tokensPerHour(ctx, q); err != nil {
			a.failure(w, r, err)
			return
		}
		if v.SignInsPerHour, err = a.signInsPerHour(ctx, q); err != nil {
			a.failure(w, r, err)
			return
		}
	}
	body := mustJSON(v)
	cached(w, r, "application/json", body)
}

// tokensPerHour is every hour of the window, oldest first, zeros included.
func (a *API) tokensPerHour(ctx context.Context, q statsQuery) ([]tokenHourView, error) {
	kinds := make([]string, len(statsKinds))
	for i, k := range statsKinds {
		kinds[i] = usage.TokenKindPrefix + k.kind
	}
	first := q.firstHour()
	counts, err := a.deps.History.ListUsageCounts(ctx, storage.UsageFilter{Kinds: kinds, Since: first,
		Until: first.Add(time.Duration(q.hours) * time.Hour), Limit: q.hours * len(kinds)})
	if err != nil {
		return nil, err
	}
	out := make([]tokenHourView, q.hours)
	for i := range out {
		out[i].Hour = first.Add(time.Duration(i) * time.Hour)
	}
	for _, c := range counts {
		i := int(c.Hour.Sub(first) / time.Hour)
		if i < 0 || i >= len(out) {
			continue
		}
		h := &out[i]
		switch c.Kind[len(usage.TokenKindPrefix):] {
		case "session":
			h.Session += c.Count
		case "expiring":
			h.Expiring += c.Count
		case "open":
			h.Open += c.Count
		case "oauth":
			h.OAuth += c.Count
		case "powerauth":
			h.PowerAuth += c.Count
		case "app":
			h.App += c.Count
		}
	}
	return out, nil
}

// signInsPerHour is every hour of the window, oldest first, zeros included.
func (a *API) signInsPerHour(ctx context.Context, q statsQuery) ([]signInHourView, error) {
	first := q.firstHour()
	counts, err := a.deps.History.SignInHistory(ctx, first, q.hours+1) // +1: an hour stamped ahead of ours (clock skew)
	if err != nil {
		return nil, err
	}
	out := make([]signInHourView, q.hours)
	for i := range out {
		out[i].Hour = first.Add(time.Duration(i) * time.Hour)
	}
	for _, c := range counts {
		if i := int(c.Hour.Sub(first) / time.Hour); i >= 0 && i < len(out) {
			out[i].Failed, out[i].Throttled = c.Failed, c.Throttled
		}
	}
	return out, nil
}

// activations is the activations per day of the products the principal reaches (one of them with ?product=),
// those with the most first; 404 for a product it does not reach.
func (a *API) activations(w http.ResponseWriter, r *http.Request, p principal, q statsQuery) (*activationsView, bool) {
	first := q.firstDay()
	view := &activationsView{Days: make([]string, q.days), Products: []productActivationsView{}}
	for i := range view.Days {
		view.Days[i] = first.AddDate(0, 0, i).Format(time.DateOnly)
	}
	// Names, and what the principal reaches.
	products := map[int64]storage.Product{}
	if a.deps.License != nil {
		acc, ok := a.licenseAccess(w, r, p)
		if !ok {
			return nil, false
		}
		ps, err := a.deps.License.ListProducts(r.Context(), acc)
		if err != nil {
			a.failure(w, r, err)
			return nil, false
		}
		for _, pr := range ps {
			products[pr.ID] = pr
		}
	} else if p.vendor != "" {
		return view, true // no licensing: a vendor has no products
	}
	if q.product != 0 {
		if _, ok := products[q.product]; !ok && (p.vendor != "" || a.deps.License != nil) {
			Problem(w, http.StatusNotFound, "no such product")
			return nil, false
		}
	}
	f := storage.UsageFilter{Kinds: []string{usage.KindActivation}, Since: first, Until: first.AddDate(0, 0, q.days),
		Bucket: 24 * time.Hour, Limit: maxActivationRows}
	switch {
	case q.product != 0:
		f.Scopes = []string{strconv.FormatInt(q.product, 10)}
	case p.vendor != "" && len(products) <= maxScopeList:
		f.Scopes = make([]string, 0, len(products))
		for id := range products {
			f.Scopes = append(f.Scopes, strconv.FormatInt(id, 10))
		}
	}
	counts, err := a.deps.History.ListUsageCounts(r.Context(), f)
	if err != nil {
		a.failure(w, r, err)
		return nil, false
	}
	view.Truncated = len(counts) >= maxActivationRows
	byID := map[int64]*productActivationsView{}
	for _, c := range counts {
		id, err := strconv.ParseInt(c.Scope, 10, 64)
		if err != nil {
			id = 0 // "other": the products beyond what a node counts apart in an hour
		}
		pr, known := products[id]
		if p.vendor != "" && !known {
			continue // never another vendor's
		}
		d := int(c.Hour.Sub(first) / (24 * time.Hour))
		if d < 0 || d >= q.days {
			continue
		}
		pv := byID[id]
		if pv == nil {
			pv = &productActivationsView{ID: id, Name: pr.Name, Vendor: pr.Vendor, Counts: make([]int64, q.days)}
			if !known {
				pv.Name = "product " + strconv.FormatInt(id, 10) + " (deleted)"
				if id == 0 {
					pv.Name = "other products"
				}
			}
			if p.vendor != "" {
				pv.Vendor = ""
			}
			byID[id] = pv
		}
		pv.Counts[d] += c.Count
		pv.Total += c.Count
	}
	for _, pv := range byID {
		view.Products = append(view.Products, *pv)
	}
	slices.SortFunc(view.Products, func(x, y productActivationsView) int {
		return cmp.Or(cmp.Compare(y.Total, x.Total), cmp.Compare(x.ID, y.ID))
	})
	if len(view.Products) > maxStatsProducts {
		view.Products, view.Truncated = view.Products[:maxStatsProducts], true
	}
	return view, true
}
