-- PowerAuth-style MAC tokens: activations (devices), their tokens (secrets sealed with the server key) and the
-- nonces already accepted, kept until the token timestamp they came with can no longer be accepted.
CREATE TABLE powerauth_activations (
	id         TEXT COLLATE "C" PRIMARY KEY,
	user_name  TEXT COLLATE "C" NOT NULL REFERENCES users(name),
	name       TEXT NOT NULL,
	status     TEXT COLLATE "C" NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX powerauth_activations_user ON powerauth_activations(user_name);
CREATE TABLE powerauth_tokens (
	id            TEXT COLLATE "C" PRIMARY KEY,
	activation_id TEXT COLLATE "C" NOT NULL REFERENCES powerauth_activations(id) ON DELETE CASCADE,
	sealed_secret BYTEA NOT NULL,
	created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX powerauth_tokens_activation ON powerauth_tokens(activation_id);
CREATE TABLE powerauth_nonces (
	token_id   TEXT COLLATE "C" NOT NULL,
	nonce      BYTEA NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (token_id, nonce)
);
CREATE INDEX powerauth_nonces_expires ON powerauth_nonces(expires_at);
