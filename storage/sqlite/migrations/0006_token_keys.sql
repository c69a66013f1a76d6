-- Rotated token keys, each sealed with the server key. No row at all: the original key (derived from the
-- server key) is the only one. The original key gets a row (sealed NULL) at the first rotation.
CREATE TABLE token_keys (
	id         TEXT PRIMARY KEY,
	sealed     BLOB,
	state      TEXT NOT NULL CHECK (state IN ('primary', 'verify', 'retired')),
	created_at INTEGER NOT NULL,
	retired_at INTEGER NOT NULL DEFAULT 0
);
