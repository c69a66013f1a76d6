-- Cryptolens customer settings and the vendors' end-user accounts (userauth/*). A customer secret is stored
-- only as its SHA-256 (hex); an end user's password only as an argon2id hash, a password reset token only as its
-- SHA-256. End users belong to one vendor and are not operator users: their names are unique per vendor,
-- ignoring case (name_fold is the lower-cased name).
ALTER TABLE license_customers ADD COLUMN notes TEXT NOT NULL DEFAULT '';
ALTER TABLE license_customers ADD COLUMN secret_hash TEXT COLLATE "C";
ALTER TABLE license_customers ADD COLUMN flags INTEGER NOT NULL DEFAULT 0; -- 1 association, 2 activation management, 4 several users
CREATE UNIQUE INDEX license_customers_secret ON license_customers(vendor, secret_hash) WHERE secret_hash IS NOT NULL;
CREATE TABLE license_end_users (
	id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	vendor           TEXT COLLATE "C" NOT NULL REFERENCES license_vendors(user_name),
	name             TEXT NOT NULL,
	name_fold        TEXT COLLATE "C" NOT NULL,
	email            TEXT NOT NULL DEFAULT '',
	password_hash    TEXT NOT NULL,
	customer_id      BIGINT REFERENCES license_customers(id),
	reset_hash       TEXT,
	reset_expires_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
	created_at       TIMESTAMPTZ NOT NULL,
	updated_at       TIMESTAMPTZ NOT NULL,
	UNIQUE (vendor, name_fold)
);
CREATE INDEX license_end_users_customer ON license_end_users(customer_id) WHERE customer_id IS NOT NULL;
