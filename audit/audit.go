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

// Batcher buffers records of type T and writes them in batches from one goroutine. The audit log is one
// (Recorder); the licensing web API log, written on every licensing call, is another.
type Batcher[T any] struct {
	write   func(context.Context, []T) error
	stamp   func(*T, time.Time) // gives a record without a time the current one
	what    string              // names the records in the log
	o       Options
	events  chan T
	flushes chan chan struct{}
	done    chan struct{}
	closing sync.Once
	dropped atomic.Uint64
}

// Recorder buffers audit events and writes them in batches.
type Recorder = Batcher[storage.AuditEvent]

// New starts a Recorder writing to store.
func New(store storage.Audit, o Options) *Recorder {
	return NewBatcher("audit", store.AppendAudit, func(e *storage.AuditEvent, now time.Time) {
		if e.At.IsZero() {
			e.At = now
		}
	}, o)
}

// NewBatcher starts a Batcher writing with write; stamp (if set) gives a record the time it is recorded at
// when it has none, and what names the records in the log.
func NewBatcher[T any](what string, write func(context.Context, []T) error, stamp func(*T, time.Time), o Options) *Batcher[T] {
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
	r := &Batcher[T]{write: write, stamp: stamp, what: what, o: o, events: make(chan T, o.Buffer),
		flushes: make(chan chan struct{}), done: make(chan struct{})}
	go r.run()
	return r
}

// Record queues e (stamped now if it has no time). It never blocks: with the buffer full, e is dropped and
// counted. A nil Batcher records nothing.
func (r *Batcher[T]) Record(e T) {
	if r == nil {
		return
	}
	if r.stamp != nil {
		r.stamp(&e, r.o.Now())
	}
	select {
	case r.events <- e:
	default:
		r.dropped.Add(1)
	}
}

// Dropped is how many events were lost to a full buffer or a failed write.
func (r *Batcher[T]) Dropped() uint64 { return r.dropped.Load() }

// Flush returns once every event recorded before the call has been written (or dropped).
func (r *Batcher[T]) Flush(ctx context.Context) error {
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
func (r *Batcher[T]) Close() {
	r.closing.Do(func() {
		close(r.events)
		<-r.done
	})
}

func (r *Batcher[T]) run() {
	defer close(r.done)
	batch := make([]T, 0, r.o.Batch)
	timer := time.NewTimer(r.o.Interval)
	timer.Stop()
	write := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := r.write(ctx, batch)
		cancel()
		if err != nil {
			r.dropped.Add(uint64(len(batch)))
			r.o.Log.Error(r.what+": records lost", "count", len(batch), "err", err)
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
