package dbcopy

// Table is one table the copy carries over.
type Table struct {
	Name string
	// Live, when set, is the condition (SQLite, with each ? standing for the time of the copy in Unix
	// microseconds) a row must meet to be copied: what the service's own garbage collection would delete
	// anyway (an expired token, a spent nonce) stays behind.
	Live string
	// Lists are the columns that hold lists: TEXT[] in PostgreSQL, the items joined with this separator in
	// SQLite.
	Lists map[string]string
	// Refill, when set, empties the table in the target just before it is copied: it is written by triggers of
	// other tables, so copying those wrote rows into it that the source does not have.
	Refill bool
}

// Tables is every table of the schema, parents before the tables that refer to them. A migration that adds a
// table must add it here too: the copy refuses a schema holding a table this list does not name, and
// TestTablesCoverSchema fails until it is added.
var Tables = []Table{
	{Name: "users"},
	// A session is left behind once ended, unless a token still to be copied belongs to it.
	{Name: "sessions", Live: `ended_at = 0 OR EXISTS (SELECT 1 FROM tokens t WHERE t.session_id = sessions.id
		AND (t.expires_at = 0 OR t.expires_at >= ?))`},
	// Revoked tokens that have not expired are copied: they must stay revoked.
	{Name: "tokens", Live: `expires_at = 0 OR expires_at >= ?`},
	{Name: "audit_events"},
	{Name: "api_clients", Lists: map[string]string{"scopes": " ", "grant_types": " "}},
	{Name: "access_tokens", Live: `expires_at >= ?`, Lists: map[string]string{"scopes": " "}},
	{Name: "powerauth_activations"},
	{Name: "powerauth_tokens"},
	// A nonce is kept while a request carrying it could still be accepted: replays stay refused.
	{Name: "powerauth_nonces", Live: `expires_at >= ?`},
	// The PowerAuth protocol: applications, the keys and counters of their activations, temporary ECIES keys
	// (an expired one can no longer be used).
	{Name: "powerauth_apps"},
	{Name: "powerauth_activation_keys"},
	{Name: "powerauth_temp_keys", Live: `expires_at >= ?`},
	{Name: "token_keys"},
	{Name: "license_vendors"},
	{Name: "license_products"},
	{Name: "license_customers"},
	// Resellers and templates (both before the keys and templates that point to resellers).
	{Name: "license_resellers"},
	{Name: "license_templates"},
	{Name: "license_keys"},
	{Name: "license_activations"},
	{Name: "license_api_tokens", Lists: map[string]string{"permissions": ","}},
	{Name: "woo_stores"},
	{Name: "woo_skus"},
	{Name: "woo_tokens", Live: `expires_at >= ?`},
	{Name: "app_authorizations", Lists: map[string]string{"permissions": ","}},
	{Name: "app_devices"},
	{Name: "license_end_users"},
	{Name: "settings"},
	// Data objects.
	{Name: "license_data_objects"},
	// Licensing activity: messages, events, the web API log and metered usage.
	{Name: "license_messages"},
	{Name: "license_events"},
	{Name: "license_api_log"},
	{Name: "license_key_usage"},
	// Shared limits: a counter while it has not decayed to zero, a WS-Security nonce while a replay of it could
	// still be accepted.
	{Name: "limit_counters", Live: `idle_us >= ?`},
	{Name: "wsse_nonces", Live: `expires_at >= ?`},
	// JWT access tokens' signing keys, sealed: they open only with the same server key, which the copy checks.
	{Name: "oauth_keys"},
	// management API
	{Name: "admin_tokens"},
	// usage history
	{Name: "usage_counts"},
	// The change feed, last: the triggers of license_activations and license_data_objects write it as their rows
	// are copied, and those changes name rows that no node has read from the target yet.
	{Name: "cache_changes", Refill: true},
}

// schemaTable is each backend's record of applied migrations: not copied, the target has its own.
const schemaTable = "schema_migrations"
