package sqlite

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/internal/sqlmap"
)

// The insert limit: how fast this machine can make token rows durable through SQLite, next to how fast the
// service does. BenchmarkInsertLimitService issues tokens as the token service does (CreateToken with the
// primary-key check, from 32 goroutines, group-committed by the writer); BenchmarkInsertLimitRaw writes the
// same rows with nothing but a prepared INSERT in a loop, one transaction per batch of the size the service
// reached, on the same writer connection (same driver, same pragmas). Both report rows/s; `make bench` prints
// the ratio (the gap between the service and the storage limit).

// insertLimitWriters is the number of concurrent issuers, the concurrency of `make bench`.
const insertLimitWriters = 32

// openLimitStore opens a fresh store with the user every row belongs to.
func openLimitStore(b *testing.B) *Store {
	b.Helper()
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "limit.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	now := time.Now()
	if err := s.CreateUser(context.Background(), storage.User{Name: "alice", PasswordHash: "x", CreatedAt: now, UpdatedAt: now}); err != nil {
		b.Fatal(err)
	}
	return s
}

// limitTokenID is a token record id as the token service makes it: issue time in milliseconds, then 80
// random bits, in hex (so rows land at the end of the id index, as in service).
func limitTokenID(now time.Time) string {
	var id [16]byte
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		id[i] = byte(ms)
		ms >>= 8
	}
	rand.Read(id[6:])
	return hex.EncodeToString(id[:])
}

func limitToken(now time.Time) storage.Token {
	return storage.Token{ID: limitTokenID(now), User: "alice", Kind: storage.KindOpen, ClientHost: "127.0.0.1",
		CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(24 * time.Hour), KeyID: storage.OriginalTokenKey}
}

// BenchmarkInsertLimitService: rows through the service's path (CreateToken, group commit), 32 issuers.
func BenchmarkInsertLimitService(b *testing.B) {
	s := openLimitStore(b)
	ctx := context.Background()
	b.SetParallelism((insertLimitWriters + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	s.group.mu.Lock()
	batches0, writes0 := s.group.batches, s.group.writes
	s.group.mu.Unlock()
	var failed atomic.Bool
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.CreateToken(ctx, limitToken(time.Now())); err != nil {
				if !failed.Swap(true) {
					b.Error(err)
				}
				return
			}
		}
	})
	b.StopTimer()
	elapsed := time.Since(start)
	s.group.mu.Lock()
	batches, writes := s.group.batches-batches0, s.group.writes-writes0
	s.group.mu.Unlock()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rows/s")
	if batches > 0 {
		b.ReportMetric(float64(writes)/float64(batches), "rows/batch")
	}
}

// BenchmarkInsertLimitRaw: the same rows by a minimal loop, a prepared INSERT, one transaction per batch.
// batch=8 is about the batch the service reaches with 32 issuers (see its rows/batch), batch=32 the most it
// could reach with them (one row per issuer), batch=256 the cap of a group.
func BenchmarkInsertLimitRaw(b *testing.B) {
	for _, batch := range []int{8, insertLimitWriters, maxGroup} {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) { benchInsertRaw(b, batch) })
	}
}

func benchInsertRaw(b *testing.B, batch int) { benchInsertRawOn(b, openLimitStore(b), batch) }

func benchInsertRawOn(b *testing.B, s *Store, batch int) {
	ctx := context.Background()
	conn, err := s.w.Conn(ctx) // the writer's one connection, with its pragmas
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	b.ReportAllocs()
	start := time.Now()
	b.ResetTimer()
	for done := 0; done < b.N; {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		ins, err := tx.PrepareContext(ctx, stmt.InsertToken)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < batch && done < b.N; i, done = i+1, done+1 {
			t := limitToken(time.Now())
			if _, err := ins.ExecContext(ctx, t.ID, t.User, string(t.Kind), sqlmap.Nullable(t.SessionID), t.ClientHost,
				toMicros(t.CreatedAt), toMicros(t.ExpiresAt), toMicros(t.LastUsedAt), toMicros(t.RevokedAt)); err != nil {
				b.Fatal(err)
			}
		}
		ins.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
}
