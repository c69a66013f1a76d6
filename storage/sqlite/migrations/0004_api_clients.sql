-- API clients (OAuth 2.0 client credentials, SkyKick-style subscription keys) and their access tokens.
-- Keys and tokens are kept only as SHA-256 hashes. Scopes and grant types are space-separated lists
-- (scope tokens cannot contain a space, RFC 6749 §3.3).
CREATE TABLE api_clients (
	id                       TEXT PRIMARY KEY,
	description              TEXT NOT NULL DEFAULT '',
	primary_key_hash         BLOB NOT NULL,
	secondary_key_hash       BLOB NOT NULL,
	primary_key_set_at       INTEGER NOT NULL,
	secondary_key_set_at     INTEGER NOT NULL,
	scopes                   TEXT NOT NULL DEFAULT '',
	grant_types              TEXT NOT NULL DEFAULT '',
	introspect               INTEGER NOT NULL DEFAULT 0,
	token_lifetime_us        INTEGER NOT NULL,
	require_subscription_key INTEGER NOT NULL DEFAULT 0,
	disabled                 INTEGER NOT NULL DEFAULT 0,
	created_at               INTEGER NOT NULL,
	updated_at               INTEGER NOT NULL
);
CREATE TABLE access_tokens (
	id         TEXT PRIMARY KEY,
	client_id  TEXT NOT NULL REFERENCES api_clients(id) ON DELETE CASCADE,
	scopes     TEXT NOT NULL DEFAULT '',
	key_hash   BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX access_tokens_client ON access_tokens(client_id);
CREATE INDEX access_tokens_expires ON access_tokens(expires_at);
CREATE INDEX access_tokens_revoked ON access_tokens(revoked_at) WHERE revoked_at > 0;
