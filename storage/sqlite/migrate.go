package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order, each once, each in its own transaction. Append only: never edit a
// migration that has shipped.
var migrations = []string{
	// 1: users, sessions, tokens.
	`CREATE TABLE users (
		name          TEXT PRIMARY KEY,
		password_hash TEXT NOT NULL,
		digest_secret BLOB,
		disabled      INTEGER NOT NULL DEFAULT 0,
		created_at    INTEGER NOT NULL,
		updated_at    INTEGER NOT NULL
	);
	CREATE TABLE sessions (
		id           TEXT PRIMARY KEY,
		user_name    TEXT NOT NULL REFERENCES users(name),
		client_host  TEXT NOT NULL,
		created_at   INTEGER NOT NULL,
		last_seen_at INTEGER NOT NULL,
		ended_at     INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX sessions_last_seen ON sessions(last_seen_at);
	CREATE INDEX sessions_user ON sessions(user_name);
	CREATE TABLE tokens (
		id           TEXT PRIMARY KEY,
		user_name    TEXT NOT NULL REFERENCES users(name),
		kind         TEXT NOT NULL,
		session_id   TEXT REFERENCES sessions(id) ON DELETE CASCADE,
		client_host  TEXT NOT NULL,
		created_at   INTEGER NOT NULL,
		expires_at   INTEGER NOT NULL,
		last_used_at INTEGER NOT NULL,
		revoked_at   INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX tokens_session ON tokens(session_id);
	CREATE INDEX tokens_user ON tokens(user_name);
	CREATE INDEX tokens_expires ON tokens(expires_at) WHERE expires_at > 0;
	CREATE INDEX tokens_revoked ON tokens(revoked_at) WHERE revoked_at > 0;`,
}

func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx,
		`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: create schema_migrations: %w", err)
	}
	for i, stmt := range migrations {
		version := i + 1
		err := func() error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, strftime('%s','now'))`, version); err != nil {
				return err
			}
			return tx.Commit()
		}()
		if err != nil {
			return fmt.Errorf("sqlite: migration %d: %w", version, err)
		}
	}
	return nil
}
