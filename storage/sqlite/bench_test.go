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

// BenchmarkListTokensPage reads one page of 50 of the operator's token list, the first or one deep into 20000
// tokens: with keyset paging both are one index range scan, so the deep page costs what the first does.
func BenchmarkListTokensPage(b *testing.B) {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.CreateUser(ctx, storage.User{Name: "alice", PasswordHash: "x", CreatedAt: base, UpdatedAt: base}); err != nil {
		b.Fatal(err)
	}
	const n = 20000
	for i := range n {
		at := base.Add(time.Duration(i/4) * time.Second) // four a second: ties the cursor tells apart by id
		if err := s.CreateToken(ctx, storage.Token{ID: hex.EncodeToString([]byte{byte(i >> 16), byte(i >> 8), byte(i)}), User: "alice",
			Kind: storage.KindOpen, CreatedAt: at, LastUsedAt: at}); err != nil {
			b.Fatal(err)
		}
	}
	all, err := s.ListTokens(ctx, storage.TokenFilter{Limit: n})
	if err != nil || len(all) != n {
		b.Fatalf("%d tokens, %v", len(all), err)
	}
	deep := all[n-100]
	for _, c := range []struct {
		name  string
		after storage.PageAfter
	}{{"first", storage.PageAfter{}}, {"deep", storage.PageAfter{At: deep.CreatedAt, ID: deep.ID}}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if page, err := s.ListTokens(ctx, storage.TokenFilter{Limit: 51, After: c.after}); err != nil || len(page) != 51 {
					b.Fatalf("%d, %v", len(page), err)
				}
			}
		})
	}
}
