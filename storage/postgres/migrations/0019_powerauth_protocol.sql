-- The PowerAuth protocol for Wultra's mobile SDK: applications with their master key pair, the keys and
-- counters of activations made with an activation code, temporary ECIES keys. Secrets are sealed with the
-- server key.
CREATE TABLE powerauth_apps (
	id            TEXT COLLATE "C" PRIMARY KEY,
	app_key       TEXT COLLATE "C" NOT NULL UNIQUE,
	master_public BYTEA NOT NULL,
	sealed        BYTEA NOT NULL,
	created_at    TIMESTAMPTZ NOT NULL
);
CREATE TABLE powerauth_activation_keys (
	activation_id   TEXT COLLATE "C" PRIMARY KEY REFERENCES powerauth_activations(id) ON DELETE CASCADE,
	app_id          TEXT COLLATE "C" NOT NULL REFERENCES powerauth_apps(id),
	code_hash       BYTEA UNIQUE,
	otp_hash        BYTEA,
	code_expires_at TIMESTAMPTZ NOT NULL,
	sealed          BYTEA,
	server_public   BYTEA,
	ctr_data        BYTEA,
	counter         BIGINT NOT NULL,
	failed_attempts BIGINT NOT NULL,
	max_failed      BIGINT NOT NULL,
	version         BIGINT NOT NULL
);
CREATE INDEX powerauth_activation_keys_app ON powerauth_activation_keys(app_id);
CREATE TABLE powerauth_temp_keys (
	id            TEXT COLLATE "C" PRIMARY KEY,
	app_id        TEXT COLLATE "C" NOT NULL REFERENCES powerauth_apps(id),
	activation_id TEXT COLLATE "C" NOT NULL,
	public_key    BYTEA NOT NULL,
	sealed        BYTEA NOT NULL,
	expires_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX powerauth_temp_keys_expires ON powerauth_temp_keys(expires_at);
