-- Personal tokens for the management API (/admin/v1): the SHA-256 of the secret only, never the secret.
-- A token acts as its user narrowed to its scope (read-only, one vendor), and dies with the user.
CREATE TABLE admin_tokens (
	id           TEXT PRIMARY KEY,
	user_name    TEXT NOT NULL REFERENCES users(name),
	name         TEXT NOT NULL DEFAULT '',
	secret_hash  BLOB NOT NULL,
	read_only    INTEGER NOT NULL DEFAULT 0,
	vendor       TEXT NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL DEFAULT 0,
	last_used_at INTEGER NOT NULL DEFAULT 0,
	revoked_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX admin_tokens_user ON admin_tokens(user_name);
