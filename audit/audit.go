// Package audit records who did what, when and from where, in storage, off the request path.
//
// Requests hand events to a Recorder, which writes them in batches from one goroutine: an audit insert per
// request would double the writes on the single SQLite writer. The price is that events still in the buffer
// when the process is killed are lost, and that under an overload the buffer can fill; then events are dropped
// and counted (Dropped), never blocking a request. Close flushes what is buffered.
package audit

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Options tune a Recorder; zero values pick the defaults.
type Options struct {
	Buffer   int              // events waiting to be written (default 4096)
	Batch    int              // events per write (default 256)
	Interval time.Duration    // longest wait before a partial batch is written (default 50 ms)
	Now      func() time.Time // clock for events without a time (default time.Now)
	Log      *slog.Logger     // where write failures go (default discard)
}

// Recorder buffers events and writes them in batches.
type Recorder struct {
	store   storage.Audit
	o       Options
	events  chan storage.AuditEvent
	flushes chan chan struct{}
	done    chan struct{}
	closing sync.Once
	dropped atomic.Uint64
}

// New starts a Recorder writing to store.
func New(store storage.Audit, o Options) *Recorder {
	if o.Buffer <= 0 {
		o.Buffer = 4096
	}
	if o.Batch <= 0 {
		o.Batch = 256
	}
	if o.Interval <= 0 {
		o.Interval = 50 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	r := &Recorder{store: store, o: o, events: make(chan storage.AuditEvent, o.Buffer),
		flushes: make(chan chan struct{}), done: make(chan struct{})}
	go r.run()
	return r
}

// Record queues e (stamped now if it has no time). It never blocks: with the buffer full, e is dropped and
// counted. A nil Recorder records nothing.
func (r *Recorder) Record(e storage.AuditEvent) {
	if r == nil {
		return
	}
	if e.At.IsZero() {
		e.At = r.o.Now()
	}
	select {
	case r.events <- e:
	default:
		r.dropped.Add(1)
	}
}

// Dropped is how many events were lost to a full buffer or a failed write.
func (r *Recorder) Dropped() uint64 { return r.dropped.Load() }

// Flush returns once every event recorded before the call has been written (or dropped).
func (r *Recorder) Flush(ctx context.Context) error {
	ack := make(chan struct{})
	select {
	case r.flushes <- ack:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ack:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is buffered and stops the Recorder.
func (r *Recorder) Close() {
	r.closing.Do(func() {
		close(r.events)
		<-r.done
	})
}

func (r *Recorder) run() {
	defer close(r.done)
	batch := make([]storage.AuditEvent, 0, r.o.Batch)
	timer := time.NewTimer(r.o.Interval)
	timer.Stop()
	write := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := r.store.AppendAudit(ctx, batch)
		cancel()
		if err != nil {
			r.dropped.Add(uint64(len(batch)))
			r.o.Log.Error("audit: events lost", "count", len(batch), "err", err)
		}
		batch = batch[:0]
	}
	// drain takes what is already queued, so a flush covers every event recorded before it.
	drain := func() {
		for {
			select {
			case e, ok := <-r.events:
				if !ok {
					return
				}
				if batch = append(batch, e); len(batch) == r.o.Batch {
					write()
				}
			default:
				return
			}
		}
	}
	for {
		select {
		case e, ok := <-r.events:
			if !ok {
				write()
				return
			}
			if len(batch) == 0 {
				timer.Reset(r.o.Interval)
			}
			if batch = append(batch, e); len(batch) == r.o.Batch {
				timer.Stop()
				write()
			}
		case <-timer.C:
			write()
		case ack := <-r.flushes:
			drain()
			write()
			close(ack)
		}
	}
}
