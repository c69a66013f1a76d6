package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tokenmanager/tokenmanager/storage/internal/migration"
)

// migrationFiles are the schema changes, NNNN_what.sql, each the twin of the SQLite migration of the same name
// (storage/sqlite/migrations): the same change in PostgreSQL's words. They are applied in order, each once,
// each in its own transaction. Append only: never edit a migration that has shipped.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the first key of the advisory lock that migrations are applied under; the second is a hash
// of the schema, so that databases (or schemas) migrate independently.
const migrationLock = 0x746d6967 // "tmig"

// migrate applies pending migrations. Nodes starting at once take turns under a session-level advisory lock on
// a connection of its own, which is closed at the end: the lock dies with it even if the unlock is never sent.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	migrations, err := migration.Load(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("postgres: connect for migrations: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext(coalesce(current_schema(), '')))`, migrationLock); err != nil {
		return fmt.Errorf("postgres: wait for the migration lock: %w", err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("postgres: create schema_migrations: %w", err)
	}
	for _, m := range migrations {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var applied bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&applied); err != nil {
				return err
			}
			if applied {
				return nil
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil { // no arguments: the simple protocol, several statements
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.Version)
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// SchemaVersion returns the number of the last migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.pool.QueryRow(ctx, stmt.SchemaVersion).Scan(&v)
	return v, mapErr(err)
}
