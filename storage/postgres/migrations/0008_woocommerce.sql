-- WooCommerce License Keys compatibility: vendors' stores (recognised by the hash of their store code), the SKUs
-- they sell mapped to products, and the access tokens of the token endpoint (stored as hashes).
CREATE TABLE woo_stores (
	id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	vendor         TEXT COLLATE "C" NOT NULL REFERENCES license_vendors(user_name),
	name           TEXT NOT NULL DEFAULT '',
	code_hash      BYTEA NOT NULL UNIQUE,
	require_token  BOOLEAN NOT NULL DEFAULT false,
	errors_by_code BOOLEAN NOT NULL DEFAULT false,
	created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX woo_stores_vendor ON woo_stores(vendor);
CREATE TABLE woo_skus (
	store_id   BIGINT NOT NULL REFERENCES woo_stores(id) ON DELETE CASCADE,
	sku        TEXT COLLATE "C" NOT NULL,
	product_id BIGINT NOT NULL REFERENCES license_products(id),
	desktop    BOOLEAN NOT NULL DEFAULT false,
	PRIMARY KEY (store_id, sku)
);
CREATE TABLE woo_tokens (
	hash          BYTEA PRIMARY KEY,
	key_global_id BIGINT NOT NULL REFERENCES license_keys(global_id) ON DELETE CASCADE,
	created_at    TIMESTAMPTZ NOT NULL,
	expires_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX woo_tokens_expires ON woo_tokens(expires_at);
CREATE INDEX woo_tokens_key ON woo_tokens(key_global_id);
