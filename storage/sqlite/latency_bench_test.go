package sqlite

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkInsertLatencyPaced issues tokens as the service does (CreateToken, 32 issuers) open-loop at a fixed
// rate, about half of what the service sustains on two cores, and reports the latency percentiles of each
// insert counted from its scheduled time (queueing included, as tmbench's half-peak scenarios count it): the
// storage share of P5's tail. b.N is the number of tokens.
func BenchmarkInsertLatencyPaced(b *testing.B) {
	b.Run("checkpoints=background", func(b *testing.B) { benchPaced(b, false) })
	b.Run("checkpoints=writer", func(b *testing.B) { benchPaced(b, true) })
}

// benchPaced runs the paced load; onWriter puts back SQLite's default, checkpoints on the committing writer
// every 1,000 pages, for comparison.
func benchPaced(b *testing.B, onWriter bool) {
	const rate = 6000 // tokens/s
	s := openLimitStore(b)
	ctx := context.Background()
	if onWriter {
		s.ckpt.halt()
		if _, err := s.w.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 1000"); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]time.Duration, b.N)
	jobs := make(chan int, b.N)
	var wg sync.WaitGroup
	start := time.Now()
	interval := time.Second / rate
	b.ResetTimer()
	for w := 0; w < insertLimitWriters; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				at := start.Add(time.Duration(i) * interval)
				if d := time.Until(at); d > 0 {
					time.Sleep(d)
				}
				if err := s.CreateToken(ctx, limitToken(time.Now())); err != nil {
					b.Error(err)
					return
				}
				lat[i] = time.Since(at)
			}
		}()
	}
	for i := 0; i < b.N; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) }
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(pct(0.999), "p99.9-µs")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
	if !onWriter {
		b.ReportMetric(float64(s.ckpt.inTurn.Load()), "writer-ckpts")
		b.ReportMetric(float64(s.ckpt.background.Load()), "bg-ckpts")
		if n := s.ckpt.inTurn.Load(); n > 0 {
			b.ReportMetric(float64(s.ckpt.inTurnNanos.Load()/n)/1e3, "µs/writer-ckpt")
		}
	}
}

// BenchmarkCheckpointStall is how long one checkpoint of about 1,000 WAL pages of token rows takes: with
// SQLite's default (wal_autocheckpoint=1000 on the writer) the commit that crosses 1,000 pages, and every
// token queued behind it, waits that long; with the background checkpointer no commit waits for it.
func BenchmarkCheckpointStall(b *testing.B) {
	s := openLimitStore(b)
	ctx := context.Background()
	s.ckpt.halt()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for {
			for j := 0; j < 8; j++ { // small groups, as the service commits them
				if err := s.CreateToken(ctx, limitToken(time.Now())); err != nil {
					b.Fatal(err)
				}
			}
			var busy, frames, copied int
			if err := s.w.QueryRowContext(ctx, "PRAGMA wal_checkpoint(NOOP)").Scan(&busy, &frames, &copied); err != nil {
				b.Fatal(err)
			}
			if frames-copied >= 1000 {
				break
			}
		}
		b.StartTimer()
		if _, err := walCheckpoint(ctx, s.w); err != nil {
			b.Fatal(err)
		}
	}
}
