package sqlmap

// RemovalStatements delete a user or a product with what hangs on them (storage.Removals), in the dialect's
// placeholders. The backends run them in this order inside one transaction.
type RemovalStatements struct {
	UserInUse                                                       string // one row: is the user referred to by licensing records
	RevokeUserTokens, EndUserSessions                               string // (at, user): first, so that the cache change triggers fire
	DeleteUserTokens, DeleteUserSessions, DeleteUserPATokens        string // (user)
	DeleteUserActivations, DeleteUserAdminTokens, DeleteUser        string // (user)
	ProductUse, DeleteProductSKUs, DeleteProductKeys, DeleteProduct string // (id); ProductUse: keys, activations, SKUs
	KeyUse, DeleteKey                                               string // (product id, key); KeyUse: global id, activations
}

// RemovalStatements returns the statements; a backend calls it once, at init.
func (d *Dialect) RemovalStatements() RemovalStatements {
	return RemovalStatements{
		UserInUse: d.SQL(`SELECT EXISTS (SELECT 1 FROM license_vendors WHERE user_name = ?)
			OR EXISTS (SELECT 1 FROM license_customers WHERE user_name = ?)
			OR EXISTS (SELECT 1 FROM app_authorizations WHERE user_name = ?)
			OR EXISTS (SELECT 1 FROM app_devices WHERE user_name = ?)`),
		RevokeUserTokens:      d.SQL(`UPDATE tokens SET revoked_at = ? WHERE user_name = ? AND revoked_at = ` + d.Unset),
		EndUserSessions:       d.SQL(`UPDATE sessions SET ended_at = ? WHERE user_name = ? AND ended_at = ` + d.Unset),
		DeleteUserTokens:      d.SQL(`DELETE FROM tokens WHERE user_name = ?`),
		DeleteUserSessions:    d.SQL(`DELETE FROM sessions WHERE user_name = ?`),
		DeleteUserPATokens:    d.SQL(`DELETE FROM powerauth_tokens WHERE activation_id IN (SELECT id FROM powerauth_activations WHERE user_name = ?)`),
		DeleteUserActivations: d.SQL(`DELETE FROM powerauth_activations WHERE user_name = ?`),
		DeleteUserAdminTokens: d.SQL(`DELETE FROM admin_tokens WHERE user_name = ?`),
		DeleteUser:            d.SQL(`DELETE FROM users WHERE name = ?`),
		ProductUse: d.SQL(`SELECT (SELECT count(*) FROM license_keys WHERE product_id = ?),
			(SELECT count(*) FROM license_activations WHERE key_global_id IN (SELECT global_id FROM license_keys WHERE product_id = ?)),
			(SELECT count(*) FROM woo_skus WHERE product_id = ?)`),
		DeleteProductSKUs: d.SQL(`DELETE FROM woo_skus WHERE product_id = ?`),
		DeleteProductKeys: d.SQL(`DELETE FROM license_keys WHERE product_id = ?`), // activations and WooCommerce links cascade
		DeleteProduct:     d.SQL(`DELETE FROM license_products WHERE id = ?`),
		KeyUse: d.SQL(`SELECT k.global_id, (SELECT count(*) FROM license_activations a WHERE a.key_global_id = k.global_id)
			FROM license_keys k WHERE k.product_id = ? AND k.key = ?`),
		DeleteKey: d.SQL(`DELETE FROM license_keys WHERE global_id = ?`), // activations, activity and WooCommerce links cascade
	}
}
