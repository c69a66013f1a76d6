package main

import (
	"strings"
	"testing"
)

func mib(n uint64) uint64 { return n << 20 }

// TestJudgeSoakPlateau: growth while the caches fill (first third) passes; growth on the plateau fails, in RSS
// or in the Go heap; goroutines left after the load fail.
func TestJudgeSoakPlateau(t *testing.T) {
	curve := func(rss ...uint64) []sample {
		var ss []sample
		for i, r := range rss {
			ss = append(ss, sample{AtSec: float64(10 * (i + 1)), RSSBytes: mib(r), HeapBytes: mib(r / 4), HeapGoal: mib(r / 2), Goroutines: 40, OpenFDs: 30})
		}
		return ss
	}
	idle := sample{Goroutines: 12, OpenFDs: 20}
	cases := []struct {
		name    string
		rep     soakReport
		problem string // "" = ok
	}{
		{"fills then flat", soakReport{Samples: curve(40, 60, 80, 90, 91, 90, 92, 91, 90), End: idle}, ""},
		{"keeps growing", soakReport{Samples: curve(40, 60, 80, 90, 95, 100, 110, 120, 130), End: idle}, "RSS grew"},
		{"heap grows", soakReport{Samples: func() []sample {
			ss := curve(90, 90, 90, 90, 90, 90, 90, 90, 90)
			for i := 6; i < 9; i++ {
				ss[i].HeapGoal = mib(80)
			}
			return ss
		}(), End: idle}, "Go heap goal grew"},
		{"goroutines left", soakReport{Samples: curve(90, 90, 90, 90, 90, 90), End: sample{Goroutines: 60}}, "goroutines"},
		{"errors", soakReport{Samples: curve(90, 90, 90), End: idle, Errors: 2}, "2 errors"},
		{"one sample", soakReport{Samples: curve(90), End: idle}, "too few samples"},
	}
	for _, c := range cases {
		problems := strings.Join(judgeSoak(&c.rep), "; ")
		if c.problem == "" && problems != "" || c.problem != "" && !strings.Contains(problems, c.problem) {
			t.Errorf("%s: problems %q, want %q", c.name, problems, c.problem)
		}
	}
}

// TestThirds: the thirds are the middle and last thirds of the samples, in order.
func TestThirds(t *testing.T) {
	var ss []sample
	for i := range 9 {
		ss = append(ss, sample{RSSBytes: uint64(i)})
	}
	mid, last := thirds(ss)
	if mid.RSSBytes != 4 || last.RSSBytes != 7 {
		t.Fatalf("middle %d, last %d; want 4 and 7", mid.RSSBytes, last.RSSBytes)
	}
}
