-- The operator's listings are paged by keyset in these orders: each page is one index range scan.
CREATE INDEX tokens_created ON tokens(created_at DESC, id);
CREATE INDEX sessions_created ON sessions(created_at DESC, id);
CREATE INDEX access_tokens_created ON access_tokens(created_at DESC, id);
CREATE INDEX powerauth_activations_created ON powerauth_activations(created_at, id);
CREATE INDEX powerauth_tokens_created ON powerauth_tokens(created_at, id);
CREATE INDEX app_devices_registered ON app_devices(registered_at, customer_id, machine_code);
