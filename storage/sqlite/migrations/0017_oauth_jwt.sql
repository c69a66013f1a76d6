-- JWT access tokens (RFC 9068) for API clients. token_format: 'jwt', 'opaque', or '' for the server's default.
ALTER TABLE api_clients ADD COLUMN token_format TEXT NOT NULL DEFAULT '' CHECK (token_format IN ('', 'jwt', 'opaque'));
-- The keys that sign them, each private key sealed with the server key. One primary key signs; keys it replaced
-- stay ('verify') and are published in the JWKS until verify_until, when every token they signed has expired.
CREATE TABLE oauth_keys (
	id           TEXT PRIMARY KEY,
	alg          TEXT NOT NULL CHECK (alg IN ('ES256', 'RS256')),
	sealed       BLOB NOT NULL,
	state        TEXT NOT NULL CHECK (state IN ('primary', 'verify', 'retired')),
	created_at   INTEGER NOT NULL,
	verify_until INTEGER NOT NULL DEFAULT 0,
	retired_at   INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX oauth_keys_one_primary ON oauth_keys (state) WHERE state = 'primary';
