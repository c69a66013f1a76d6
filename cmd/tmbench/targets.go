package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// The performance targets, evaluated on one run's figures.
const (
	p1MinRatio, p1MinRPS = 0.40, 10_000.0 // of the baseline; req/s
	p2MinRatio, p2MinRPS = 0.60, 25_000.0
	p3CoreShare          = 0.90 // of cores ÷ one argon2id verification
	p4MinRatio           = 0.80 // of the empty-store figure
	p4MaxRSS             = 150e6
	p5MaxP99             = 5 * time.Millisecond
	introspectMinRatio   = 0.40
	// Ory Hydra v2.3.0 on SQLite, same kind of machine, wrk c32: published figures from another day, not
	// measured by tmbench (--peer-token-url measures a peer in the same run).
	hydraClientCredentials = 331.0
	hydraIntrospect        = 2404.0
)

// targetRow is one line of the targets table. Met is "yes", "NO", or "-" (nothing to meet, or a figure it needs
// is missing). A figure with errors does not meet its target.
type targetRow struct {
	Figure   string  `json:"figure"` // P1 … P5, OAuth
	What     string  `json:"what"`
	Measured string  `json:"measured"`
	Target   string  `json:"target"`
	Met      string  `json:"met"`
	Value    float64 `json:"value,omitempty"`     // the measured number (req/s, ratio, bytes or µs, as What says)
	Required float64 `json:"threshold,omitempty"` // the number it is held against
}

func met(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

// evaluateTargets builds the targets table from the figures that ran (a figure whose scenarios did not run is
// left out; one whose scenario was skipped or failed is listed as not measured).
func evaluateTargets(r *report) []targetRow {
	byName := map[string]*scenarioReport{}
	for i := range r.Scenarios {
		byName[r.Scenarios[i].Name] = &r.Scenarios[i]
	}
	measured, notMeasured := scenarioLookup(byName)
	var base float64
	if b, ok := measured(scBaseline); ok {
		base = b.RPS
	}
	var rows []targetRow

	throughput := func(fig, what, name string, minRatio, minRPS float64) {
		if _, ran := byName[name]; !ran {
			return
		}
		target := fmt.Sprintf("≥ %.2f× baseline and ≥ %s/s", minRatio, fmtInt(uint64(minRPS)))
		s, ok := measured(name)
		if !ok {
			rows = append(rows, notMeasured(fig, what, target, name))
			return
		}
		row := targetRow{Figure: fig, What: what, Target: target, Value: s.RPS, Required: minRPS}
		if base > 0 {
			row.Measured = fmt.Sprintf("%s/s = %s baseline", fmtRate(s.RPS), fmtRatio(s.RPS/base))
			row.Met = met(s.RPS/base >= minRatio && s.RPS >= minRPS && s.Errors == 0)
		} else {
			row.Measured = fmtRate(s.RPS) + "/s (no baseline in this run)"
			row.Met = "-"
			if s.RPS < minRPS {
				row.Met = "NO"
			}
		}
		rows = append(rows, withErrors(row, s))
	}
	throughput("P1", "SOAP getAccessToken, Basic, warm credential cache", scSOAP, p1MinRatio, p1MinRPS)
	throughput("P2", "token check: verify with Bearer", scVerify, p2MinRatio, p2MinRPS)
	throughput("P2", "token check: verify with Bearer + SESSION", scVerifySession, p2MinRatio, p2MinRPS)
	throughput("P2", "token check: forward-auth with Bearer", scForward, p2MinRatio, p2MinRPS)

	if _, ran := byName[scCold]; ran {
		what := "issuance with a never-verified password (REST open token, Basic)"
		target := "≥ 0.9 × cores ÷ one argon2id verification"
		s, ok := measured(scCold)
		switch {
		case !ok:
			rows = append(rows, notMeasured("P3", what, target, scCold))
		case r.Argon2VerifyMs <= 0:
			rows = append(rows, targetRow{Figure: "P3", What: what, Measured: fmtRate(s.RPS) + "/s (argon2id time unknown)", Target: target, Met: "-"})
		default:
			want := p3CoreShare * float64(r.NumCPU) / (r.Argon2VerifyMs / 1000)
			rows = append(rows, withErrors(targetRow{Figure: "P3", What: what,
				Measured: fmt.Sprintf("%s/s = %s target", fmtRate(s.RPS), fmtRatio(s.RPS/want)),
				Target:   fmt.Sprintf("≥ %s/s = 0.9 × %d cores ÷ %.1f ms", fmtRate(want), r.NumCPU, r.Argon2VerifyMs),
				Met:      met(s.RPS >= want && s.Errors == 0), Value: s.RPS, Required: want}, s))
		}
	}

	rows = append(rows, fullStoreRows(byName, []scenarioWhat{
		{scSOAP, "P1 on the full store"}, {scVerify, "verify with Bearer on the full store"},
		{scVerifySession, "verify with Bearer + SESSION on the full store"}, {scForward, "forward-auth on the full store"},
	})...)
	if f := r.Fill; f != nil {
		target := "≤ 150 MB"
		if f.AfterFillError != "" {
			rows = append(rows, targetRow{Figure: "P4", What: "server RSS after the fill", Measured: "unknown: " + f.AfterFillError, Target: target, Met: "-"})
		} else {
			rows = append(rows, targetRow{Figure: "P4", What: "server RSS after the fill",
				Measured: fmt.Sprintf("VmRSS %s (before the fill %s)", fmtMB(f.AfterFill.RSS), fmtMB(f.BeforeFill.RSS)), Target: target,
				Met: met(float64(f.AfterFill.RSS) <= p4MaxRSS), Value: float64(f.AfterFill.RSS), Required: p4MaxRSS})
		}
		what := "server peak RSS on the full store (after the fill)"
		if !f.PeakReset {
			what = "server peak RSS over the whole run"
		}
		if f.EndError != "" {
			rows = append(rows, targetRow{Figure: "P4", What: what, Measured: "unknown: " + f.EndError, Target: target, Met: "-"})
		} else {
			rows = append(rows, targetRow{Figure: "P4", What: what,
				Measured: fmt.Sprintf("VmHWM %s (VmRSS then %s)", fmtMB(f.End.HWM), fmtMB(f.End.RSS)), Target: target,
				Met: met(float64(f.End.HWM) <= p4MaxRSS), Value: float64(f.End.HWM), Required: p4MaxRSS})
		}
	}

	for _, b := range []struct{ name, what string }{
		{scSOAP, "p99 at half of P1's peak"}, {scVerify, "p99 at half of verify-bearer's peak"},
	} {
		name := b.name + halfPeakSuffix
		if _, ran := byName[name]; !ran {
			continue
		}
		target := "p99 ≤ " + fmtLatency(p5MaxP99)
		s, ok := measured(name)
		if !ok {
			rows = append(rows, notMeasured("P5", b.what, target, name))
			continue
		}
		p99 := time.Duration(s.P99us * float64(time.Microsecond))
		rows = append(rows, withErrors(targetRow{Figure: "P5", What: b.what,
			Measured: fmt.Sprintf("p99 %s (p50 %s), %s/s of %s/s scheduled", fmtLatency(p99),
				fmtLatency(time.Duration(s.P50us*float64(time.Microsecond))), fmtRate(s.RPS), fmtRate(s.Rate)),
			Target: target, Met: met(p99 <= p5MaxP99 && s.Errors == 0), Value: s.P99us, Required: float64(p5MaxP99 / time.Microsecond)}, s))
	}

	rows = append(rows, licensingTargets(r, byName, base)...)

	// OAuth: beside the peer measured in this run (--peer-token-url), else beside Hydra's published figures
	// (from another day, not measured here); introspection also against the baseline.
	for _, b := range []struct {
		name, peer, what string
		hydra            float64
		minRatio         float64 // of the baseline; 0: no target of its own
	}{
		{scOAuthToken, scPeerToken, "client_credentials tokens/s (client_secret_basic)", hydraClientCredentials, 0},
		{scOAuthIntrospect, scPeerIntrospect, "introspections/s (opaque access token)", hydraIntrospect, introspectMinRatio},
	} {
		if _, ran := byName[b.name]; !ran {
			continue
		}
		target := "report beside the peer"
		if b.minRatio > 0 {
			target = fmt.Sprintf("≥ %.2f× baseline", b.minRatio)
		}
		s, ok := measured(b.name)
		if !ok {
			rows = append(rows, notMeasured("OAuth", b.what, target, b.name))
			continue
		}
		var parts []string
		row := targetRow{Figure: "OAuth", What: b.what, Target: target, Met: "-", Value: s.RPS}
		if b.minRatio > 0 && base > 0 {
			parts = append(parts, fmt.Sprintf("%s/s = %s baseline", fmtRate(s.RPS), fmtRatio(s.RPS/base)))
			row.Met, row.Value, row.Required = met(s.RPS/base >= b.minRatio && s.Errors == 0), s.RPS/base, b.minRatio
		} else {
			parts = append(parts, fmtRate(s.RPS)+"/s")
		}
		if p, ok := measured(b.peer); ok {
			parts = append(parts, fmt.Sprintf("%s %s's %s/s (measured here)", fmtRatio(s.RPS/p.RPS), r.PeerName, fmtRate(p.RPS)))
		} else {
			parts = append(parts, fmt.Sprintf("%s Hydra's %s/s (published figures, not measured here)", fmtRatio(s.RPS/b.hydra), fmtRate(b.hydra)))
		}
		row.Measured = strings.Join(parts, "; ")
		rows = append(rows, withErrors(row, s))
	}
	for _, b := range []struct{ name, what string }{
		{scPeerToken, "client_credentials tokens/s"}, {scPeerIntrospect, "introspections/s"},
	} {
		if _, ran := byName[b.name]; !ran {
			continue
		}
		what := r.PeerName + " (peer, measured here): " + b.what
		s, ok := measured(b.name)
		if !ok {
			rows = append(rows, notMeasured("OAuth", what, "-", b.name))
			continue
		}
		m := fmtRate(s.RPS) + "/s"
		if base > 0 {
			m += " = " + fmtRatio(s.RPS/base) + " baseline"
		}
		rows = append(rows, withErrors(targetRow{Figure: "OAuth", What: what, Measured: m, Target: "-", Met: "-", Value: s.RPS}, s))
	}
	return rows
}

// withErrors notes a scenario's errors in its row.
func withErrors(row targetRow, s *scenarioReport) targetRow {
	if s.Errors > 0 {
		row.Measured += fmt.Sprintf(" (%s errors)", fmtInt(s.Errors))
	}
	return row
}

// fmtRate prints a rate with thousands separators, and one decimal below 100.
func fmtRate(r float64) string {
	if r < 100 {
		return fmt.Sprintf("%.1f", r)
	}
	return fmtInt(uint64(math.Round(r)))
}

func targetTableRows(rows []targetRow) [][]string {
	out := [][]string{{"figure", "what", "measured", "target", "met"}}
	for _, t := range rows {
		out = append(out, []string{t.Figure, t.What, t.Measured, t.Target, t.Met})
	}
	return out
}

// scenarioLookup gives the reports by name: measured answers a scenario that ran with a successful request,
// notMeasured the row of a target whose scenario did not, saying why.
func scenarioLookup(byName map[string]*scenarioReport) (measured func(string) (*scenarioReport, bool), notMeasured func(fig, what, target, name string) targetRow) {
	measured = func(name string) (*scenarioReport, bool) {
		s, ok := byName[name]
		return s, ok && s.Skipped == "" && s.Requests > 0
	}
	notMeasured = func(fig, what, target, name string) targetRow {
		why := "not measured: " + name + " had no successful request"
		if s := byName[name]; s != nil && s.Skipped != "" {
			why = "not measured: " + name + " skipped"
		}
		return targetRow{Figure: fig, What: what, Measured: why, Target: target, Met: "-"}
	}
	return measured, notMeasured
}

// scenarioWhat names a scenario and says what it measures.
type scenarioWhat struct{ name, what string }

// fullStoreRows are P4's rows: each scenario's figure on the filled store against its empty-store figure, for
// the scenarios whose full-store run took place.
func fullStoreRows(byName map[string]*scenarioReport, scenarios []scenarioWhat) []targetRow {
	measured, notMeasured := scenarioLookup(byName)
	var rows []targetRow
	for _, b := range scenarios {
		name := b.name + fullSuffix
		if _, ran := byName[name]; !ran {
			continue
		}
		target := fmt.Sprintf("≥ %.2f× the empty-store figure", p4MinRatio)
		full, okFull := measured(name)
		empty, okEmpty := measured(b.name)
		switch {
		case !okFull:
			rows = append(rows, notMeasured("P4", b.what, target, name))
		case !okEmpty:
			rows = append(rows, notMeasured("P4", b.what, target, b.name))
		default:
			ratio := full.RPS / empty.RPS
			rows = append(rows, withErrors(targetRow{Figure: "P4", What: b.what,
				Measured: fmt.Sprintf("%s/s = %s of %s/s", fmtRate(full.RPS), fmtRatio(ratio), fmtRate(empty.RPS)),
				Target:   target, Met: met(ratio >= p4MinRatio && full.Errors == 0), Value: ratio, Required: p4MinRatio}, full))
		}
	}
	return rows
}
