-- Data objects: named values (an int32 and a string) a vendor attaches to its account (referencer 0), a product
-- (1, referencer_id the product's id), a license key (2, the key's global id) or a machine on a key (3, the key's
-- global id and machine_code). There is no foreign key on referencer_id, which names rows of different tables;
-- the service checks it. The int32 range is a CHECK as well, so that no write path can leave it.
CREATE TABLE license_data_objects (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	vendor        TEXT NOT NULL REFERENCES license_vendors(user_name),
	referencer    INTEGER NOT NULL CHECK (referencer BETWEEN 0 AND 3),
	referencer_id INTEGER NOT NULL,
	machine_code  TEXT NOT NULL DEFAULT '',
	name          TEXT NOT NULL DEFAULT '',
	string_value  TEXT NOT NULL DEFAULT '',
	int_value     INTEGER NOT NULL DEFAULT 0 CHECK (int_value BETWEEN -2147483648 AND 2147483647),
	created_at    INTEGER NOT NULL
);
CREATE INDEX license_data_objects_owner ON license_data_objects(vendor, referencer, referencer_id, machine_code, name);
