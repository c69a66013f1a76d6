package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// Group commit. The single writer connection makes every write wait for the one before it, and most of a small
// write's cost is its commit (the WAL append and the locking around it). So writes of one statement each
// (issuing a token, opening a session, a touch) queue up here, and whoever finds no batch running runs
// everything queued so far in one transaction: under load, one commit serves many requests. Each write still
// returns only after the commit that holds it; a statement that fails (a duplicate id) fails alone, since SQLite
// undoes a failed statement without aborting the transaction.

// maxGroup bounds one batch, so that the writer leading it does not wait on an unbounded queue.
const maxGroup = 256

type groupWrite struct {
	turn  func(context.Context) // set instead of query for inWriterTurn: runs alone, outside any transaction
	query string
	args  []any
	err   error
	rows  int64         // rows the statement changed
	lead  bool          // set when this write is to run the next batch
	wake  chan struct{} // signalled when the write is committed, or when it is to lead (then again at its commit, unread)
}

type groupCommit struct {
	mu      sync.Mutex
	queue   []*groupWrite
	running bool // a leader is running a batch; it hands over to the first queued write, if any

	// batches and writes count the batches run and the writes in them, so that a benchmark can tell how the
	// service batched a load (writes ÷ batches); under mu.
	batches, writes int64
}

// execGrouped runs one statement on the writer in a group commit and returns its error, after the commit. The
// caller whose write finds no batch running leads: it runs one batch (its own write and whatever queued before
// it), then wakes the first write that queued meanwhile to lead the next. No caller runs more than one batch,
// and a write is waited for regardless of ctx, so it is only ever acknowledged after its commit.
func (s *Store) execGrouped(ctx context.Context, query string, args ...any) error {
	_, err := s.execGroupedRows(ctx, query, args...)
	return err
}

// execGroupedRows is execGrouped that also returns how many rows the statement changed.
func (s *Store) execGroupedRows(ctx context.Context, query string, args ...any) (int64, error) {
	w := &groupWrite{query: query, args: args, wake: make(chan struct{}, 1)}
	s.execGroupedTurn(ctx, w)
	return w.rows, w.err
}

// execGroupedTurn queues w and returns when it has run (led by itself or in another's batch).
func (s *Store) execGroupedTurn(ctx context.Context, w *groupWrite) {
	g := &s.group
	g.mu.Lock()
	g.queue = append(g.queue, w)
	if g.running {
		g.mu.Unlock()
		<-w.wake
		if !w.lead {
			return
		}
		g.mu.Lock()
	}
	g.running = true
	batch := g.queue[:nextBatch(g.queue)] // w is first: the queue was empty, or w was woken as its head
	g.queue = g.queue[len(batch):]
	if w.turn == nil {
		g.batches++
		g.writes += int64(len(batch))
	}
	g.mu.Unlock()

	if w.turn != nil {
		w.turn(context.WithoutCancel(ctx))
	} else {
		s.commitGroup(context.WithoutCancel(ctx), batch)
	}

	g.mu.Lock()
	if len(g.queue) > 0 {
		next := g.queue[0]
		next.lead = true
		next.wake <- struct{}{}
	} else {
		g.running = false
		g.queue = nil // let a burst's backing array go
	}
	g.mu.Unlock()
}

// nextBatch is how many writes at the head of queue form the next batch: at most maxGroup, and a turn alone.
func nextBatch(queue []*groupWrite) int {
	if queue[0].turn != nil {
		return 1
	}
	n := 1
	for n < len(queue) && n < maxGroup && queue[n].turn == nil {
		n++
	}
	return n
}

// inWriterTurn runs fn when the group commit comes to it, as if it were a batch: no grouped write commits
// while fn runs. (Writes outside the group commit, s.tx, still take the writer connection in turn with it.)
func (s *Store) inWriterTurn(ctx context.Context, fn func(context.Context)) {
	s.execGroupedTurn(ctx, &groupWrite{turn: fn, wake: make(chan struct{}, 1)})
}

// commitGroup runs batch in one transaction and tells each write its outcome.
func (s *Store) commitGroup(ctx context.Context, batch []*groupWrite) {
	defer func() {
		for _, w := range batch {
			w.wake <- struct{}{}
		}
	}()
	if len(batch) == 1 { // nothing to share: skip BEGIN and COMMIT
		batch[0].rows, batch[0].err = execRows(ctx, s.w, batch[0].query, batch[0].args)
		return
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for _, w := range batch {
			w.rows, w.err = execRows(ctx, tx, w.query, w.args)
		}
		return nil
	})
	if err != nil {
		for _, w := range batch {
			w.err = fmt.Errorf("sqlite: group commit of %d writes: %w", len(batch), err)
		}
	}
}

func execRows(ctx context.Context, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, query string, args []any) (int64, error) {
	res, err := db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return n, mapErr(err)
}
