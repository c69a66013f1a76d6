-- Resellers a vendor sells through (a key may name one) and license templates: a stored set of CreateKey
-- parameters per product that key/CreateKeyFromTemplate issues keys from. Identity columns never hand out an id
-- twice, because keys point to resellers and API tokens may lock to a template id.
CREATE TABLE license_resellers (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	vendor      TEXT COLLATE "C" NOT NULL REFERENCES license_vendors(user_name),
	name        TEXT NOT NULL,
	email       TEXT NOT NULL DEFAULT '',
	phone       TEXT NOT NULL DEFAULT '',
	url         TEXT NOT NULL DEFAULT '',
	description TEXT NOT NULL DEFAULT '',
	created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX license_resellers_vendor ON license_resellers(vendor);
ALTER TABLE license_keys ADD COLUMN reseller_id BIGINT REFERENCES license_resellers(id);
CREATE TABLE license_templates (
	id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	product_id       BIGINT NOT NULL REFERENCES license_products(id),
	name             TEXT NOT NULL,
	period           INTEGER NOT NULL DEFAULT 0,
	features         SMALLINT NOT NULL DEFAULT 0, -- bit i is F(i+1)
	notes            TEXT NOT NULL DEFAULT '',
	blocked          BOOLEAN NOT NULL DEFAULT false,
	trial_activation BOOLEAN NOT NULL DEFAULT false,
	max_machines     INTEGER NOT NULL DEFAULT 0,
	allowed_machines TEXT NOT NULL DEFAULT '',
	reseller_id      BIGINT REFERENCES license_resellers(id),
	created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX license_templates_product ON license_templates(product_id);
