-- Users, sessions and the tokens bound to them.
--
-- PostgreSQL twin of storage/sqlite/migrations/0001. Conventions of every PostgreSQL migration here:
-- text compares byte by byte (COLLATE "C", as SQLite's BINARY) so that ordering and range queries mean the same
-- on both backends; times are TIMESTAMPTZ (microseconds), and '-infinity' stands where SQLite stores 0: a time
-- that is not set (never revoked, no expiry), earlier than every real time.
CREATE TABLE users (
	name          TEXT COLLATE "C" PRIMARY KEY,
	password_hash TEXT NOT NULL,
	digest_secret BYTEA,
	disabled      BOOLEAN NOT NULL DEFAULT false,
	created_at    TIMESTAMPTZ NOT NULL,
	updated_at    TIMESTAMPTZ NOT NULL
);
CREATE TABLE sessions (
	id           TEXT COLLATE "C" PRIMARY KEY,
	user_name    TEXT COLLATE "C" NOT NULL REFERENCES users(name),
	client_host  TEXT COLLATE "C" NOT NULL,
	created_at   TIMESTAMPTZ NOT NULL,
	last_seen_at TIMESTAMPTZ NOT NULL,
	ended_at     TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
);
CREATE INDEX sessions_last_seen ON sessions(last_seen_at);
CREATE INDEX sessions_user ON sessions(user_name);
CREATE TABLE tokens (
	id           TEXT COLLATE "C" PRIMARY KEY,
	user_name    TEXT COLLATE "C" NOT NULL REFERENCES users(name),
	kind         TEXT COLLATE "C" NOT NULL,
	session_id   TEXT COLLATE "C" REFERENCES sessions(id) ON DELETE CASCADE,
	client_host  TEXT COLLATE "C" NOT NULL,
	created_at   TIMESTAMPTZ NOT NULL,
	expires_at   TIMESTAMPTZ NOT NULL,
	last_used_at TIMESTAMPTZ NOT NULL,
	revoked_at   TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
);
CREATE INDEX tokens_session ON tokens(session_id);
CREATE INDEX tokens_user ON tokens(user_name);
CREATE INDEX tokens_expires ON tokens(expires_at) WHERE expires_at > '-infinity';
CREATE INDEX tokens_revoked ON tokens(revoked_at) WHERE revoked_at > '-infinity';
