-- App authorization (Cryptolens' Get Token flow and User Login Auth): the requests users approved or denied,
-- each with at most one live challenge and, once solved, its child API token; and the devices registered with
-- customers. The app's AuthorizationToken is stored only as its SHA-256.
CREATE TABLE app_authorizations (
	id                   INTEGER PRIMARY KEY AUTOINCREMENT,
	request_hash         BLOB NOT NULL UNIQUE,
	parent_token_id      INTEGER NOT NULL REFERENCES license_api_tokens(id),
	vendor               TEXT NOT NULL REFERENCES license_vendors(user_name),
	user_name            TEXT NOT NULL REFERENCES users(name),
	state                TEXT NOT NULL CHECK (state IN ('approved', 'denied')),
	app_name             TEXT NOT NULL,
	device_name          TEXT NOT NULL DEFAULT '',
	machine_code         TEXT NOT NULL DEFAULT '',
	public_key           BLOB NOT NULL,
	permissions          TEXT NOT NULL DEFAULT '', -- comma-separated method names
	product_lock         INTEGER NOT NULL DEFAULT 0,
	key_lock             INTEGER NOT NULL DEFAULT 0,
	feature_lock         INTEGER NOT NULL DEFAULT 0,
	lifetime_seconds     INTEGER NOT NULL,
	decided_at           INTEGER NOT NULL,
	challenge            BLOB,
	challenge_expires_at INTEGER NOT NULL DEFAULT 0,
	child_token_id       INTEGER UNIQUE REFERENCES license_api_tokens(id),
	issued_at            INTEGER NOT NULL DEFAULT 0,
	revoked_at           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX app_authorizations_user ON app_authorizations(user_name);
CREATE INDEX app_authorizations_decided ON app_authorizations(decided_at) WHERE child_token_id IS NULL;
CREATE TABLE app_devices (
	customer_id   INTEGER NOT NULL REFERENCES license_customers(id),
	machine_code  TEXT NOT NULL,
	device_name   TEXT NOT NULL DEFAULT '',
	user_name     TEXT NOT NULL REFERENCES users(name),
	registered_at INTEGER NOT NULL,
	PRIMARY KEY (customer_id, machine_code)
);
CREATE INDEX app_devices_user ON app_devices(user_name);
-- GetLicenseKeys reads a user's customers and their keys.
CREATE INDEX license_customers_user ON license_customers(user_name) WHERE user_name IS NOT NULL;
CREATE INDEX license_keys_customer ON license_keys(customer_id) WHERE customer_id IS NOT NULL;
