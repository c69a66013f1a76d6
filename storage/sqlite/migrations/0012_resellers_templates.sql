-- Resellers a vendor sells through (a key may name one) and license templates: a stored set of CreateKey
-- parameters per product that key/CreateKeyFromTemplate issues keys from. AUTOINCREMENT keeps ids from being
-- reused, because keys point to resellers and API tokens may lock to a template id.
CREATE TABLE license_resellers (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	vendor      TEXT NOT NULL REFERENCES license_vendors(user_name),
	name        TEXT NOT NULL,
	email       TEXT NOT NULL DEFAULT '',
	phone       TEXT NOT NULL DEFAULT '',
	url         TEXT NOT NULL DEFAULT '',
	description TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL
);
CREATE INDEX license_resellers_vendor ON license_resellers(vendor);
ALTER TABLE license_keys ADD COLUMN reseller_id INTEGER REFERENCES license_resellers(id);
CREATE TABLE license_templates (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	product_id       INTEGER NOT NULL REFERENCES license_products(id),
	name             TEXT NOT NULL,
	period           INTEGER NOT NULL DEFAULT 0,
	features         INTEGER NOT NULL DEFAULT 0, -- bit i is F(i+1)
	notes            TEXT NOT NULL DEFAULT '',
	blocked          INTEGER NOT NULL DEFAULT 0,
	trial_activation INTEGER NOT NULL DEFAULT 0,
	max_machines     INTEGER NOT NULL DEFAULT 0,
	allowed_machines TEXT NOT NULL DEFAULT '',
	reseller_id      INTEGER REFERENCES license_resellers(id),
	created_at       INTEGER NOT NULL
);
CREATE INDEX license_templates_product ON license_templates(product_id);
