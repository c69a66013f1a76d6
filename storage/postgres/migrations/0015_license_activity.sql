-- Licensing activity: vendors' messages to their apps, events the apps register, the web API log of licensing
-- calls (a license key only by its first block and a hash: it is a customer's secret) and metered usage per key.
CREATE TABLE license_messages (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	vendor     TEXT COLLATE "C" NOT NULL REFERENCES license_vendors(user_name),
	channel    TEXT COLLATE "C" NOT NULL,
	content    TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX license_messages_vendor ON license_messages(vendor, created_at);
CREATE TABLE license_events (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	vendor        TEXT COLLATE "C" NOT NULL REFERENCES license_vendors(user_name),
	product_id    BIGINT REFERENCES license_products(id),
	key_global_id BIGINT REFERENCES license_keys(global_id) ON DELETE CASCADE,
	machine_code  TEXT NOT NULL,
	feature_name  TEXT NOT NULL,
	event_name    TEXT NOT NULL,
	value         BIGINT NOT NULL,
	currency      TEXT NOT NULL,
	metadata      TEXT NOT NULL,
	at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX license_events_vendor ON license_events(vendor, id);
CREATE INDEX license_events_at ON license_events(at);
CREATE TABLE license_api_log (
	id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	vendor        TEXT COLLATE "C" NOT NULL,
	method        TEXT COLLATE "C" NOT NULL,
	product_id    BIGINT NOT NULL,
	key_prefix    TEXT NOT NULL,
	key_hash      BYTEA,
	machine_code  TEXT NOT NULL,
	friendly_name TEXT NOT NULL,
	ip            TEXT NOT NULL,
	result        TEXT COLLATE "C" NOT NULL,
	state         INTEGER NOT NULL,
	at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX license_api_log_vendor ON license_api_log(vendor, id);
CREATE INDEX license_api_log_at ON license_api_log(at);
CREATE TABLE license_key_usage (
	key_global_id BIGINT PRIMARY KEY REFERENCES license_keys(global_id) ON DELETE CASCADE,
	total         BIGINT NOT NULL,
	updated_at    TIMESTAMPTZ NOT NULL
);
