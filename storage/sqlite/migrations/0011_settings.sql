-- Values the whole deployment shares, set once: the fingerprint of the server key the database was first used
-- with ('server_key_fingerprint', an HKDF output of the key that cannot be turned back into it), which every
-- node and CLI command compares with its own key before using the database.
CREATE TABLE settings (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
