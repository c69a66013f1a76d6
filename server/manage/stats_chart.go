package manage

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/tokenmanager/tokenmanager/server/internal/chart"
)

// The charts of GET /stats as images: server-rendered SVG, self-contained, for an <img> under a strict
// Content-Security-Policy. Same query and tenancy as GET /stats: a vendor account gets its activations' chart,
// and 403 for the others.
const (
	chartTokens      = "tokens-per-hour.svg"
	chartActivations = "activations-per-day.svg"
	chartSignIns     = "signins-per-hour.svg"
)

func (a *API) statsChart(w http.ResponseWriter, r *http.Request, p principal) {
	name := r.PathValue("chart")
	switch name {
	case chartTokens, chartActivations, chartSignIns:
	default:
		Problem(w, http.StatusNotFound, "no such chart: tokens-per-hour.svg, activations-per-day.svg or signins-per-hour.svg")
		return
	}
	if name != chartActivations && p.vendor != "" {
		Problem(w, http.StatusForbidden, "forbidden: this chart covers every vendor; a vendor account has activations-per-day.svg")
		return
	}
	q, ok := a.parseStats(w, r)
	if !ok {
		return
	}
	var c chart.Chart
	switch name {
	case chartTokens:
		hours, err := a.tokensPerHour(r.Context(), q)
		if err != nil {
			a.failure(w, r, err)
			return
		}
		c = chart.Chart{Kind: chart.StackedBars, Title: "Tokens issued per hour", XLabel: "Hour (UTC)", YLabel: "Tokens issued", Unit: "tokens"}
		values := make([][]int64, len(statsKinds))
		for _, h := range hours {
			c.Categories = append(c.Categories, h.Hour.Format("01-02 15:04"))
			for i, v := range []int64{h.Session, h.Expiring, h.Open, h.OAuth, h.PowerAuth, h.App} {
				values[i] = append(values[i], v)
			}
		}
		for i, k := range statsKinds {
			c.Series = append(c.Series, chart.Series{Name: k.label, Values: values[i]})
		}
	case chartSignIns:
		hours, err := a.signInsPerHour(r.Context(), q)
		if err != nil {
			a.failure(w, r, err)
			return
		}
		c = chart.Chart{Kind: chart.Lines, Title: "Sign-ins refused per hour", XLabel: "Hour (UTC)", YLabel: "Sign-ins refused", Unit: "sign-ins"}
		failed, throttled := chart.Series{Name: "Failed (wrong credentials)"}, chart.Series{Name: "Throttled"}
		for _, h := range hours {
			c.Categories = append(c.Categories, h.Hour.Format("01-02 15:04"))
			failed.Values = append(failed.Values, h.Failed)
			throttled.Values = append(throttled.Values, h.Throttled)
		}
		c.Series = []chart.Series{failed, throttled}
	case chartActivations:
		acts, ok := a.activations(w, r, p, q)
		if !ok {
			return
		}
		c = chart.Chart{Kind: chart.StackedBars, Title: "License activations per day", XLabel: "Day (UTC)", YLabel: "Machines activated",
			Unit: "activations", Categories: acts.Days}
		// The products with the most activations each get a series; the rest are summed into one, so that the
		// chart's total is the whole.
		var other *chart.Series
		for i, pv := range acts.Products {
			if i < chart.MaxSeries-1 || len(acts.Products) == chart.MaxSeries {
				c.Series = append(c.Series, chart.Series{Name: pv.Name, Values: pv.Counts})
				continue
			}
			if other == nil {
				other = &chart.Series{Name: "other products", Values: make([]int64, len(acts.Days))}
			}
			for d, v := range pv.Counts {
				other.Values[d] += v
			}
		}
		if other != nil {
			c.Series = append(c.Series, *other)
		}
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	cached(w, r, "image/svg+xml", chart.Render(c))
}

// cached writes body with a short private Cache-Control and an ETag, and answers 304 to a request that already
// holds it (If-None-Match).
func cached(w http.ResponseWriter, r *http.Request, contentType string, body []byte) {
	etag := etagOf(string(body))
	h := w.Header()
	h.Set("ETag", etag)
	// Revalidated on every use (answered 304 while unchanged): the figures include this node's latest counts, so
	// an overview opened again shows what happened since at once.
	h.Set("Cache-Control", "private, no-cache")
	h.Set("Vary", "Authorization")
	if inm := r.Header.Get("If-None-Match"); inm != "" && matches(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("manage: JSON: " + err.Error()) // our own response types always marshal
	}
	return append(b, '\n')
}
