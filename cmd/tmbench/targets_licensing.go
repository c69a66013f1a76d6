package main

import (
	"fmt"
	"strings"
)

// Targets of the licensing scenarios.
const (
	signCoreShare     = 0.90 // of cores ÷ one RSA-2048 signature
	getKeyMinRatio    = 0.30 // of the baseline
	wooMinRatio       = 0.30
	powerAuthMinRatio = 0.25
	// mixMinShare of the rate the mix's requests reach in their own scenarios (mixExpected): mixing them may
	// cost at most a tenth (the activations' writes and the token inserts share one writer; caches are shared).
	mixMinShare = 0.90
)

// licensingTargets are the licensing scenarios' rows: each against the baseline, the signing limit of the
// cores or its components, then P4's for the ones that ran on the full store.
func licensingTargets(r *report, byName map[string]*scenarioReport, base float64) []targetRow {
	measured, notMeasured := scenarioLookup(byName)
	var rows []targetRow

	if _, ran := byName[scActivateSigned]; ran {
		what := "Cryptolens Activate, Sign=true (one RSA-2048 signature)"
		target := "≥ 0.9 × cores ÷ one RSA-2048 signature"
		s, ok := measured(scActivateSigned)
		switch {
		case !ok:
			rows = append(rows, notMeasured("Lic", what, target, scActivateSigned))
		case r.RSASignMs <= 0:
			rows = append(rows, targetRow{Figure: "Lic", What: what, Measured: fmtRate(s.RPS) + "/s (signing time unknown)", Target: target, Met: "-"})
		default:
			want := signCoreShare * float64(r.NumCPU) / (r.RSASignMs / 1000)
			rows = append(rows, withErrors(targetRow{Figure: "Lic", What: what,
				Measured: fmt.Sprintf("%s/s = %s target", fmtRate(s.RPS), fmtRatio(s.RPS/want)),
				Target:   fmt.Sprintf("≥ %s/s = 0.9 × %d cores ÷ %.2f ms", fmtRate(want), r.NumCPU, r.RSASignMs),
				Met:      met(s.RPS >= want && s.Errors == 0), Value: s.RPS, Required: want}, s))
		}
	}

	ratio := func(fig, what, name string, minRatio float64) {
		if _, ran := byName[name]; !ran {
			return
		}
		target := fmt.Sprintf("≥ %.2f× baseline", minRatio)
		s, ok := measured(name)
		switch {
		case !ok:
			rows = append(rows, notMeasured(fig, what, target, name))
		case base <= 0:
			rows = append(rows, withErrors(targetRow{Figure: fig, What: what, Measured: fmtRate(s.RPS) + "/s (no baseline in this run)",
				Target: target, Met: "-", Value: s.RPS}, s))
		default:
			rows = append(rows, withErrors(targetRow{Figure: fig, What: what,
				Measured: fmt.Sprintf("%s/s = %s baseline", fmtRate(s.RPS), fmtRatio(s.RPS/base)),
				Target:   target, Met: met(s.RPS/base >= minRatio && s.Errors == 0), Value: s.RPS / base, Required: minRatio}, s))
		}
	}
	ratio("Lic", "Cryptolens GetKey, GET, unsigned", scGetKeyGet, getKeyMinRatio)
	ratio("Lic", "Cryptolens GetKey, POST, unsigned", scGetKeyPost, getKeyMinRatio)
	ratio("Woo", "WooCommerce validate with a Bearer token", scWooValidate, wooMinRatio)
	ratio("PA", "PowerAuth X-PowerAuth-Token at /auth/forward", scPowerAuthFwd, powerAuthMinRatio)

	if _, ran := byName[scLicenseMix]; ran {
		what := "licensing mix: " + mixDescription()
		target := fmt.Sprintf("≥ %.2f× its parts' rates combined", mixMinShare)
		s, ok := measured(scLicenseMix)
		rates := map[string]float64{}
		for _, c := range licenseMix {
			if cs, ok := measured(c.scenario); ok {
				rates[c.scenario] = cs.RPS
			}
		}
		want, haveParts := mixExpected(rates)
		switch {
		case !ok:
			rows = append(rows, notMeasured("Mix", what, target, scLicenseMix))
		case !haveParts:
			rows = append(rows, targetRow{Figure: "Mix", What: what, Measured: fmtRate(s.RPS) + "/s (a part's figure is missing)", Target: target, Met: "-"})
		default:
			m := fmt.Sprintf("%s/s = %s of %s/s", fmtRate(s.RPS), fmtRatio(s.RPS/want), fmtRate(want))
			if base > 0 {
				m += fmt.Sprintf(" (%s baseline)", fmtRatio(s.RPS/base))
			}
			rows = append(rows, withErrors(targetRow{Figure: "Mix", What: what, Measured: m, Target: target,
				Met: met(s.RPS >= mixMinShare*want && s.Errors == 0), Value: s.RPS / want, Required: mixMinShare}, s))
		}
	}

	rows = append(rows, fullStoreRows(byName, []scenarioWhat{
		{scActivateSigned, "signed Activate on the full store"},
		{scActivate, "unsigned Activate on the full store"},
		{scGetKeyGet, "GetKey (GET) on the full store"},
		{scGetKeyPost, "GetKey (POST) on the full store"},
		{scWooValidate, "WooCommerce validate on the full store"},
		{scPowerAuthFwd, "PowerAuth forward-auth on the full store"},
		{scLicenseMix, "licensing mix on the full store"},
	})...)
	return rows
}

// mixDescription is licenseMix in words: "60 % GetKey, 20 % Activate, …".
func mixDescription() string {
	names := map[string]string{scGetKeyPost: "GetKey", scActivate: "Activate", scWooValidate: "Woo validate",
		scOAuthToken: "OAuth token", scVerify: "verify"}
	var parts []string
	for _, c := range licenseMix {
		parts = append(parts, fmt.Sprintf("%d %% %s", c.twenties*5, names[c.scenario]))
	}
	return strings.Join(parts, ", ")
}
