-- WooCommerce License Keys compatibility: vendors' stores (recognised by the hash of their store code), the SKUs
-- they sell mapped to products, and the access tokens of the token endpoint (stored as hashes).
CREATE TABLE woo_stores (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	vendor         TEXT NOT NULL REFERENCES license_vendors(user_name),
	name           TEXT NOT NULL DEFAULT '',
	code_hash      BLOB NOT NULL UNIQUE,
	require_token  INTEGER NOT NULL DEFAULT 0,
	errors_by_code INTEGER NOT NULL DEFAULT 0,
	created_at     INTEGER NOT NULL
);
CREATE INDEX woo_stores_vendor ON woo_stores(vendor);
CREATE TABLE woo_skus (
	store_id   INTEGER NOT NULL REFERENCES woo_stores(id) ON DELETE CASCADE,
	sku        TEXT NOT NULL,
	product_id INTEGER NOT NULL REFERENCES license_products(id),
	desktop    INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (store_id, sku)
);
CREATE TABLE woo_tokens (
	hash          BLOB PRIMARY KEY,
	key_global_id INTEGER NOT NULL REFERENCES license_keys(global_id) ON DELETE CASCADE,
	created_at    INTEGER NOT NULL,
	expires_at    INTEGER NOT NULL
);
CREATE INDEX woo_tokens_expires ON woo_tokens(expires_at);
