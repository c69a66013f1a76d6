-- App authorization (Cryptolens' Get Token flow and User Login Auth): the requests users approved or denied,
-- each with at most one live challenge and, once solved, its child API token; and the devices registered with
-- customers. The app's AuthorizationToken is stored only as its SHA-256. Permissions are an array (SQLite:
-- comma-separated); the child token's lifetime is in seconds, as in SQLite.
CREATE TABLE app_authorizations (
	id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	request_hash         BYTEA NOT NULL UNIQUE,
	parent_token_id      BIGINT NOT NULL REFERENCES license_api_tokens(id),
	vendor               TEXT COLLATE "C" NOT NULL REFERENCES license_vendors(user_name),
	user_name            TEXT COLLATE "C" NOT NULL REFERENCES users(name),
	state                TEXT COLLATE "C" NOT NULL CHECK (state IN ('approved', 'denied')),
	app_name             TEXT NOT NULL,
	device_name          TEXT NOT NULL DEFAULT '',
	machine_code         TEXT COLLATE "C" NOT NULL DEFAULT '',
	public_key           BYTEA NOT NULL,
	permissions          TEXT[] NOT NULL DEFAULT '{}',
	product_lock         BIGINT NOT NULL DEFAULT 0,
	key_lock             BIGINT NOT NULL DEFAULT 0,
	feature_lock         BIGINT NOT NULL DEFAULT 0,
	lifetime_seconds     BIGINT NOT NULL,
	decided_at           TIMESTAMPTZ NOT NULL,
	challenge            BYTEA,
	challenge_expires_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
	child_token_id       BIGINT UNIQUE REFERENCES license_api_tokens(id),
	issued_at            TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
	revoked_at           TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
);
CREATE INDEX app_authorizations_user ON app_authorizations(user_name);
CREATE INDEX app_authorizations_vendor ON app_authorizations(vendor);
CREATE INDEX app_authorizations_parent ON app_authorizations(parent_token_id);
CREATE INDEX app_authorizations_decided ON app_authorizations(decided_at) WHERE child_token_id IS NULL;
CREATE TABLE app_devices (
	customer_id   BIGINT NOT NULL REFERENCES license_customers(id),
	machine_code  TEXT COLLATE "C" NOT NULL,
	device_name   TEXT NOT NULL DEFAULT '',
	user_name     TEXT COLLATE "C" NOT NULL REFERENCES users(name),
	registered_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (customer_id, machine_code)
);
CREATE INDEX app_devices_user ON app_devices(user_name);
-- GetLicenseKeys reads a user's customers and their keys.
CREATE INDEX license_customers_user ON license_customers(user_name) WHERE user_name IS NOT NULL;
CREATE INDEX license_keys_customer ON license_keys(customer_id) WHERE customer_id IS NOT NULL;
