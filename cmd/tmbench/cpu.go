package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// cpuSample is a snapshot of CPU time: the server's, tmbench's own and the
// whole machine's busy time (Linux /proc). Comparing two samples shows
// whether the server, the load generator or something else on the box used
// the cores during a measurement window.
type cpuSample struct {
	at   time.Time
	srv  time.Duration // 0 when there is no server process
	own  time.Duration
	busy time.Duration // all CPUs, all processes
	err  error
}

// cpuUse is CPU use over a window in percent of one core (200 = two cores).
type cpuUse struct {
	Srv, Own, Other float64
}

// takeCPUSample samples the server processes (summed; none for the baseline), tmbench and the machine.
func takeCPUSample(srvPids ...int) cpuSample {
	s := cpuSample{at: time.Now()}
	var errs []error
	for _, pid := range srvPids {
		var d time.Duration
		d, errs = readProcCPU(pid, errs)
		s.srv += d
	}
	s.own, errs = readProcCPU(os.Getpid(), errs)
	if b, err := os.ReadFile("/proc/stat"); err != nil {
		errs = append(errs, err)
	} else if s.busy, err = parseProcStatBusy(b); err != nil {
		errs = append(errs, err)
	}
	s.err = errors.Join(errs...)
	return s
}

func readProcCPU(pid int, errs []error) (time.Duration, []error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, append(errs, err)
	}
	d, err := parseProcStatCPU(b)
	if err != nil {
		return 0, append(errs, err)
	}
	return d, errs
}

// cpuBetween returns the CPU use between samples a and b; ok is false when
// either sample failed.
func cpuBetween(a, b cpuSample) (u cpuUse, ok bool) {
	wall := b.at.Sub(a.at)
	if a.err != nil || b.err != nil || wall <= 0 {
		return cpuUse{}, false
	}
	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / wall.Seconds() }
	u.Srv = pct(b.srv - a.srv)
	u.Own = pct(b.own - a.own)
	u.Other = max(0, pct(b.busy-a.busy)-u.Srv-u.Own)
	return u, true
}

// clkTck is USER_HZ, the unit of /proc CPU times; 100 on every mainstream
// Linux platform (reading it properly needs sysconf, i.e. cgo).
const clkTck = 100

func ticks(n uint64) time.Duration { return time.Duration(n) * time.Second / clkTck }

// parseProcStatCPU returns utime+stime from /proc/<pid>/stat.
func parseProcStatCPU(stat []byte) (time.Duration, error) {
	// The command name (field 2) is in parentheses and may contain spaces.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc/<pid>/stat")
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc/<pid>/stat")
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return ticks(ut + st), nil
}

// parseProcStatBusy returns the machine's non-idle CPU time from the "cpu"
// line of /proc/stat: user nice system idle iowait irq softirq steal (guest
// time is already part of user).
func parseProcStatBusy(stat []byte) (time.Duration, error) {
	sc := bufio.NewScanner(bytes.NewReader(stat))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "cpu" {
			continue
		}
		if len(f) < 9 {
			return 0, errors.New("short cpu line in /proc/stat")
		}
		var busy uint64
		for i, s := range f[1:9] {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/stat: %w", err)
			}
			if i != 3 && i != 4 { // idle, iowait
				busy += n
			}
		}
		return ticks(busy), nil
	}
	return 0, errors.New("no cpu line in /proc/stat")
}
