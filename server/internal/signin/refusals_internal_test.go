package signin

import (
	"strconv"
	"testing"
	"time"
)

// TestRefusalLogBounds: many account/address pairs refused at once get a row each but few log lines, and the
// tallies stay bounded, the pairs beyond the bound counted together.
func TestRefusalLogBounds(t *testing.T) {
	l := newRefusalLog()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	rows, lines, refusals := 0, 0, 0
	const pairs = maxRefusalKeys + 5000
	for i := range pairs {
		due, logIt, _ := l.note(refusalKey{"user" + strconv.Itoa(i), "192.0.2.1"}, now)
		rows += len(due)
		for _, d := range due {
			refusals += d.n
		}
		if logIt {
			lines++
		}
	}
	if len(l.tallies) > maxRefusalKeys+1 { // and the shared one
		t.Fatalf("%d tallies", len(l.tallies))
	}
	if lines > 10 {
		t.Fatalf("%d pairs refused at one instant logged %d lines", pairs, lines)
	}
	if rows != maxRefusalKeys+1 || refusals != maxRefusalKeys+1 {
		t.Fatalf("%d rows counting %d refusals; want one per pair within the bound and one for the rest", rows, refusals)
	}
	// After the window, the overflow tally's count is written.
	due, _, _ := l.note(refusalKey{"user0", "192.0.2.1"}, now.Add(refusalWindow))
	total := 0
	for _, d := range due {
		total += d.n
		if d.key.subject == "*" && d.n != pairs-maxRefusalKeys-1 {
			t.Fatalf("overflow row counts %d", d.n)
		}
	}
	if refusals+total != pairs+1 {
		t.Fatalf("rows count %d refusals of %d", refusals+total, pairs+1)
	}
}
