-- Personal tokens for the management API (/admin/v1): PostgreSQL twin of storage/sqlite/migrations/0020.
CREATE TABLE admin_tokens (
	id           TEXT COLLATE "C" PRIMARY KEY,
	user_name    TEXT COLLATE "C" NOT NULL REFERENCES users(name),
	name         TEXT COLLATE "C" NOT NULL DEFAULT '',
	secret_hash  BYTEA NOT NULL,
	read_only    BOOLEAN NOT NULL DEFAULT false,
	vendor       TEXT COLLATE "C" NOT NULL DEFAULT '',
	created_at   TIMESTAMPTZ NOT NULL,
	expires_at   TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
	last_used_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
	revoked_at   TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
);
CREATE INDEX admin_tokens_user ON admin_tokens(user_name);
