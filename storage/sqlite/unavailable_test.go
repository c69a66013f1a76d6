package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tokenmanager/tokenmanager/storage"
)

// A database that cannot grow (max_page_count stands in for a full disk: SQLite answers SQLITE_FULL to both)
// refuses writes with ErrUnavailable, keeps what it had, and takes writes again once it may grow.
func TestFullDatabaseIsUnavailable(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var pages int
	if err := s.w.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages+2)); err != nil {
		t.Fatal(err)
	}
	created := 0
	for ; ; created++ {
		err = s.CreateUser(ctx, storage.User{Name: fmt.Sprintf("user%d", created), PasswordHash: string(make([]byte, 2000))})
		if err != nil {
			break
		}
		if created == 1000 {
			t.Fatal("1000 users fit in a database two pages larger than empty")
		}
	}
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("CreateUser on a full database: %v; want ErrUnavailable", err)
	}
	if _, err := s.w.ExecContext(ctx, `PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, storage.User{Name: "after", PasswordHash: "h"}); err != nil {
		t.Fatalf("CreateUser once the database may grow: %v", err)
	}
	for i := range created {
		if _, err := s.GetUser(ctx, fmt.Sprintf("user%d", i)); err != nil {
			t.Errorf("user%d, created before the database filled: %v", i, err)
		}
	}
}
