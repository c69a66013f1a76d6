-- Licensing: vendors, their products (with sealed signing keys), customers, license keys, activations and the
-- API tokens of the licensing API (stored as hashes). AUTOINCREMENT keeps ids from being reused, because API
-- tokens lock to product and key ids.
CREATE TABLE license_vendors (
	user_name  TEXT PRIMARY KEY REFERENCES users(name),
	created_at INTEGER NOT NULL
);
CREATE TABLE license_products (
	id                 INTEGER PRIMARY KEY AUTOINCREMENT,
	vendor             TEXT NOT NULL REFERENCES license_vendors(user_name),
	name               TEXT NOT NULL,
	public_key         BLOB NOT NULL,
	sealed_private_key BLOB NOT NULL,
	block_expired      INTEGER NOT NULL DEFAULT 0,
	created_at         INTEGER NOT NULL
);
CREATE INDEX license_products_vendor ON license_products(vendor);
CREATE TABLE license_customers (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	vendor      TEXT NOT NULL REFERENCES license_vendors(user_name),
	name        TEXT NOT NULL,
	email       TEXT NOT NULL,
	company     TEXT NOT NULL,
	max_devices INTEGER NOT NULL DEFAULT 0,
	user_name   TEXT REFERENCES users(name),
	created_at  INTEGER NOT NULL
);
CREATE INDEX license_customers_vendor ON license_customers(vendor);
CREATE TABLE license_keys (
	global_id        INTEGER PRIMARY KEY AUTOINCREMENT,
	product_id       INTEGER NOT NULL REFERENCES license_products(id),
	id               INTEGER NOT NULL,
	key              TEXT NOT NULL,
	created_at       INTEGER NOT NULL,
	period           INTEGER NOT NULL DEFAULT 0,
	expires_at       INTEGER NOT NULL DEFAULT 0,
	features         INTEGER NOT NULL DEFAULT 0, -- bit i is F(i+1)
	notes            TEXT NOT NULL DEFAULT '',
	blocked          INTEGER NOT NULL DEFAULT 0,
	customer_id      INTEGER REFERENCES license_customers(id),
	trial_activation INTEGER NOT NULL DEFAULT 0,
	trial_started_at INTEGER NOT NULL DEFAULT 0,
	max_machines     INTEGER NOT NULL DEFAULT 0,
	allowed_machines TEXT NOT NULL DEFAULT '',
	trial_machine    TEXT NOT NULL DEFAULT '',
	UNIQUE (product_id, id),
	UNIQUE (product_id, key)
);
CREATE INDEX license_keys_trial ON license_keys(product_id, trial_machine) WHERE trial_machine <> '';
CREATE TABLE license_activations (
	key_global_id       INTEGER NOT NULL REFERENCES license_keys(global_id) ON DELETE CASCADE,
	machine_code        TEXT NOT NULL,
	floating            INTEGER NOT NULL,
	overdraft           INTEGER NOT NULL DEFAULT 0,
	friendly_name       TEXT NOT NULL DEFAULT '',
	ip                  TEXT NOT NULL DEFAULT '',
	activated_at        INTEGER NOT NULL,
	floating_expires_at INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (key_global_id, floating, machine_code)
);
CREATE TABLE license_api_tokens (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	vendor       TEXT NOT NULL REFERENCES license_vendors(user_name),
	name         TEXT NOT NULL DEFAULT '',
	secret_hash  BLOB NOT NULL,
	permissions  TEXT NOT NULL DEFAULT '', -- comma-separated method names
	product_lock INTEGER NOT NULL DEFAULT 0,
	key_lock     INTEGER NOT NULL DEFAULT 0,
	feature_lock INTEGER NOT NULL DEFAULT 0,
	parent_id    INTEGER REFERENCES license_api_tokens(id),
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL DEFAULT 0,
	revoked_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX license_api_tokens_vendor ON license_api_tokens(vendor);
CREATE INDEX license_api_tokens_parent ON license_api_tokens(parent_id) WHERE parent_id IS NOT NULL;
