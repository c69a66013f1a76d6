package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestFmtLatency(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0µs"},
		{75 * time.Microsecond, "75µs"},
		{999*time.Microsecond + 400*time.Nanosecond, "999µs"},
		{time.Millisecond, "1.00ms"},
		{1450 * time.Microsecond, "1.45ms"},
		{345500 * time.Microsecond, "345.50ms"},
		{1070 * time.Millisecond, "1.07s"},
	} {
		if got := fmtLatency(c.d); got != c.want {
			t.Errorf("fmtLatency(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestFmtRatio(t *testing.T) {
	for _, c := range []struct {
		r    float64
		want string
	}{
		{1, "1.00×"},
		{0.43, "0.43×"},
		{0.6, "0.60×"},
		{0.065, "0.065×"},
		{0.009, "0.0090×"},
		{0.0008, "0.00080×"},
		{2.5, "2.50×"},
		{0, "0×"},
	} {
		if got := fmtRatio(c.r); got != c.want {
			t.Errorf("fmtRatio(%v) = %q, want %q", c.r, got, c.want)
		}
	}
}

func TestFmtInt(t *testing.T) {
	for n, want := range map[uint64]string{0: "0", 999: "999", 1000: "1,000", 33791: "33,791", 1234567: "1,234,567", 100000: "100,000"} {
		if got := fmtInt(n); got != want {
			t.Errorf("fmtInt(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFormatTableAlignsRunes(t *testing.T) {
	got := formatTable([][]string{
		{"scenario", "p50", "ratio"},
		{"baseline", "75µs", "1.00×"},
		{"soap", "1.45ms", "0.43×"},
	}, []bool{false, true, true})
	want := "" +
		"scenario     p50  ratio\n" +
		"baseline    75µs  1.00×\n" +
		"soap      1.45ms  0.43×\n"
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestReportRatiosTextAndJSON(t *testing.T) {
	var hb, hs, hp hist
	for i := 0; i < 100; i++ {
		hb.record(500 * time.Microsecond)
		hs.record(2 * time.Millisecond)
		hp.record(3 * time.Millisecond)
	}
	rep := &report{GoVersion: "go1.26", OSArch: "linux/amd64", GOMAXPROCS: 2, NumCPU: 2, Concurrency: 32,
		WarmupSec: 1, DurationSec: 5, ServerPID: 42, ServerPeakRSSBytes: 50 << 20, ServerExit: "exit 0", DB: "sqlite", Nodes: 1,
		ServerFlags: "--client-rate-interval 0", Notes: []string{"a note"}}
	rep.Scenarios = append(rep.Scenarios,
		newScenarioReport("baseline", &loadResult{OK: 100000, Elapsed: 5 * time.Second, Hist: hb}),
		newScenarioReport("soap-getAccessToken", &loadResult{OK: 43000, Errors: 3, Elapsed: 5 * time.Second, Hist: hs,
			FirstError: "HTTP 500 Internal Server Error"}),
		scenarioReport{Name: "verify-bearer", Concurrency: 32, Skipped: "setup failed: boom"},
		newScenarioReport("soap-getAccessToken-half-peak", &loadResult{OK: 21500, Elapsed: 5 * time.Second, Hist: hp}),
	)
	rep.Scenarios[0].Concurrency, rep.Scenarios[1].Concurrency = 32, 32
	rep.Scenarios[3].Concurrency, rep.Scenarios[3].Rate, rep.Scenarios[3].Profile = 32, 4300, "prof/soap-getAccessToken-half-peak.pprof"
	rep.Scenarios[0].CPU = &cpuUse{Own: 195, Other: 3}
	rep.Scenarios[1].CPU = &cpuUse{Srv: 120, Own: 70, Other: 20}
	rep.Scenarios[1].ServerRSSBytes = 42e6
	rep.Fill = &fillReport{Users: 3000, Sessions: 100000, Tokens: 1000000, Seconds: 61.25, LiveTokens: 1000100, LiveSessions: 100001,
		BeforeFill: memory{RSS: 90e6}, AfterFill: memory{RSS: 100e6, HWM: 101e6}, End: memory{RSS: 120e6, HWM: 160e6}, PeakReset: true}
	rep.fillRatios()
	rep.Targets = evaluateTargets(rep)
	if r := rep.Scenarios[1].RatioToBase; r < 0.4299 || r > 0.4301 {
		t.Fatalf("ratio = %v, want 0.43", r)
	}
	if rep.Scenarios[2].RatioToBase != 0 {
		t.Fatalf("skipped scenario got a ratio")
	}

	var text bytes.Buffer
	rep.writeText(&text)
	out := text.String()
	for _, want := range []string{
		"GOMAXPROCS=2, NumCPU=2",
		"server: 1 node(s) on sqlite, serve --client-rate-interval 0 (per-client OAuth token rate limit and signed-license limits lifted)",
		"baseline                                c32   100,000       0  20,000   500µs   500µs        1.00×        -     195%         3%",
		"soap-getAccessToken                     c32    43,000       3   8,600  2.00ms  2.00ms        0.43×     120%      70%        20%  42.0 MB",
		"verify-bearer                           c32         -       -       -       -       -            -        -        -          -",
		"soap-getAccessToken-half-peak  open 4,300/s    21,500       0   4,300  3.00ms  3.00ms        0.21×",
		"WARNING: other processes used CPU during measurement (soap-getAccessToken 20%)",
		"peak RSS (VmHWM) over the run 50.0 MiB",
		"P4 fill: 1,000,000 tokens, 100,000 sessions of 3,000 users in 61.2s",
		"VmRSS 100.0 MB, VmHWM 101.0 MB; after the scenarios on the full store: VmRSS 120.0 MB, VmHWM 160.0 MB (VmHWM reset right after the fill)",
		"soap-getAccessToken: first error: HTTP 500",
		"verify-bearer: SKIPPED (setup failed: boom)",
		"targets:",
		"P1      SOAP getAccessToken, Basic, warm credential cache  8,600/s = 0.43× baseline (3 errors)",
		"P2      token check: verify with Bearer                    not measured: verify-bearer skipped",
		"P5      p99 at half of P1's peak                           p99 3.00ms (p50 3.00ms), 4,300/s of 4,300/s scheduled",
		"prof/soap-getAccessToken-half-peak.pprof",
		"notes:\n  a note",
	} {
		// Column widths depend on the longest cell: compare with runs of spaces collapsed.
		if !strings.Contains(collapse(out), collapse(want)) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}

	var js bytes.Buffer
	if err := rep.writeJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Scenarios) != 4 || back.Scenarios[0].RPS != 20000 || back.Scenarios[1].P99us != 2000 ||
		back.Scenarios[3].Rate != 4300 || back.Fill == nil || back.Fill.End.HWM != 160e6 || len(back.Targets) != len(rep.Targets) ||
		back.Targets[0] != rep.Targets[0] {
		t.Fatalf("json round trip: %s", js.String())
	}
}

func collapse(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

func TestSelectScenarios(t *testing.T) {
	got, notes, err := selectScenarios("verify-bearer, baseline,verify-bearer", true)
	if err != nil || strings.Join(got, ",") != "baseline,verify-bearer" || len(notes) != 0 {
		t.Fatalf("got %v, %v, %v", got, notes, err)
	}
	if got, _, _ := selectScenarios("all", true); len(got) != len(allScenarios) {
		t.Fatalf("all = %v", got)
	}
	if _, _, err := selectScenarios("nope", true); err == nil {
		t.Fatal("unknown scenario accepted")
	}
	if _, _, err := selectScenarios(" , ", true); err == nil {
		t.Fatal("empty selection accepted")
	}
}

func TestParseProc(t *testing.T) {
	status := []byte("Name:\ttokenmanager\nVmPeak:\t 1000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t 40000 kB\n")
	if n, err := parseStatusKB(status, "VmHWM"); err != nil || n != 51200*1024 {
		t.Fatalf("parseStatusKB VmHWM = %d, %v", n, err)
	}
	if n, err := parseStatusKB(status, "VmRSS"); err != nil || n != 40000*1024 {
		t.Fatalf("parseStatusKB VmRSS = %d, %v", n, err)
	}
	if _, err := parseStatusKB([]byte("Name: x\n"), "VmHWM"); err == nil {
		t.Fatal("missing VmHWM accepted")
	}
	procStat := []byte("cpu  100 5 50 1000 20 1 4 3 7 0\ncpu0 50 0 25 500 10 0 2 0 0 0\n")
	if d, err := parseProcStatBusy(procStat); err != nil || d != 1630*time.Millisecond {
		t.Fatalf("parseProcStatBusy = %v, %v", d, err)
	}
	a := cpuSample{at: time.Unix(0, 0), srv: time.Second, own: 2 * time.Second, busy: 10 * time.Second}
	b := cpuSample{at: time.Unix(2, 0), srv: 3 * time.Second, own: 3 * time.Second, busy: 14 * time.Second}
	if u, ok := cpuBetween(a, b); !ok || u != (cpuUse{Srv: 100, Own: 50, Other: 50}) {
		t.Fatalf("cpuBetween = %+v, %v", u, ok)
	}
	stat := []byte("1234 (token manager) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 8 0 100 0 0")
	if d, err := parseProcStatCPU(stat); err != nil || d != 3*time.Second {
		t.Fatalf("parseProcStatCPU = %v, %v", d, err)
	}
}

func TestReadAddrFileAndLoopback(t *testing.T) {
	dir := t.TempDir()
	p := dir + "/addr"
	if _, err := readAddrFile(p); err == nil {
		t.Fatal("missing file accepted")
	}
	for content, ok := range map[string]bool{
		"":                 false,
		"127.0.0.1:":       false,
		"127.0.0.":         false,
		"0.0.0.0:8080":     false,
		"10.0.0.1:8080":    false,
		"127.0.0.1:8080\n": true,
	} {
		if err := writeFile(p, content); err != nil {
			t.Fatal(err)
		}
		addr, err := readAddrFile(p)
		if (err == nil) != ok {
			t.Errorf("readAddrFile(%q) = %q, %v", content, addr, err)
		}
	}
	if checkLoopback("127.0.0.1:80") != nil || checkLoopback("localhost:80") == nil || checkLoopback("8.8.8.8:80") == nil {
		t.Fatal("checkLoopback")
	}
}
