package sqlmap

import "github.com/tokenmanager/tokenmanager/storage"

// --- management API tokens ---

const AdminTokenColumns = `id, user_name, name, secret_hash, read_only, vendor, created_at, expires_at, last_used_at, revoked_at`

func (d *Dialect) ScanAdminToken(row Row) (storage.AdminToken, error) {
	var t storage.AdminToken
	err := row.Scan(&t.ID, &t.User, &t.Name, &t.SecretHash, &t.ReadOnly, &t.Vendor, d.Time(&t.CreatedAt), d.Time(&t.ExpiresAt),
		d.Time(&t.LastUsedAt), d.Time(&t.RevokedAt))
	return t, d.MapErr(err)
}

// AdminTokenStatements are the management API's statements in the dialect's placeholders.
type AdminTokenStatements struct {
	Insert, Select, List, ListUser, Revoke, Touch string
}

// AdminTokenStatements returns the statements of the admin_tokens table; a backend calls it once, at init.
func (d *Dialect) AdminTokenStatements() AdminTokenStatements {
	return AdminTokenStatements{
		Insert:   d.SQL(`INSERT INTO admin_tokens (` + AdminTokenColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		Select:   d.SQL(`SELECT ` + AdminTokenColumns + ` FROM admin_tokens WHERE id = ?`),
		List:     d.SQL(`SELECT ` + AdminTokenColumns + ` FROM admin_tokens ORDER BY created_at DESC, id LIMIT ?`),
		ListUser: d.SQL(`SELECT ` + AdminTokenColumns + ` FROM admin_tokens WHERE user_name = ? ORDER BY created_at DESC, id LIMIT ?`),
		Revoke:   d.SQL(`UPDATE admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at = ` + d.Unset),
		Touch:    d.SQL(`UPDATE admin_tokens SET last_used_at = ? WHERE id = ? AND last_used_at <= ?`),
	}
}
