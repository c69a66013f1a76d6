-- State the request limits of several nodes share. limit_counters: one leaky bucket per key (a digest of what
-- it counts: an account, an address, a client), its level at updated_us decaying by rate a second; times are
-- Unix microseconds so the decay is plain arithmetic in the one upsert that changes a row. Nodes add to it at
-- most once per key per sync interval and read back the rows changed since their last read (by updated_us);
-- idle_us, a time by which the level is surely zero, is what garbage collection deletes by.
CREATE TABLE limit_counters (
	key        BYTEA PRIMARY KEY,
	level      DOUBLE PRECISION NOT NULL,
	rate       DOUBLE PRECISION NOT NULL CHECK (rate > 0),
	updated_us BIGINT NOT NULL,
	idle_us    BIGINT NOT NULL
);
CREATE INDEX limit_counters_updated ON limit_counters(updated_us);

-- WS-Security UsernameToken nonces accepted (by digest), kept until their Created time leaves the window.
CREATE TABLE wsse_nonces (
	nonce      BYTEA PRIMARY KEY,
	expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX wsse_nonces_expires ON wsse_nonces(expires_at);
