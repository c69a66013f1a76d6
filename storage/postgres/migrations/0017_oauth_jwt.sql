-- JWT access tokens (RFC 9068) for API clients. token_format: 'jwt', 'opaque', or '' for the server's default.
ALTER TABLE api_clients ADD COLUMN token_format TEXT COLLATE "C" NOT NULL DEFAULT '' CHECK (token_format IN ('', 'jwt', 'opaque'));
-- The keys that sign them, each private key sealed with the server key. One primary key signs; keys it replaced
-- stay ('verify') and are published in the JWKS until verify_until, when every token they signed has expired.
CREATE TABLE oauth_keys (
	id           TEXT COLLATE "C" PRIMARY KEY,
	alg          TEXT COLLATE "C" NOT NULL CHECK (alg IN ('ES256', 'RS256')),
	sealed       BYTEA NOT NULL,
	state        TEXT COLLATE "C" NOT NULL CHECK (state IN ('primary', 'verify', 'retired')),
	created_at   TIMESTAMPTZ NOT NULL,
	verify_until TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
	retired_at   TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
);
-- At most one primary key, whatever several nodes rotating at once do (they also lock the table).
CREATE UNIQUE INDEX oauth_keys_one_primary ON oauth_keys ((true)) WHERE state = 'primary';
