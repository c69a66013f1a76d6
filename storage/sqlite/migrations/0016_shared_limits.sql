-- State the request limits of several nodes share (used by the PostgreSQL backend; a single SQLite node keeps
-- its limits in memory, and has the tables so that both backends have one schema). limit_counters: one leaky
-- bucket per key, its level at updated_us decaying by rate a second; idle_us is a time by which it is surely
-- zero. wsse_nonces: WS-Security nonces accepted (by digest), kept until their Created time leaves the window.
CREATE TABLE limit_counters (
	key        BLOB PRIMARY KEY,
	level      REAL NOT NULL,
	rate       REAL NOT NULL CHECK (rate > 0),
	updated_us INTEGER NOT NULL,
	idle_us    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX limit_counters_updated ON limit_counters(updated_us);

CREATE TABLE wsse_nonces (
	nonce      BLOB PRIMARY KEY,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX wsse_nonces_expires ON wsse_nonces(expires_at);
