-- The PowerAuth protocol for Wultra's mobile SDK: applications with their master key pair, the keys and
-- counters of activations made with an activation code, temporary ECIES keys. Secrets are sealed with the
-- server key.
CREATE TABLE powerauth_apps (
	id            TEXT PRIMARY KEY,
	app_key       TEXT NOT NULL UNIQUE,
	master_public BLOB NOT NULL,
	sealed        BLOB NOT NULL,
	created_at    INTEGER NOT NULL
);
CREATE TABLE powerauth_activation_keys (
	activation_id   TEXT PRIMARY KEY REFERENCES powerauth_activations(id) ON DELETE CASCADE,
	app_id          TEXT NOT NULL REFERENCES powerauth_apps(id),
	code_hash       BLOB UNIQUE,
	otp_hash        BLOB,
	code_expires_at INTEGER NOT NULL,
	sealed          BLOB,
	server_public   BLOB,
	ctr_data        BLOB,
	counter         INTEGER NOT NULL,
	failed_attempts INTEGER NOT NULL,
	max_failed      INTEGER NOT NULL,
	version         INTEGER NOT NULL
);
CREATE INDEX powerauth_activation_keys_app ON powerauth_activation_keys(app_id);
CREATE TABLE powerauth_temp_keys (
	id            TEXT PRIMARY KEY,
	app_id        TEXT NOT NULL REFERENCES powerauth_apps(id),
	activation_id TEXT NOT NULL,
	public_key    BLOB NOT NULL,
	sealed        BLOB NOT NULL,
	expires_at    INTEGER NOT NULL
);
CREATE INDEX powerauth_temp_keys_expires ON powerauth_temp_keys(expires_at);
