-- The change feed also names the records that nodes now keep in memory for OAuth introspection (an API client, an
-- access token) and for the licensing reads (a license key with its activations and data objects, a WooCommerce
-- SKU and token). SQLite cannot
-- widen a CHECK in place, so the table is made anew, as in 0023: every trigger that writes it is dropped first and
-- made again, unchanged, since renaming a table checks every trigger that names it.
DROP TRIGGER tokens_revoked_cache_change;
DROP TRIGGER sessions_ended_cache_change;
DROP TRIGGER users_updated_cache_change;
DROP TRIGGER users_deleted_cache_change;
DROP TRIGGER license_api_tokens_updated_cache_change;
DROP TRIGGER license_api_tokens_deleted_cache_change;
DROP TRIGGER license_products_updated_cache_change;
DROP TRIGGER license_products_deleted_cache_change;
DROP TRIGGER license_vendors_updated_cache_change;
DROP TRIGGER license_vendors_deleted_cache_change;
DROP TRIGGER woo_stores_updated_cache_change;
DROP TRIGGER woo_stores_deleted_cache_change;

CREATE TABLE cache_changes_new (
	seq  INTEGER PRIMARY KEY AUTOINCREMENT,
	kind TEXT NOT NULL CHECK (kind IN ('token', 'session', 'user', 'apitoken', 'product', 'vendor', 'woostore',
		'apiclient', 'accesstoken', 'licensekey', 'woosku', 'wootoken')),
	key  TEXT NOT NULL,
	at   INTEGER NOT NULL -- unix microseconds
);
INSERT INTO cache_changes_new (seq, kind, key, at) SELECT seq, kind, key, at FROM cache_changes;
DROP TABLE cache_changes;
ALTER TABLE cache_changes_new RENAME TO cache_changes;
CREATE INDEX cache_changes_at ON cache_changes(at);

CREATE TRIGGER tokens_revoked_cache_change AFTER UPDATE OF revoked_at ON tokens
WHEN OLD.revoked_at = 0 AND NEW.revoked_at <> 0
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('token', NEW.id, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
CREATE TRIGGER sessions_ended_cache_change AFTER UPDATE OF ended_at ON sessions
WHEN OLD.ended_at = 0 AND NEW.ended_at <> 0
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('session', NEW.id, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
CREATE TRIGGER users_updated_cache_change AFTER UPDATE ON users
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('user', NEW.name, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
CREATE TRIGGER users_deleted_cache_change AFTER DELETE ON users
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('user', OLD.name, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
CREATE TRIGGER license_api_tokens_updated_cache_change AFTER UPDATE ON license_api_tokens
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('apitoken', OLD.id, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
CREATE TRIGGER license_api_tokens_deleted_cache_change AFTER DELETE ON license_api_tokens
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('apitoken', OLD.id, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
CREATE TRIGGER license_products_updated_cache_change AFTER UPDATE ON license_products
WHEN OLD.sealed_private_key <> x''
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('product', OLD.id, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
CREATE TRIGGER license_products_deleted_cache_change AFTER DELETE ON license_products
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('product', OLD.id, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
CREATE TRIGGER license_vendors_updated_cache_change AFTER UPDATE ON license_vendors
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('vendor', OLD.user_name, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
CREATE TRIGGER license_vendors_deleted_cache_change AFTER DELETE ON license_vendors
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('vendor', OLD.user_name, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
CREATE TRIGGER woo_stores_updated_cache_change AFTER UPDATE ON woo_stores
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('woostore', lower(hex(OLD.code_hash)), CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
CREATE TRIGGER woo_stores_deleted_cache_change AFTER DELETE ON woo_stores
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('woostore', lower(hex(OLD.code_hash)), CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;

-- An API client: any change (scopes, secrets, disabled) or its removal.
CREATE TRIGGER api_clients_updated_cache_change AFTER UPDATE ON api_clients
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('apiclient', OLD.id, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
CREATE TRIGGER api_clients_deleted_cache_change AFTER DELETE ON api_clients
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('apiclient', OLD.id, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
-- An OAuth access token: its revocation. Removals need no announcement: the garbage collector removes only
-- expired tokens, which no copy answers for, and a removed client's tokens go with the client, which is announced.
CREATE TRIGGER access_tokens_revoked_cache_change AFTER UPDATE OF revoked_at ON access_tokens
WHEN OLD.revoked_at = 0 AND NEW.revoked_at <> 0
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('accesstoken', NEW.id, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
-- A license key, with its activations and the data objects on it or on its machines (referencer 2 and 3 name the
-- key's global id): any change of one of them is a change of the key. A new key needs no announcement, nor does
-- a new product or vendor object: no node can hold a copy of what did not exist.
CREATE TRIGGER license_keys_updated_cache_change AFTER UPDATE ON license_keys
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('licensekey', OLD.global_id, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
CREATE TRIGGER license_keys_deleted_cache_change AFTER DELETE ON license_keys
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('licensekey', OLD.global_id, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
CREATE TRIGGER license_activations_inserted_cache_change AFTER INSERT ON license_activations
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('licensekey', NEW.key_global_id, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
CREATE TRIGGER license_activations_updated_cache_change AFTER UPDATE ON license_activations
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('licensekey', OLD.key_global_id, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
CREATE TRIGGER license_activations_deleted_cache_change AFTER DELETE ON license_activations
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('licensekey', OLD.key_global_id, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
CREATE TRIGGER license_data_objects_inserted_cache_change AFTER INSERT ON license_data_objects
WHEN NEW.referencer IN (2, 3)
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('licensekey', NEW.referencer_id, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
CREATE TRIGGER license_data_objects_updated_cache_change AFTER UPDATE ON license_data_objects
WHEN OLD.referencer IN (2, 3)
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('licensekey', OLD.referencer_id, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
CREATE TRIGGER license_data_objects_deleted_cache_change AFTER DELETE ON license_data_objects
WHEN OLD.referencer IN (2, 3)
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('licensekey', OLD.referencer_id, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
-- A WooCommerce SKU (keyed by its store's id and the SKU): its change or removal, also by its store's removal.
CREATE TRIGGER woo_skus_updated_cache_change AFTER UPDATE ON woo_skus
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('woosku', OLD.store_id || '/' || OLD.sku, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
CREATE TRIGGER woo_skus_deleted_cache_change AFTER DELETE ON woo_skus
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('woosku', OLD.store_id || '/' || OLD.sku, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
-- A WooCommerce token (keyed by the hex of its hash, which a validation looks it up by) removed: trimmed past its
-- key's limit, removed with its key, or collected after it expired (each token is removed once, so the feed gets
-- one change per token issued, at most).
CREATE TRIGGER woo_tokens_deleted_cache_change AFTER DELETE ON woo_tokens
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('wootoken', lower(hex(OLD.hash)), CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
