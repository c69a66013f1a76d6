package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsAreContiguousAndCoverTheirValues(t *testing.T) {
	prevHi := uint64(0)
	for i := 0; i < histBuckets-1; i++ {
		lo, hi := bucketRange(i)
		if i > 0 && lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, lo, prevHi)
		}
		if lo > hi {
			t.Fatalf("bucket %d: lo %d > hi %d", i, lo, hi)
		}
		for _, v := range []uint64{lo, hi, lo + (hi-lo)/2} {
			if got := bucketOf(v); got != i {
				t.Fatalf("bucketOf(%d) = %d, want %d", v, got, i)
			}
		}
		// Relative width stays within 1/histSub.
		if lo > 0 && float64(hi-lo) > float64(lo)/histSub {
			t.Fatalf("bucket %d [%d,%d] too wide", i, lo, hi)
		}
		prevHi = hi
	}
	if got := bucketOf(^uint64(0)); got != histBuckets-1 {
		t.Fatalf("huge value lands in bucket %d, want the last", got)
	}
}

func TestPercentileSmallExact(t *testing.T) {
	// Values below 2*histSub ns have their own bucket, so percentiles are exact.
	var h hist
	for v := 1; v <= 100; v++ {
		h.record(time.Duration(v))
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50}, {99, 99}, {100, 100}, {1, 1}, {0.1, 1}, {99.5, 100}} {
		if got := h.percentile(c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if got := h.mean(); got != 50 { // 5050/100 = 50.5, truncated
		t.Errorf("mean = %v, want 50", got)
	}
}

func TestPercentileMatchesSortedWithinPrecision(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h hist
	var vals []time.Duration
	for range 100000 {
		// log-uniform between 10µs and 1s
		d := time.Duration(float64(10*time.Microsecond) * math.Pow(1e5, r.Float64()))
		vals = append(vals, d)
		h.record(d)
	}
	slices.Sort(vals)
	for _, p := range []float64{50, 90, 99, 99.9} {
		rank := int(p/100*float64(len(vals)) + 0.999999)
		want := vals[rank-1]
		got := h.percentile(p)
		if diff := float64(got-want) / float64(want); diff > 1.0/histSub || diff < -1.0/histSub {
			t.Errorf("p%v = %v, exact %v (off by %.2f%%)", p, got, want, 100*diff)
		}
	}
	if time.Duration(h.max) != vals[len(vals)-1] || time.Duration(h.min) != vals[0] {
		t.Errorf("min/max = %v/%v, want %v/%v", h.min, h.max, vals[0], vals[len(vals)-1])
	}
}

func TestMergeAndEmpty(t *testing.T) {
	var a, b, empty hist
	if empty.percentile(50) != 0 || empty.mean() != 0 {
		t.Fatal("empty histogram should report 0")
	}
	for v := 1; v <= 50; v++ {
		a.record(time.Duration(v))
	}
	for v := 51; v <= 100; v++ {
		b.record(time.Duration(v))
	}
	var m hist
	m.merge(&empty)
	m.merge(&b)
	m.merge(&a)
	if m.n != 100 || m.min != 1 || m.max != 100 || m.sum != 5050 {
		t.Fatalf("merged n=%d min=%d max=%d sum=%d", m.n, m.min, m.max, m.sum)
	}
	if got := m.percentile(50); got != 50 {
		t.Fatalf("merged p50 = %v", got)
	}
}

func TestRecordNegativeIsZero(t *testing.T) {
	var h hist
	h.record(-5)
	if h.n != 1 || h.max != 0 || h.counts[0] != 1 {
		t.Fatalf("negative duration not clamped: %+v", h.n)
	}
}
