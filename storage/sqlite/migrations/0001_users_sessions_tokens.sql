-- Users, sessions and the tokens bound to them.
CREATE TABLE users (
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
CREATE INDEX tokens_revoked ON tokens(revoked_at) WHERE revoked_at > 0;
