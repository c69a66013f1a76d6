-- GetKey, Activate and the data-object calls list an owner's objects by ID. The owner index (0013) ends with the
-- name, for the lookups by name, so those listings sorted their rows in a temporary b-tree on every call; in this
-- order the index hands them out already sorted.
CREATE INDEX license_data_objects_owner_id ON license_data_objects(vendor, referencer, referencer_id, machine_code, id);
