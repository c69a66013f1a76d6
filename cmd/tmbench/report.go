package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// report is the whole result of one tmbench run; it is also the --json
// output.
type report struct {
	GoVersion   string  `json:"go_version"`
	OSArch      string  `json:"os_arch"`
	GOMAXPROCS  int     `json:"gomaxprocs"`
	NumCPU      int     `json:"num_cpu"`
	Concurrency int     `json:"concurrency"`
	WarmupSec   float64 `json:"warmup_s"`
	DurationSec float64 `json:"duration_s"`
	DB          string  `json:"db"`    // the server's database: sqlite or postgresql
	Nodes       int     `json:"nodes"` // server processes (sharing the database)

	Scenarios []scenarioReport `json:"scenarios"`

	// Server fields are zero/empty when no server scenario ran.
	ServerPID   int    `json:"server_pid,omitempty"`
	ServerFlags string `json:"server_flags,omitempty"` // serve flags beyond listen, data dir and addr file
	// ServerPeakRSSBytes is the first node's VmHWM over the whole run.
	ServerPeakRSSBytes uint64 `json:"server_peak_rss_bytes,omitempty"`
	ServerPeakRSSError string `json:"server_peak_rss_error,omitempty"`
	ServerExit         string `json:"server_exit,omitempty"`

	// Argon2VerifyMs is P3's t: the median time of one argon2id verification with the server's default
	// parameters, measured in tmbench (0 when cold-issuance did not run).
	Argon2VerifyMs float64 `json:"argon2id_verify_ms,omitempty"`
	// RSASignMs is the signed Activate's t: the median time of one RSA-2048 signature, measured in tmbench (0
	// when license-activate-signed did not run).
	RSASignMs float64 `json:"rsa_sign_ms,omitempty"`
	// PeerName is what --peer-name calls the peer OAuth server (when one was measured).
	PeerName string      `json:"peer_name,omitempty"`
	Fill     *fillReport `json:"fill,omitempty"` // P4's fill; nil when it did not run
	Targets  []targetRow `json:"targets"`
	Notes    []string    `json:"notes,omitempty"`

	peakBeforeReset uint64 // VmHWM just before P4 reset it (after the fill)
}

type scenarioReport struct {
	Name        string `json:"name"`
	Concurrency int    `json:"concurrency"` // workers (open loop: connections)
	// Rate is the open-loop schedule in requests per second; 0 for a closed loop. Open-loop latencies run
	// from each request's scheduled time.
	Rate        float64 `json:"open_loop_rate,omitempty"`
	Requests    uint64  `json:"requests"`         // 2xx responses completed in the window (open loop: due in it)
	Errors      uint64  `json:"errors"`           // non-2xx or transport errors in the window, and Unsent
	Unsent      uint64  `json:"unsent,omitempty"` // open loop: due in the window, unanswered by the end of the grace
	RPS         float64 `json:"rps"`              // Requests per second
	P50us       float64 `json:"p50_us"`
	P99us       float64 `json:"p99_us"`
	MeanUs      float64 `json:"mean_us"`
	MaxUs       float64 `json:"max_us"`
	RatioToBase float64 `json:"ratio_to_baseline,omitempty"` // 0 when no baseline ran
	// CPU is CPU use during the window in percent of one core (200 = two
	// cores busy): the server's (0 for the in-process baseline), tmbench's
	// own (load generator, plus the baseline handler) and everything else on
	// the machine. Nil when /proc could not be read.
	CPU *cpuUse `json:"cpu_pct,omitempty"`
	// ServerRSSBytes is the first node's VmRSS at the end of the window (0 for the baseline): where the
	// server's memory goes, scenario by scenario.
	ServerRSSBytes uint64 `json:"server_rss_bytes,omitempty"`
	FirstError     string `json:"first_error,omitempty"`
	Skipped        string `json:"skipped,omitempty"`
	Profile        string `json:"profile,omitempty"` // --profile: the server's CPU profile over the window
}

func newScenarioReport(name string, res *loadResult) scenarioReport {
	r := scenarioReport{Name: name}
	if res == nil {
		return r
	}
	r.Requests = res.OK
	r.Errors = res.Errors
	r.Unsent = res.Unsent
	if res.Elapsed > 0 {
		r.RPS = float64(res.OK) / res.Elapsed.Seconds()
	}
	r.P50us = us(res.Hist.percentile(50))
	r.P99us = us(res.Hist.percentile(99))
	r.MeanUs = us(res.Hist.mean())
	r.MaxUs = us(time.Duration(res.Hist.max))
	r.FirstError = res.FirstError
	return r
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// fillRatios sets RatioToBase for every scenario from the baseline's req/s.
func (r *report) fillRatios() {
	var base float64
	for _, s := range r.Scenarios {
		if s.Name == "baseline" && s.Skipped == "" {
			base = s.RPS
		}
	}
	if base <= 0 {
		return
	}
	for i := range r.Scenarios {
		if r.Scenarios[i].Skipped == "" {
			r.Scenarios[i].RatioToBase = r.Scenarios[i].RPS / base
		}
	}
}

func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeText prints the human-readable report: the scenario table, the server's memory, the targets table,
// then warnings, errors and notes.
func (r *report) writeText(w io.Writer) {
	fmt.Fprintf(w, "tmbench: %s %s, GOMAXPROCS=%d, NumCPU=%d; concurrency %d, warm-up %v, measured %v per scenario\n\n",
		r.GoVersion, r.OSArch, r.GOMAXPROCS, r.NumCPU, r.Concurrency,
		secs(r.WarmupSec), secs(r.DurationSec))
	if r.DB != "" {
		fmt.Fprintf(w, "server: %d node(s) on %s", max(r.Nodes, 1), r.DB)
		if r.ServerFlags != "" {
			fmt.Fprintf(w, ", serve %s (per-client OAuth token rate limit and signed-license limits lifted)", r.ServerFlags)
		}
		fmt.Fprint(w, "\n\n")
	}
	io.WriteString(w, formatTable(r.tableRows(), []bool{false, true, true, true, true, true, true, true, true, true, true, true}))
	if r.ServerPID != 0 {
		rss := "unknown (" + r.ServerPeakRSSError + ")"
		if r.ServerPeakRSSError == "" {
			rss = fmtBytes(r.ServerPeakRSSBytes)
		}
		fmt.Fprintf(w, "\nserver: pid %d, peak RSS (VmHWM) over the run %s, ended: %s\n", r.ServerPID, rss, r.ServerExit)
		if r.Nodes > 1 {
			fmt.Fprintf(w, "(pid, RSS, profiles and exit of the first node; srv CPU sums every node)\n")
		}
	}
	if f := r.Fill; f != nil {
		peak := " (VmHWM reset right after the fill)"
		if !f.PeakReset {
			peak = " (VmHWM could not be reset: whole run)"
		}
		fmt.Fprintf(w, "P4 fill: %s tokens, %s sessions of %s users in %.1fs through the storage interface; the store then\n"+
			"counted %s live tokens and %s live sessions. Server memory just before the fill: VmRSS %s; after it:\n"+
			"VmRSS %s, VmHWM %s; after the scenarios on the full store: VmRSS %s, VmHWM %s%s.\n",
			fmtInt(uint64(f.Tokens)), fmtInt(uint64(f.Sessions)), fmtInt(uint64(f.Users)), f.Seconds,
			fmtInt(uint64(f.LiveTokens)), fmtInt(uint64(f.LiveSessions)),
			fmtMB(f.BeforeFill.RSS), fmtMB(f.AfterFill.RSS), fmtMB(f.AfterFill.HWM), fmtMB(f.End.RSS), fmtMB(f.End.HWM), peak)
		if f.Activations > 0 || f.DataObjects > 0 {
			fmt.Fprintf(w, "The fill also wrote %s license activations and %s data objects on %s license keys (the time above includes them).\n",
				fmtInt(uint64(f.Activations)), fmtInt(uint64(f.DataObjects)), fmtInt(uint64(f.LicenseKeys)))
		}
	}
	io.WriteString(w, "\nrequests and req/s count 2xx responses completed in the measured window; errors = non-2xx or\n"+
		"transport errors; p50/p99 are latencies of the 2xx requests. load: cN = N workers back to back;\n"+
		"open R/s = requests scheduled R per second over --concurrency connections, latency counted from each\n"+
		"request's scheduled time (queueing included). CPU columns are % of one core during the window:\n"+
		"srv = server process, own = tmbench (load generator; for baseline also the handler), other = every\n"+
		"other process on the machine (the PostgreSQL server too). srv RSS = the server's VmRSS at the window's end.\n")
	if len(r.Targets) > 0 {
		io.WriteString(w, "\ntargets:\n")
		io.WriteString(w, formatTable(targetTableRows(r.Targets), nil))
	}
	var busy []string
	for _, s := range r.Scenarios {
		if s.CPU != nil && s.CPU.Other >= noisyOtherPct {
			busy = append(busy, fmt.Sprintf("%s %s", s.Name, fmtPct(s.CPU.Other)))
		}
	}
	if len(busy) > 0 {
		fmt.Fprintf(w, "\nWARNING: other processes used CPU during measurement (%s); those numbers are noisy.\n",
			strings.Join(busy, ", "))
	}
	var errs, profiles []string
	for _, s := range r.Scenarios {
		switch {
		case s.Skipped != "":
			errs = append(errs, fmt.Sprintf("  %s: SKIPPED (%s)", s.Name, s.Skipped))
		case s.FirstError != "":
			errs = append(errs, fmt.Sprintf("  %s: first error: %s", s.Name, s.FirstError))
		}
		if s.Profile != "" {
			profiles = append(profiles, "  "+s.Profile)
		}
	}
	if len(errs) > 0 {
		io.WriteString(w, "\nerrors:\n"+strings.Join(errs, "\n")+"\n")
	}
	if len(profiles) > 0 {
		io.WriteString(w, "\nserver CPU profiles (go tool pprof -top bin/tokenmanager FILE):\n"+strings.Join(profiles, "\n")+"\n")
	}
	if len(r.Notes) > 0 {
		io.WriteString(w, "\nnotes:\n  "+strings.Join(r.Notes, "\n  ")+"\n")
	}
}

// noisyOtherPct is the CPU use by other processes (% of one core) above
// which the report warns that a scenario's numbers are unreliable.
const noisyOtherPct = 15

func fmtPct(p float64) string { return fmt.Sprintf("%.0f%%", p) }

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func (r *report) tableRows() [][]string {
	rows := [][]string{{"scenario", "load", "requests", "errors", "req/s", "p50", "p99", "vs baseline", "srv CPU", "own CPU", "other CPU", "srv RSS"}}
	for _, s := range r.Scenarios {
		load := "c" + strconv.Itoa(s.Concurrency)
		if s.Rate > 0 {
			load = "open " + fmtInt(uint64(math.Round(s.Rate))) + "/s"
		}
		if s.Skipped != "" {
			rows = append(rows, []string{s.Name, load, "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"})
			continue
		}
		ratio, srv, own, other := "-", "-", "-", "-"
		if s.RatioToBase > 0 {
			ratio = fmtRatio(s.RatioToBase)
		}
		if s.CPU != nil {
			if s.CPU.Srv > 0 {
				srv = fmtPct(s.CPU.Srv)
			}
			own, other = fmtPct(s.CPU.Own), fmtPct(s.CPU.Other)
		}
		rss := "-"
		if s.ServerRSSBytes > 0 {
			rss = fmtMB(s.ServerRSSBytes)
		}
		p50, p99 := "-", "-"
		if s.Requests > 0 {
			p50 = fmtLatency(time.Duration(s.P50us * float64(time.Microsecond)))
			p99 = fmtLatency(time.Duration(s.P99us * float64(time.Microsecond)))
		}
		rows = append(rows, []string{
			s.Name,
			load,
			fmtInt(s.Requests),
			fmtInt(s.Errors),
			fmtInt(uint64(math.Round(s.RPS))),
			p50, p99, ratio, srv, own, other, rss,
		})
	}
	return rows
}

// formatTable lays rows out in columns separated by two spaces; right[i]
// right-aligns column i. Widths count runes, so "µs" and "×" line up.
func formatTable(rows [][]string, right []bool) string {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		var line strings.Builder
		for i, cell := range row {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			if i < len(right) && right[i] {
				line.WriteString(pad + cell)
			} else {
				line.WriteString(cell + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// fmtLatency prints d as µs below 1 ms, ms with two decimals below 1 s and
// seconds above.
func fmtLatency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", (d+time.Microsecond/2)/time.Microsecond)
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

// fmtRatio prints r with at least two decimals and at least two significant
// digits: 1.00×, 0.43×, 0.0090×.
func fmtRatio(r float64) string {
	if r <= 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		return "0×"
	}
	dec := 2
	if r < 0.1 {
		dec = 1 - int(math.Floor(math.Log10(r)))
	}
	return strconv.FormatFloat(r, 'f', dec, 64) + "×"
}

// fmtInt prints n with thousands separators.
func fmtInt(n uint64) string {
	s := strconv.FormatUint(n, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	lead := len(s) % 3
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

func fmtBytes(n uint64) string {
	const mib = 1 << 20
	if n < mib {
		return fmt.Sprintf("%d KiB", n/1024)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/mib)
}
