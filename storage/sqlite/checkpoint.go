package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
)

// WAL checkpoints off the writer. By default SQLite checkpoints on the connection that commits, inside the
// commit that takes the WAL past 1,000 pages: that commit, and every token queued behind it in the group
// commit, waits for the copy of those pages into the database and for two fsyncs (the WAL's, then the
// database's). That was the tail of token issuance. So the writer never checkpoints on its own
// (wal_autocheckpoint=0): a goroutine runs PASSIVE checkpoints on a connection of its own every
// checkpointInterval. A PASSIVE checkpoint takes no lock a writer or reader needs, so commits go on while it
// copies and syncs; the next write after it has copied everything starts the WAL over from its beginning.
//
// Under writes that never pause, the WAL could still grow, since a write only starts it over when every frame
// is in the database. So when a checkpoint finds more than walBackstopFrames frames, it runs one more in the
// writer's turn (queued in the group commit like a write, so no write commits during it): by then nearly every
// frame is copied, so it is short, and the next write starts the WAL over. journal_size_limit truncates the
// WAL file back to walSizeLimit when that happens, so a burst does not leave a large file behind.
//
// Durability is unchanged: synchronous=NORMAL in WAL mode, as before. A commit is in the WAL before it is
// acknowledged, so it survives the process being killed; the WAL is synced before each checkpoint copies
// from it, and the database file is never left corrupt by a power loss, but the last commits before a power
// loss (those not yet synced) can be lost, as they could before this change.

const (
	checkpointInterval = 100 * time.Millisecond
	walBackstopFrames  = 16000    // about 64 MiB of WAL with 4 KiB pages: under a steady 6,000 tokens/s, about one turn a second
	walSizeLimit       = 72 << 20 // bytes of WAL file kept when it starts over: the backstop's size, so no truncate-and-regrow
)

// writerDriver is the driver of the writer connection: SQLite's, with the writer's automatic checkpoints off
// and the WAL size limit, set on every connection it opens (the DSN has no parameter for either).
const writerDriver = "sqlite3-tokenmanager-writer"

var registerWriter sync.Once

func writerDriverName() string {
	registerWriter.Do(func() {
		sql.Register(writerDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
			_, err := c.Exec("PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = "+strconv.Itoa(walSizeLimit), nil)
			return err
		}})
	})
	return writerDriver
}

// checkpointer runs the background checkpoints until stop is closed; done is closed when it has returned.
type checkpointer struct {
	db   *sql.DB // one read-write connection of its own, never used for a transaction
	stop chan struct{}
	done chan struct{}

	haltOnce, closeOnce sync.Once
	closeErr            error
	backstop            int // walBackstopFrames; lower in tests

	background, inTurn atomic.Int64 // checkpoints run, for benchmarks
	inTurnNanos        atomic.Int64 // time the writer's turns took, for benchmarks
}

func (s *Store) startCheckpointer(db *sql.DB) {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	c := &checkpointer{db: db, stop: make(chan struct{}), done: make(chan struct{}), backstop: walBackstopFrames}
	s.ckpt = c
	go func() {
		defer close(c.done)
		t := time.NewTicker(checkpointInterval)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
			}
			s.checkpointOnce(context.Background())
		}
	}()
}

// checkpointOnce runs one PASSIVE checkpoint on the checkpointer's connection, and one in the writer's turn if
// the WAL has grown past walBackstopFrames. A checkpoint that finds another one running (another process's)
// is skipped: that one does the work.
func (s *Store) checkpointOnce(ctx context.Context) {
	frames, err := walCheckpoint(ctx, s.ckpt.db)
	s.ckpt.background.Add(1)
	if err != nil || frames < s.ckpt.backstop {
		return
	}
	// Copy what came in during that checkpoint first, off the writer, so that the writer's turn has only the
	// last few commits to copy (its cost is then mostly the two fsyncs).
	walCheckpoint(ctx, s.ckpt.db)
	s.ckpt.inTurn.Add(1)
	s.inWriterTurn(ctx, func(ctx context.Context) {
		start := time.Now()
		walCheckpoint(ctx, s.w)
		s.ckpt.inTurnNanos.Add(int64(time.Since(start)))
	})
}

// walCheckpoint runs PRAGMA wal_checkpoint(PASSIVE) on db and returns the frames in the WAL.
func walCheckpoint(ctx context.Context, db *sql.DB) (frames int, err error) {
	var busy, copied int
	err = db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
	return frames, err
}

// close stops the goroutine and closes its connection.
func (c *checkpointer) close() error {
	c.halt()
	c.closeOnce.Do(func() { c.closeErr = c.db.Close() })
	return c.closeErr
}

// halt stops the goroutine, leaving the connection open.
func (c *checkpointer) halt() {
	c.haltOnce.Do(func() {
		close(c.stop)
		<-c.done
	})
}
