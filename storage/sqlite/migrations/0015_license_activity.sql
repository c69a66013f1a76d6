-- Licensing activity: vendors' messages to their apps, events the apps register, the web API log of licensing
-- calls (a license key only by its first block and a hash: it is a customer's secret) and metered usage per key.
CREATE TABLE license_messages (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	vendor     TEXT NOT NULL REFERENCES license_vendors(user_name),
	channel    TEXT NOT NULL,
	content    TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX license_messages_vendor ON license_messages(vendor, created_at);
CREATE TABLE license_events (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	vendor        TEXT NOT NULL REFERENCES license_vendors(user_name),
	product_id    INTEGER REFERENCES license_products(id),
	key_global_id INTEGER REFERENCES license_keys(global_id) ON DELETE CASCADE,
	machine_code  TEXT NOT NULL,
	feature_name  TEXT NOT NULL,
	event_name    TEXT NOT NULL,
	value         INTEGER NOT NULL,
	currency      TEXT NOT NULL,
	metadata      TEXT NOT NULL,
	at            INTEGER NOT NULL
);
CREATE INDEX license_events_vendor ON license_events(vendor, id);
CREATE INDEX license_events_at ON license_events(at);
CREATE TABLE license_api_log (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	vendor        TEXT NOT NULL,
	method        TEXT NOT NULL,
	product_id    INTEGER NOT NULL,
	key_prefix    TEXT NOT NULL,
	key_hash      BLOB,
	machine_code  TEXT NOT NULL,
	friendly_name TEXT NOT NULL,
	ip            TEXT NOT NULL,
	result        TEXT NOT NULL,
	state         INTEGER NOT NULL,
	at            INTEGER NOT NULL
);
CREATE INDEX license_api_log_vendor ON license_api_log(vendor, id);
CREATE INDEX license_api_log_at ON license_api_log(at);
CREATE TABLE license_key_usage (
	key_global_id INTEGER PRIMARY KEY REFERENCES license_keys(global_id) ON DELETE CASCADE,
	total         INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
);
