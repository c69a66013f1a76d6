package sqlmap

// Statements are those both backends run as they stand, but for their placeholders. Each is written here
// with ?; Dialect.Statements rebinds them. What the databases do differently (an upsert, RETURNING, row
// locks, how a time that is not set compares, a batch limit) stays in the backend.
type Statements struct {
	InsertUser, SelectUser, UpdateUser, ListUsers, CountUsers string
	InsertToken, SelectToken, TouchToken                      string
	InsertSession, SelectSession                              string

	InsertAPIClient, SelectAPIClient, UpdateAPIClient, ListAPIClients, DeleteAPIClient string
	InsertAccessToken, SelectAccessToken, DeleteClientAccessTokens                     string

	InsertPowerAuthActivation, SelectPowerAuthActivation, UpdatePowerAuthActivation, ListPowerAuthActivations string
	InsertPowerAuthToken, SelectPowerAuthToken, ListPowerAuthTokens, DeletePowerAuthToken                     string
	SelectPowerAuthTokenActivation                                                                            string
	DeleteActivationPowerAuthTokens, DeletePowerAuthUserTokens                                                string

	InsertVendor, SelectVendor, ListVendors, SelectProduct, UpdateProduct, SealProduct, InsertCustomer, SelectCustomer string
	NextLicenseKeyID, InsertLicenseKey, SelectLicenseKey, FindTrialKey, ListLicenseKeys, UpdateLicenseKey              string
	ListActivations, DeleteActivation, InsertAPIToken, SelectAPIToken                                                  string

	InsertAppAuth, SelectAppAuth, FindAppAuth, FindAppAuthByToken, SetAppChallenge, InsertAppDevice string
	ListUserCustomers, ListCustomerLicenseKeys                                                      string

	InsertWooStore, SelectWooStore, FindWooStore, UpdateWooStore, SelectWooSKU, ListWooSKUs, DeleteWooSKU string
	SelectLicenseKeyByGlobalID, InsertWooToken, SelectWooToken                                            string

	ListTokenKeys string

	// Resellers and license templates.
	InsertReseller, SelectReseller, InsertLicenseTemplate, SelectLicenseTemplate, ListLicenseTemplates string
	DeleteLicenseTemplate, FindCustomerByEmail                                                         string

	CountTokenKeys, DemotePrimaryTokenKey, InsertPrimaryTokenKey, SelectTokenKeyState, RetireTokenKey string
	LastChange, SchemaVersion                                                                         string

	ListOAuthKeys, DemotePrimaryOAuthKey, InsertPrimaryOAuthKey, SelectOAuthKeyState, RetireOAuthKey string
}

var shared = Statements{
	InsertUser: `INSERT INTO users (` + UserColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?)`,
	SelectUser: `SELECT ` + UserColumns + ` FROM users WHERE name = ?`,
	ListUsers:  `SELECT ` + UserColumns + ` FROM users ORDER BY name`,
	UpdateUser: `UPDATE users SET password_hash = ?, digest_secret = ?, disabled = ?, admin = ?, updated_at = ?
		WHERE name = ?`,
	CountUsers: `SELECT count(*) FROM users`,

	InsertToken: `INSERT INTO tokens (` + InsertTokenColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	SelectToken: `SELECT ` + TokenColumns + ` FROM tokens WHERE id = ?`,
	TouchToken:  `UPDATE tokens SET last_used_at = ? WHERE id = ? AND last_used_at <= ?`,

	InsertSession: `INSERT INTO sessions (` + SessionColumns + `) VALUES (?, ?, ?, ?, ?, ?)`,
	SelectSession: `SELECT ` + SessionColumns + ` FROM sessions WHERE id = ?`,

	InsertAPIClient: `INSERT INTO api_clients (` + APIClientColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	SelectAPIClient: `SELECT ` + APIClientColumns + ` FROM api_clients WHERE id = ?`,
	UpdateAPIClient: `UPDATE api_clients SET description = ?, primary_key_hash = ?, secondary_key_hash = ?,
		primary_key_set_at = ?, secondary_key_set_at = ?, scopes = ?, grant_types = ?, introspect = ?, token_lifetime_us = ?,
		require_subscription_key = ?, disabled = ?, updated_at = ?, token_format = ? WHERE id = ?`,
	ListAPIClients:           `SELECT ` + APIClientColumns + ` FROM api_clients ORDER BY id`,
	DeleteAPIClient:          `DELETE FROM api_clients WHERE id = ?`,
	InsertAccessToken:        `INSERT INTO access_tokens (` + AccessTokenColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?)`,
	SelectAccessToken:        `SELECT ` + AccessTokenColumns + ` FROM access_tokens WHERE id = ?`,
	DeleteClientAccessTokens: `DELETE FROM access_tokens WHERE client_id = ?`,

	InsertPowerAuthActivation: `INSERT INTO powerauth_activations (` + PowerAuthActivationColumns + `) VALUES (?, ?, ?, ?, ?, ?)`,
	SelectPowerAuthActivation: `SELECT ` + PowerAuthActivationColumns + ` FROM powerauth_activations WHERE id = ?`,
	UpdatePowerAuthActivation: `UPDATE powerauth_activations SET name = ?, status = ?, updated_at = ? WHERE id = ?`,
	// An empty user lists everyone's (the argument is passed twice).
	ListPowerAuthActivations: `SELECT ` + PowerAuthActivationColumns + ` FROM powerauth_activations
		WHERE ? = '' OR user_name = ? ORDER BY created_at, id`,
	InsertPowerAuthToken: `INSERT INTO powerauth_tokens (` + PowerAuthTokenColumns + `) VALUES (?, ?, ?, ?)`,
	SelectPowerAuthToken: `SELECT ` + PowerAuthTokenColumns + ` FROM powerauth_tokens WHERE id = ?`,
	SelectPowerAuthTokenActivation: `SELECT t.id, t.activation_id, t.sealed_secret, t.created_at,
		a.id, a.user_name, a.name, a.status, a.created_at, a.updated_at
		FROM powerauth_tokens t JOIN powerauth_activations a ON a.id = t.activation_id WHERE t.id = ?`,
	// An empty activation lists every one's (the argument is passed twice).
	ListPowerAuthTokens: `SELECT ` + PowerAuthTokenColumns + ` FROM powerauth_tokens
		WHERE ? = '' OR activation_id = ? ORDER BY created_at, id`,
	DeletePowerAuthToken:            `DELETE FROM powerauth_tokens WHERE id = ?`,
	DeleteActivationPowerAuthTokens: `DELETE FROM powerauth_tokens WHERE activation_id = ?`,
	DeletePowerAuthUserTokens: `DELETE FROM powerauth_tokens WHERE activation_id IN (
		SELECT id FROM powerauth_activations WHERE user_name = ?)`,

	InsertVendor:  `INSERT INTO license_vendors (` + VendorColumns + `) VALUES (?, ?)`,
	SelectVendor:  `SELECT ` + VendorColumns + ` FROM license_vendors WHERE user_name = ?`,
	ListVendors:   `SELECT ` + VendorColumns + ` FROM license_vendors ORDER BY user_name`,
	SelectProduct: `SELECT ` + ProductColumns + ` FROM license_products WHERE id = ?`,
	UpdateProduct: `UPDATE license_products SET name = ?, block_expired = ?, public_key = ?, sealed_private_key = ?, allow_activation_management = ? WHERE id = ?`,
	SealProduct:   `UPDATE license_products SET sealed_private_key = ? WHERE id = ?`,
	// The backend appends what returns the new ID, if its database needs that.
	InsertCustomer: `INSERT INTO license_customers (vendor, name, email, company, max_devices, user_name, created_at,
		notes, secret_hash, flags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	SelectCustomer:   `SELECT ` + CustomerColumns + ` FROM license_customers WHERE id = ?`,
	NextLicenseKeyID: `SELECT coalesce(max(id), 0) + 1 FROM license_keys WHERE product_id = ?`,
	// The backend appends what returns the new global ID, if its database needs that.
	InsertLicenseKey: `INSERT INTO license_keys (product_id, id, key, created_at, period, expires_at, features, notes, blocked,
		customer_id, trial_activation, trial_started_at, max_machines, allowed_machines, trial_machine, reseller_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	SelectLicenseKey: `SELECT ` + LicenseKeyColumns + ` FROM license_keys WHERE product_id = ? AND key = ?`,
	FindTrialKey: `SELECT ` + LicenseKeyColumns + ` FROM license_keys
		WHERE product_id = ? AND trial_machine = ? ORDER BY id DESC LIMIT 1`,
	ListLicenseKeys: `SELECT ` + LicenseKeyColumns + ` FROM license_keys WHERE product_id = ? ORDER BY id`,
	UpdateLicenseKey: `UPDATE license_keys SET period = ?, expires_at = ?, features = ?, notes = ?, blocked = ?,
		customer_id = ?, trial_activation = ?, trial_started_at = ?, max_machines = ?, allowed_machines = ?,
		trial_machine = ?, reseller_id = ? WHERE global_id = ?`,
	// In no order: SortActivations orders them (see there).
	ListActivations:  `SELECT ` + ActivationColumns + ` FROM license_activations WHERE key_global_id = ?`,
	DeleteActivation: `DELETE FROM license_activations WHERE key_global_id = ? AND floating = ? AND machine_code = ?`,
	// The backend appends what returns the new ID, if its database needs that.
	InsertAPIToken: `INSERT INTO license_api_tokens (vendor, name, secret_hash, permissions, product_lock, key_lock,
		feature_lock, parent_id, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	SelectAPIToken: `SELECT ` + APITokenColumns + ` FROM license_api_tokens WHERE id = ?`,

	// The backend appends what returns the new ID, if its database needs that.
	InsertAppAuth: `INSERT INTO app_authorizations (request_hash, parent_token_id, vendor, user_name, state, app_name,
		device_name, machine_code, public_key, permissions, product_lock, key_lock, feature_lock, lifetime_seconds,
		decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	SelectAppAuth:      `SELECT ` + AppAuthColumns + AppAuthFrom + ` WHERE a.id = ?`,
	FindAppAuth:        `SELECT ` + AppAuthColumns + AppAuthFrom + ` WHERE a.request_hash = ?`,
	FindAppAuthByToken: `SELECT ` + AppAuthColumns + AppAuthFrom + ` WHERE a.child_token_id = ?`,
	SetAppChallenge:    `UPDATE app_authorizations SET challenge = ?, challenge_expires_at = ? WHERE id = ?`,
	InsertAppDevice: `INSERT INTO app_devices (customer_id, machine_code, device_name, user_name, registered_at)
		VALUES (?, ?, ?, ?, ?)`,
	ListUserCustomers:       `SELECT ` + CustomerColumns + ` FROM license_customers WHERE vendor = ? AND user_name = ? ORDER BY id`,
	ListCustomerLicenseKeys: `SELECT ` + LicenseKeyColumns + ` FROM license_keys WHERE customer_id = ? ORDER BY global_id`,

	// The backend appends what returns the new ID, if its database needs that.
	InsertWooStore: `INSERT INTO woo_stores (vendor, name, code_hash, require_token, errors_by_code, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
	SelectWooStore:             `SELECT ` + WooStoreColumns + ` FROM woo_stores WHERE id = ?`,
	FindWooStore:               `SELECT ` + WooStoreColumns + ` FROM woo_stores WHERE code_hash = ?`,
	UpdateWooStore:             `UPDATE woo_stores SET name = ?, code_hash = ?, require_token = ?, errors_by_code = ? WHERE id = ?`,
	SelectWooSKU:               `SELECT ` + WooSKUColumns + ` FROM woo_skus WHERE store_id = ? AND sku = ?`,
	ListWooSKUs:                `SELECT ` + WooSKUColumns + ` FROM woo_skus WHERE store_id = ? ORDER BY sku`,
	DeleteWooSKU:               `DELETE FROM woo_skus WHERE store_id = ? AND sku = ?`,
	SelectLicenseKeyByGlobalID: `SELECT ` + LicenseKeyColumns + ` FROM license_keys WHERE global_id = ?`,
	InsertWooToken:             `INSERT INTO woo_tokens (` + WooTokenColumns + `) VALUES (?, ?, ?, ?)`,
	SelectWooToken:             `SELECT ` + WooTokenColumns + ` FROM woo_tokens WHERE hash = ?`,

	// The backend appends what returns the new ID, if its database needs that.
	InsertReseller: `INSERT INTO license_resellers (vendor, name, email, phone, url, description, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
	SelectReseller: `SELECT ` + ResellerColumns + ` FROM license_resellers WHERE id = ?`,
	// The backend appends what returns the new ID, if its database needs that.
	InsertLicenseTemplate: `INSERT INTO license_templates (product_id, name, period, features, notes, blocked,
		trial_activation, max_machines, allowed_machines, reseller_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	SelectLicenseTemplate: `SELECT ` + LicenseTemplateColumns + ` FROM license_templates WHERE id = ?`,
	ListLicenseTemplates:  `SELECT ` + LicenseTemplateColumns + ` FROM license_templates WHERE product_id = ? ORDER BY id`,
	DeleteLicenseTemplate: `DELETE FROM license_templates WHERE id = ?`,
	FindCustomerByEmail: `SELECT ` + CustomerColumns + ` FROM license_customers WHERE vendor = ? AND email = ?
		ORDER BY id LIMIT 1`,

	ListTokenKeys:         `SELECT ` + TokenKeyColumns + ` FROM token_keys ORDER BY created_at, id`,
	CountTokenKeys:        `SELECT count(*) FROM token_keys`,
	DemotePrimaryTokenKey: `UPDATE token_keys SET state = 'verify' WHERE state = 'primary'`,
	InsertPrimaryTokenKey: `INSERT INTO token_keys (id, sealed, state, created_at) VALUES (?, ?, 'primary', ?)`,
	SelectTokenKeyState:   `SELECT state FROM token_keys WHERE id = ?`,
	RetireTokenKey:        `UPDATE token_keys SET state = 'retired', retired_at = ? WHERE id = ?`,

	ListOAuthKeys:         `SELECT ` + OAuthKeyColumns + ` FROM oauth_keys ORDER BY created_at, id`,
	DemotePrimaryOAuthKey: `UPDATE oauth_keys SET state = 'verify', verify_until = ? WHERE state = 'primary'`,
	InsertPrimaryOAuthKey: `INSERT INTO oauth_keys (id, alg, sealed, state, created_at) VALUES (?, ?, ?, 'primary', ?)`,
	SelectOAuthKeyState:   `SELECT state FROM oauth_keys WHERE id = ?`,
	RetireOAuthKey:        `UPDATE oauth_keys SET state = 'retired', retired_at = ? WHERE id = ?`,

	LastChange:    `SELECT coalesce(max(seq), 0) FROM cache_changes`,
	SchemaVersion: `SELECT coalesce(max(version), 0) FROM schema_migrations`,
}
