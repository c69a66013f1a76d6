package sqlite_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

// BenchmarkCreateTokenParallel issues tokens from many goroutines at once, as the token endpoints do under
// load: the figure group commit is for (run with -cpu 1,2 and compare -benchtime runs).
func BenchmarkCreateTokenParallel(b *testing.B) { benchCreateToken(b, "") }

// BenchmarkCreateTokenKeyChecked is BenchmarkCreateTokenParallel with the check that the token's key is still the
// primary, as the token service stores every token.
func BenchmarkCreateTokenKeyChecked(b *testing.B) { benchCreateToken(b, storage.OriginalTokenKey) }

func benchCreateToken(b *testing.B, keyID string) {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	now := time.Now()
	if err := s.CreateUser(ctx, storage.User{Name: "alice", PasswordHash: "x", CreatedAt: now, UpdatedAt: now}); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(16) // 16 goroutines per GOMAXPROCS, like a busy listener
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var id [16]byte
		for pb.Next() {
			rand.Read(id[:])
			if err := s.CreateToken(ctx, storage.Token{ID: hex.EncodeToString(id[:]), User: "alice", Kind: storage.KindOpen,
				CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour), KeyID: keyID}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
