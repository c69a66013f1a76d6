-- Licensing: vendors, their products (with sealed signing keys), customers, license keys, activations and the
-- API tokens of the licensing API (stored as hashes). Identity columns never hand out an id twice (a rolled
-- back insert leaves a gap), because API tokens lock to product and key ids.
CREATE TABLE license_vendors (
	user_name  TEXT COLLATE "C" PRIMARY KEY REFERENCES users(name),
	created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE license_products (
	id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	vendor             TEXT COLLATE "C" NOT NULL REFERENCES license_vendors(user_name),
	name               TEXT NOT NULL,
	public_key         BYTEA NOT NULL,
	sealed_private_key BYTEA NOT NULL,
	block_expired      BOOLEAN NOT NULL DEFAULT false,
	created_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX license_products_vendor ON license_products(vendor);
CREATE TABLE license_customers (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	vendor      TEXT COLLATE "C" NOT NULL REFERENCES license_vendors(user_name),
	name        TEXT NOT NULL,
	email       TEXT NOT NULL,
	company     TEXT NOT NULL,
	max_devices INTEGER NOT NULL DEFAULT 0,
	user_name   TEXT COLLATE "C" REFERENCES users(name),
	created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX license_customers_vendor ON license_customers(vendor);
CREATE TABLE license_keys (
	global_id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	product_id       BIGINT NOT NULL REFERENCES license_products(id),
	id               BIGINT NOT NULL,
	key              TEXT COLLATE "C" NOT NULL,
	created_at       TIMESTAMPTZ NOT NULL,
	period           INTEGER NOT NULL DEFAULT 0,
	expires_at       TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
	features         SMALLINT NOT NULL DEFAULT 0, -- bit i is F(i+1)
	notes            TEXT NOT NULL DEFAULT '',
	blocked          BOOLEAN NOT NULL DEFAULT false,
	customer_id      BIGINT REFERENCES license_customers(id),
	trial_activation BOOLEAN NOT NULL DEFAULT false,
	trial_started_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
	max_machines     INTEGER NOT NULL DEFAULT 0,
	allowed_machines TEXT NOT NULL DEFAULT '',
	trial_machine    TEXT COLLATE "C" NOT NULL DEFAULT '',
	UNIQUE (product_id, id),
	UNIQUE (product_id, key)
);
CREATE INDEX license_keys_trial ON license_keys(product_id, trial_machine) WHERE trial_machine <> '';
CREATE TABLE license_activations (
	key_global_id       BIGINT NOT NULL REFERENCES license_keys(global_id) ON DELETE CASCADE,
	machine_code        TEXT COLLATE "C" NOT NULL,
	floating            BOOLEAN NOT NULL,
	overdraft           BOOLEAN NOT NULL DEFAULT false,
	friendly_name       TEXT NOT NULL DEFAULT '',
	ip                  TEXT NOT NULL DEFAULT '',
	activated_at        TIMESTAMPTZ NOT NULL,
	floating_expires_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
	PRIMARY KEY (key_global_id, floating, machine_code)
);
CREATE TABLE license_api_tokens (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	vendor       TEXT COLLATE "C" NOT NULL REFERENCES license_vendors(user_name),
	name         TEXT NOT NULL DEFAULT '',
	secret_hash  BYTEA NOT NULL,
	permissions  TEXT[] NOT NULL DEFAULT '{}', -- method names (SQLite: comma-separated)
	product_lock BIGINT NOT NULL DEFAULT 0,
	key_lock     BIGINT NOT NULL DEFAULT 0,
	feature_lock BIGINT NOT NULL DEFAULT 0,
	parent_id    BIGINT REFERENCES license_api_tokens(id),
	created_at   TIMESTAMPTZ NOT NULL,
	expires_at   TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
	revoked_at   TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
);
CREATE INDEX license_api_tokens_vendor ON license_api_tokens(vendor);
CREATE INDEX license_api_tokens_parent ON license_api_tokens(parent_id) WHERE parent_id IS NOT NULL;
