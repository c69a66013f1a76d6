package sqlmap

import "github.com/tokenmanager/tokenmanager/storage"

// --- licensing activity: messages, events, the web API log, metered usage ---

const MessageColumns = `id, vendor, channel, content, created_at`

func (d *Dialect) ScanMessage(row Row) (storage.LicenseMessage, error) {
	var m storage.LicenseMessage
	err := row.Scan(&m.ID, &m.Vendor, &m.Channel, &m.Content, d.Time(&m.Created))
	return m, d.MapErr(err)
}

// ListMessages is the query of a message listing and its arguments; ok is false when none can match.
func (d *Dialect) ListMessages(f storage.MessageFilter) (query string, args []any, ok bool) {
	w := d.Where()
	w.Add("vendor = ?", f.Vendor)
	if f.Channel != "" {
		w.Add("channel = ?", f.Channel)
	}
	if !f.After.IsZero() {
		w.Add("created_at > ?", d.TimeArg(f.After))
	}
	q := `SELECT ` + MessageColumns + ` FROM license_messages` + w.String() + ` ORDER BY created_at DESC, id DESC LIMIT ` + w.Next(LimitOf(f.Limit))
	return q, w.Args, !w.None
}

// InsertMessage and the rest are written with ?; rebind them with Dialect.SQL.
const (
	CountVendorMessages = `SELECT count(*) FROM license_messages WHERE vendor = ?`
	InsertMessage       = `INSERT INTO license_messages (vendor, channel, content, created_at) VALUES (?, ?, ?, ?) RETURNING id`
	DeleteMessage       = `DELETE FROM license_messages WHERE vendor = ? AND id = ?`
	InsertLicenseEvent  = `INSERT INTO license_events (vendor, product_id, key_global_id, machine_code, feature_name, event_name,
		value, currency, metadata, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	InsertWebAPILog = `INSERT INTO license_api_log (vendor, method, product_id, key_prefix, key_hash, machine_code, friendly_name,
		ip, result, state, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	SelectKeyUsage = `SELECT total FROM license_key_usage WHERE key_global_id = ?`
	// AddKeyUsage adds to the total unless that would pass the int64 range (the arguments: key, amount, time,
	// amount, amount, time); no row changed means the bound.
	AddKeyUsage = `INSERT INTO license_key_usage (key_global_id, total, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key_global_id) DO UPDATE SET total = license_key_usage.total + ?, updated_at = ?
		WHERE license_key_usage.total <= 9223372036854775807 - ? RETURNING total`
)

// EventColumns are read with the key's string from its record.
const EventColumns = `e.id, e.vendor, COALESCE(e.product_id, 0), COALESCE(e.key_global_id, 0), COALESCE(k.key, ''), e.machine_code,
	e.feature_name, e.event_name, e.value, e.currency, e.metadata, e.at`

func (d *Dialect) ScanLicenseEvent(row Row) (storage.LicenseEvent, error) {
	var e storage.LicenseEvent
	err := row.Scan(&e.ID, &e.Vendor, &e.ProductID, &e.KeyGlobalID, &e.Key, &e.MachineCode, &e.FeatureName, &e.EventName,
		&e.Value, &e.Currency, &e.Metadata, d.Time(&e.At))
	return e, d.MapErr(err)
}

// ListLicenseEvents is the query of an event listing and its arguments; ok is false when none can match.
func (d *Dialect) ListLicenseEvents(f storage.EventFilter) (query string, args []any, ok bool) {
	w := d.Where()
	w.Add("e.vendor = ?", f.Vendor)
	if f.ProductID != 0 {
		w.Add("e.product_id = ?", f.ProductID)
	}
	if f.KeyGlobalID != 0 {
		w.Add("e.key_global_id = ?", f.KeyGlobalID)
	}
	if f.StartingAfter > 0 {
		w.Add("e.id > ?", f.StartingAfter)
	}
	q := `SELECT ` + EventColumns + ` FROM license_events e LEFT JOIN license_keys k ON k.global_id = e.key_global_id` +
		w.String() + ` ORDER BY e.id LIMIT ` + w.Next(LimitOf(f.Limit))
	return q, w.Args, !w.None
}

const WebAPILogColumns = `id, vendor, method, product_id, key_prefix, key_hash, machine_code, friendly_name, ip, result, state, at`

func (d *Dialect) ScanWebAPILog(row Row) (storage.WebAPILogEntry, error) {
	var e storage.WebAPILogEntry
	err := row.Scan(&e.ID, &e.Vendor, &e.Method, &e.ProductID, &e.Key, &e.KeyHash, &e.MachineCode, &e.FriendlyName, &e.IP,
		&e.Result, &e.State, d.Time(&e.At))
	return e, d.MapErr(err)
}

// ListWebAPILog is the query of a web API log listing and its arguments; ok is false when none can match.
func (d *Dialect) ListWebAPILog(f storage.WebAPILogFilter) (query string, args []any, ok bool) {
	w := d.Where()
	w.Add("vendor = ?", f.Vendor)
	if f.ProductID != 0 {
		w.Add("product_id = ?", f.ProductID)
	}
	if f.KeyHash != nil {
		w.Add("key_hash = ?", f.KeyHash)
	}
	if f.MachineCode != "" {
		w.Add("machine_code = ?", f.MachineCode)
	}
	if f.FriendlyName != "" {
		w.Add("friendly_name = ?", f.FriendlyName)
	}
	order := "id"
	if f.Descending {
		order = "id DESC"
		if f.StartingAfter > 0 {
			w.Add("id < ?", f.StartingAfter)
		}
	} else if f.StartingAfter > 0 {
		w.Add("id > ?", f.StartingAfter)
	}
	if !f.EndingBefore.IsZero() {
		w.Add("at < ?", d.TimeArg(f.EndingBefore))
	}
	q := `SELECT ` + WebAPILogColumns + ` FROM license_api_log` + w.String() + ` ORDER BY ` + order + ` LIMIT ` + w.Next(LimitOf(f.Limit))
	return q, w.Args, !w.None
}

// ActivityTables are the tables PruneLicenseActivity keeps bounded.
var ActivityTables = []string{"license_api_log", "license_events"}
