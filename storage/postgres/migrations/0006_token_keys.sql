-- Rotated token keys, each sealed with the server key. No row at all: the original key (derived from the
-- server key) is the only one. The original key gets a row (sealed NULL) at the first rotation.
CREATE TABLE token_keys (
	id         TEXT COLLATE "C" PRIMARY KEY,
	sealed     BYTEA,
	state      TEXT COLLATE "C" NOT NULL CHECK (state IN ('primary', 'verify', 'retired')),
	created_at TIMESTAMPTZ NOT NULL,
	retired_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
);
-- At most one primary key, whatever several nodes rotating at once do (they also lock the table).
CREATE UNIQUE INDEX token_keys_one_primary ON token_keys ((true)) WHERE state = 'primary';
