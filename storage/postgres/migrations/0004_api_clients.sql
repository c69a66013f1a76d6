-- API clients (OAuth 2.0 client credentials, SkyKick-style subscription keys) and their access tokens.
-- Keys and tokens are kept only as SHA-256 hashes. Scopes and grant types are arrays (SQLite: space-separated).
CREATE TABLE api_clients (
	id                       TEXT COLLATE "C" PRIMARY KEY,
	description              TEXT NOT NULL DEFAULT '',
	primary_key_hash         BYTEA NOT NULL,
	secondary_key_hash       BYTEA NOT NULL,
	primary_key_set_at       TIMESTAMPTZ NOT NULL,
	secondary_key_set_at     TIMESTAMPTZ NOT NULL,
	scopes                   TEXT[] NOT NULL DEFAULT '{}',
	grant_types              TEXT[] NOT NULL DEFAULT '{}',
	introspect               BOOLEAN NOT NULL DEFAULT false,
	token_lifetime_us        BIGINT NOT NULL,
	require_subscription_key BOOLEAN NOT NULL DEFAULT false,
	disabled                 BOOLEAN NOT NULL DEFAULT false,
	created_at               TIMESTAMPTZ NOT NULL,
	updated_at               TIMESTAMPTZ NOT NULL
);
CREATE TABLE access_tokens (
	id         TEXT COLLATE "C" PRIMARY KEY,
	client_id  TEXT COLLATE "C" NOT NULL REFERENCES api_clients(id) ON DELETE CASCADE,
	scopes     TEXT[] NOT NULL DEFAULT '{}',
	key_hash   BYTEA NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	revoked_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
);
CREATE INDEX access_tokens_client ON access_tokens(client_id);
CREATE INDEX access_tokens_expires ON access_tokens(expires_at);
CREATE INDEX access_tokens_revoked ON access_tokens(revoked_at) WHERE revoked_at > '-infinity';
