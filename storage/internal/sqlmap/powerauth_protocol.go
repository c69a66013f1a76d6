package sqlmap

import "github.com/tokenmanager/tokenmanager/storage"

// PowerAuthProtocolStatements are the PowerAuth protocol's statements, shared as Statements are.
type PowerAuthProtocolStatements struct {
	InsertApp, SelectApp, SelectAppByKey, ListApps string
	InsertKeys, SelectKeys, FindCode, UpdateKeys   string
	InsertTempKey, SelectTempKey                   string
}

const (
	PowerAuthAppColumns     = `id, app_key, master_public, sealed, created_at`
	PowerAuthKeysColumns    = `activation_id, app_id, code_hash, otp_hash, code_expires_at, sealed, server_public, ctr_data, counter, failed_attempts, max_failed, version`
	PowerAuthTempKeyColumns = `id, app_id, activation_id, public_key, sealed, expires_at`
)

var powerAuthProtocolStatements = PowerAuthProtocolStatements{
	InsertApp:      `INSERT INTO powerauth_apps (` + PowerAuthAppColumns + `) VALUES (?, ?, ?, ?, ?)`,
	SelectApp:      `SELECT ` + PowerAuthAppColumns + ` FROM powerauth_apps WHERE id = ?`,
	SelectAppByKey: `SELECT ` + PowerAuthAppColumns + ` FROM powerauth_apps WHERE app_key = ?`,
	ListApps:       `SELECT ` + PowerAuthAppColumns + ` FROM powerauth_apps ORDER BY created_at, id`,
	InsertKeys:     `INSERT INTO powerauth_activation_keys (` + PowerAuthKeysColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	SelectKeys:     `SELECT ` + PowerAuthKeysColumns + ` FROM powerauth_activation_keys WHERE activation_id = ?`,
	FindCode:       `SELECT activation_id FROM powerauth_activation_keys WHERE code_hash = ?`,
	UpdateKeys: `UPDATE powerauth_activation_keys SET code_hash = ?, otp_hash = ?, sealed = ?, server_public = ?, ctr_data = ?,
		counter = ?, failed_attempts = ?, max_failed = ? WHERE activation_id = ?`,
	InsertTempKey: `INSERT INTO powerauth_temp_keys (` + PowerAuthTempKeyColumns + `) VALUES (?, ?, ?, ?, ?, ?)`,
	SelectTempKey: `SELECT ` + PowerAuthTempKeyColumns + ` FROM powerauth_temp_keys WHERE id = ?`,
}

// PowerAuthProtocolStatements returns the statements in the dialect's placeholders.
func (d *Dialect) PowerAuthProtocolStatements() PowerAuthProtocolStatements {
	s := powerAuthProtocolStatements
	for _, p := range []*string{&s.InsertApp, &s.SelectApp, &s.SelectAppByKey, &s.ListApps, &s.InsertKeys, &s.SelectKeys,
		&s.FindCode, &s.UpdateKeys, &s.InsertTempKey, &s.SelectTempKey} {
		*p = d.SQL(*p)
	}
	return s
}

func (d *Dialect) ScanPowerAuthApp(row Row) (storage.PowerAuthApp, error) {
	var a storage.PowerAuthApp
	err := row.Scan(&a.ID, &a.Key, &a.MasterPublic, &a.Sealed, d.Time(&a.CreatedAt))
	return a, d.MapErr(err)
}

func (d *Dialect) ScanPowerAuthKeys(row Row) (storage.PowerAuthKeys, error) {
	var k storage.PowerAuthKeys
	var failed, maxFailed, version int64
	err := row.Scan(&k.ActivationID, &k.AppID, &k.CodeHash, &k.OTPHash, d.Time(&k.CodeExpiresAt), &k.Sealed, &k.ServerPublic,
		&k.CtrData, &k.Counter, &failed, &maxFailed, &version)
	k.FailedAttempts, k.MaxFailedAttempts, k.Version = int(failed), int(maxFailed), int(version)
	return k, d.MapErr(err)
}

// PowerAuthKeysArgs are the InsertKeys arguments.
func (d *Dialect) PowerAuthKeysArgs(k storage.PowerAuthKeys) []any {
	return []any{k.ActivationID, k.AppID, k.CodeHash, k.OTPHash, d.TimeArg(k.CodeExpiresAt), k.Sealed, k.ServerPublic,
		k.CtrData, k.Counter, k.FailedAttempts, k.MaxFailedAttempts, k.Version}
}

// PowerAuthKeysUpdateArgs are the UpdateKeys arguments.
func PowerAuthKeysUpdateArgs(k storage.PowerAuthKeys) []any {
	return []any{k.CodeHash, k.OTPHash, k.Sealed, k.ServerPublic, k.CtrData, k.Counter, k.FailedAttempts, k.MaxFailedAttempts,
		k.ActivationID}
}

func (d *Dialect) ScanPowerAuthTempKey(row Row) (storage.PowerAuthTempKey, error) {
	var k storage.PowerAuthTempKey
	err := row.Scan(&k.ID, &k.AppID, &k.ActivationID, &k.Public, &k.Sealed, d.Time(&k.ExpiresAt))
	return k, d.MapErr(err)
}
