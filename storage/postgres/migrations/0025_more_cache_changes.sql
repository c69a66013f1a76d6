-- The change feed also names the records that nodes now keep in memory for OAuth introspection (an API client, an
-- access token) and for the licensing reads (a license key with its activations and data objects, a WooCommerce
-- SKU and token).
ALTER TABLE cache_changes DROP CONSTRAINT cache_changes_kind_check;
ALTER TABLE cache_changes ADD CONSTRAINT cache_changes_kind_check
	CHECK (kind IN ('token', 'session', 'user', 'apitoken', 'product', 'vendor', 'woostore', 'apiclient', 'accesstoken',
		'licensekey', 'woosku', 'wootoken'));

-- An API client: any change (scopes, secrets, disabled) or its removal.
CREATE TRIGGER api_clients_cache_change AFTER UPDATE OR DELETE ON api_clients FOR EACH ROW
EXECUTE FUNCTION license_cache_change('apiclient', 'id');

-- An OAuth access token: its revocation. Removals need no announcement: the garbage collector removes only
-- expired tokens, which no copy answers for, and a removed client's tokens go with the client, which is announced.
CREATE TRIGGER access_tokens_revoked_cache_change AFTER UPDATE OF revoked_at ON access_tokens FOR EACH ROW
WHEN (OLD.revoked_at = '-infinity' AND NEW.revoked_at <> '-infinity') EXECUTE FUNCTION license_cache_change('accesstoken', 'id');

-- A license key, with its activations and the data objects on it or on its machines (referencer 2 and 3 name the
-- key's global id): any change of one of them is a change of the key. A new key needs no announcement, nor does
-- a new product or vendor object: no node can hold a copy of what did not exist.
CREATE FUNCTION license_key_cache_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	IF TG_OP = 'INSERT' THEN r := NEW; ELSE r := OLD; END IF;
	INSERT INTO cache_changes (kind, key) VALUES ('licensekey', to_jsonb(r) ->> TG_ARGV[0]);
	RETURN NULL;
END
$$;
CREATE TRIGGER license_keys_cache_change AFTER UPDATE OR DELETE ON license_keys FOR EACH ROW
EXECUTE FUNCTION license_key_cache_change('global_id');
CREATE TRIGGER license_activations_cache_change AFTER INSERT OR UPDATE OR DELETE ON license_activations FOR EACH ROW
EXECUTE FUNCTION license_key_cache_change('key_global_id');
CREATE TRIGGER license_data_objects_inserted_cache_change AFTER INSERT ON license_data_objects FOR EACH ROW
WHEN (NEW.referencer IN (2, 3)) EXECUTE FUNCTION license_key_cache_change('referencer_id');
CREATE TRIGGER license_data_objects_changed_cache_change AFTER UPDATE OR DELETE ON license_data_objects FOR EACH ROW
WHEN (OLD.referencer IN (2, 3)) EXECUTE FUNCTION license_key_cache_change('referencer_id');

-- A WooCommerce SKU (keyed by its store's id and the SKU): its change or removal, also by its store's removal.
CREATE FUNCTION woo_sku_cache_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO cache_changes (kind, key) VALUES ('woosku', OLD.store_id || '/' || OLD.sku);
	RETURN NULL;
END
$$;
CREATE TRIGGER woo_skus_cache_change AFTER UPDATE OR DELETE ON woo_skus FOR EACH ROW
EXECUTE FUNCTION woo_sku_cache_change();

-- A WooCommerce token (keyed by the hex of its hash, which a validation looks it up by) removed: trimmed past its
-- key's limit, removed with its key, or collected after it expired (each token is removed once, so the feed gets
-- one change per token issued, at most). (license_cache_change writes the hex of a code_hash column only for
-- 'woostore'.)
CREATE FUNCTION woo_token_cache_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO cache_changes (kind, key) VALUES ('wootoken', encode(OLD.hash, 'hex'));
	RETURN NULL;
END
$$;
CREATE TRIGGER woo_tokens_deleted_cache_change AFTER DELETE ON woo_tokens FOR EACH ROW
EXECUTE FUNCTION woo_token_cache_change();
