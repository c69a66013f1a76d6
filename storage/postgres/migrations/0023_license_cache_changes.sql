-- The change feed (0010) also names the licensing records that nodes now keep in memory: a licensing API token
-- (revoked or removed), a product (changed or removed), a vendor (removed) and a WooCommerce store (changed or
-- removed, keyed by the hex of its code hash, which is what a validation looks it up by). Each trigger passes
-- the kind and the OLD row's key column; any change counts, so a cached copy never outlives what it says.
ALTER TABLE cache_changes DROP CONSTRAINT cache_changes_kind_check;
ALTER TABLE cache_changes ADD CONSTRAINT cache_changes_kind_check
	CHECK (kind IN ('token', 'session', 'user', 'apitoken', 'product', 'vendor', 'woostore'));

CREATE FUNCTION license_cache_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_ARGV[0] = 'woostore' THEN
		INSERT INTO cache_changes (kind, key) VALUES ('woostore', encode(OLD.code_hash, 'hex'));
	ELSE
		INSERT INTO cache_changes (kind, key) VALUES (TG_ARGV[0], to_jsonb(OLD) ->> TG_ARGV[1]);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER license_api_tokens_cache_change AFTER UPDATE OR DELETE ON license_api_tokens FOR EACH ROW
EXECUTE FUNCTION license_cache_change('apitoken', 'id');
-- Not the seal that completes a new product's row, in the transaction that inserts it: no node can hold a copy.
CREATE TRIGGER license_products_updated_cache_change AFTER UPDATE ON license_products FOR EACH ROW
WHEN (OLD.sealed_private_key <> ''::bytea) EXECUTE FUNCTION license_cache_change('product', 'id');
CREATE TRIGGER license_products_deleted_cache_change AFTER DELETE ON license_products FOR EACH ROW
EXECUTE FUNCTION license_cache_change('product', 'id');
CREATE TRIGGER license_vendors_cache_change AFTER UPDATE OR DELETE ON license_vendors FOR EACH ROW
EXECUTE FUNCTION license_cache_change('vendor', 'user_name');
CREATE TRIGGER woo_stores_cache_change AFTER UPDATE OR DELETE ON woo_stores FOR EACH ROW
EXECUTE FUNCTION license_cache_change('woostore', 'code_hash');
