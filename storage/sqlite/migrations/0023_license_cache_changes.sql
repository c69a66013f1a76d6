-- The change feed (0010) also names the licensing records that nodes now keep in memory: a licensing API token
-- (revoked or removed), a product (changed or removed), a vendor (removed) and a WooCommerce store (changed or
-- removed, keyed by the hex of its code hash, which is what a validation looks it up by). SQLite cannot widen a
-- CHECK in place, so the table is made anew; its triggers are dropped first and made again, unchanged, since
-- renaming a table checks every trigger that names it.
DROP TRIGGER tokens_revoked_cache_change;
DROP TRIGGER sessions_ended_cache_change;
DROP TRIGGER users_updated_cache_change;
DROP TRIGGER users_deleted_cache_change;

CREATE TABLE cache_changes_new (
	seq  INTEGER PRIMARY KEY AUTOINCREMENT,
	kind TEXT NOT NULL CHECK (kind IN ('token', 'session', 'user', 'apitoken', 'product', 'vendor', 'woostore')),
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

-- Any change of an API token counts, not only its revocation: a cached copy must never outlive what it says.
CREATE TRIGGER license_api_tokens_updated_cache_change AFTER UPDATE ON license_api_tokens
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('apitoken', OLD.id, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
CREATE TRIGGER license_api_tokens_deleted_cache_change AFTER DELETE ON license_api_tokens
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('apitoken', OLD.id, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;

-- Not the seal that completes a new product's row, in the transaction that inserts it: no node can hold a copy.
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
