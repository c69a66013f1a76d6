package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/mattn/go-sqlite3"
)

// Backup writes a consistent copy of the database to path with SQLite's online backup API, while the service
// keeps running: the copy is one read transaction's snapshot (in WAL mode writers go on meanwhile), so every
// token acknowledged before the backup began is in it. The copy is written beside path and renamed into place
// only when complete and synced, so path is never a half-written database.
func (s *Store) Backup(ctx context.Context, path string) error {
	tmp := path + ".partial"
	os.Remove(tmp)
	if err := copyDatabase(ctx, s.r, tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := syncFile(tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncFile(filepath.Dir(path))
}

// Restore replaces the contents of the database at path with the backup at from, then applies any migration
// the backup predates. It checks the backup's integrity first and writes under SQLite's own locks, so a
// process reading the database meanwhile sees either the old contents or the restored ones.
func Restore(ctx context.Context, from, path string) error {
	src, err := sql.Open("sqlite3", "file:"+from+"?"+url.Values{"mode": {"ro"}}.Encode())
	if err != nil {
		return err
	}
	defer src.Close()
	var check string
	if err := src.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&check); err != nil {
		return fmt.Errorf("sqlite: %s is not a readable database: %w", from, err)
	}
	if check != "ok" {
		return fmt.Errorf("sqlite: %s fails its integrity check: %s", from, check)
	}
	var n int
	if err := src.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: %s is not a tokenmanager database: %w", from, err)
	}
	dst, err := Open(ctx, path)
	if err != nil {
		return err
	}
	err = backupInto(ctx, dst.w, src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	// Bring a backup taken by an older version up to this version's schema.
	dst, err = Open(ctx, path)
	if err != nil {
		return err
	}
	return dst.Close()
}

// copyDatabase backs src up into a new database file at path, mode 0600 like the database itself.
func copyDatabase(ctx context.Context, src *sql.DB, path string) error {
	if err := makePrivate(path); err != nil {
		return err
	}
	dst, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		return err
	}
	defer dst.Close()
	return backupInto(ctx, dst, src)
}

// backupInto copies every page of src's main database into dst's, in one step: one consistent snapshot.
func backupInto(ctx context.Context, dst, src *sql.DB) error {
	dc, err := dst.Conn(ctx)
	if err != nil {
		return err
	}
	defer dc.Close()
	sc, err := src.Conn(ctx)
	if err != nil {
		return err
	}
	defer sc.Close()
	return dc.Raw(func(d any) error {
		return sc.Raw(func(s any) error {
			b, err := d.(*sqlite3.SQLiteConn).Backup("main", s.(*sqlite3.SQLiteConn), "main")
			if err != nil {
				return fmt.Errorf("sqlite: backup: %w", err)
			}
			done, err := b.Step(-1)
			if ferr := b.Finish(); err == nil {
				err = ferr
			}
			if err == nil && !done {
				err = errors.New("sqlite: backup did not complete")
			}
			if err != nil {
				return fmt.Errorf("sqlite: backup: %w", err)
			}
			return nil
		})
	})
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
