package sqlmap

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Customer settings and end-user accounts (storage.CustomerAccounts), apart from the shared Statements so
// that they stay one block of their own.

const EndUserColumns = `id, vendor, name, email, password_hash, coalesce(customer_id, 0), coalesce(reset_hash, ''), reset_expires_at,
	created_at, updated_at`

func (d *Dialect) ScanEndUser(row Row) (storage.EndUser, error) {
	var u storage.EndUser
	err := row.Scan(&u.ID, &u.Vendor, &u.Name, &u.Email, &u.PasswordHash, &u.CustomerID, &u.ResetHash,
		d.Time(&u.ResetExpiresAt), d.Time(&u.CreatedAt), d.Time(&u.UpdatedAt))
	return u, d.MapErr(err)
}

// CustomerAccountStatements are the shared statements of storage.CustomerAccounts.
type CustomerAccountStatements struct {
	UpdateCustomer, DetachCustomerKeys, DetachCustomerUsers, DeleteCustomerDevices, DeleteCustomer string
	FindCustomerBySecret                                                                           string
	InsertEndUser, SelectEndUser, ListEndUsers, ListCustomerEndUsers, UpdateEndUser, DeleteEndUser string
}

var customerAccounts = CustomerAccountStatements{
	UpdateCustomer: `UPDATE license_customers SET name = ?, email = ?, company = ?, max_devices = ?, notes = ?,
		secret_hash = ?, flags = ? WHERE id = ?`,
	DetachCustomerKeys:    `UPDATE license_keys SET customer_id = NULL WHERE customer_id = ?`,
	DetachCustomerUsers:   `UPDATE license_end_users SET customer_id = NULL WHERE customer_id = ?`,
	DeleteCustomerDevices: `DELETE FROM app_devices WHERE customer_id = ?`,
	DeleteCustomer:        `DELETE FROM license_customers WHERE id = ?`,
	FindCustomerBySecret:  `SELECT ` + CustomerColumns + ` FROM license_customers WHERE vendor = ? AND secret_hash = ?`,

	// The backend appends what returns the new ID, if its database needs that.
	InsertEndUser: `INSERT INTO license_end_users (vendor, name, name_fold, email, password_hash, customer_id,
		reset_hash, reset_expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	SelectEndUser:        `SELECT ` + EndUserColumns + ` FROM license_end_users WHERE vendor = ? AND name_fold = ?`,
	ListEndUsers:         `SELECT ` + EndUserColumns + ` FROM license_end_users WHERE vendor = ? ORDER BY name_fold`,
	ListCustomerEndUsers: `SELECT ` + EndUserColumns + ` FROM license_end_users WHERE vendor = ? AND customer_id = ? ORDER BY name_fold`,
	UpdateEndUser: `UPDATE license_end_users SET email = ?, password_hash = ?, customer_id = ?, reset_hash = ?,
		reset_expires_at = ?, updated_at = ? WHERE id = ?`,
	DeleteEndUser: `DELETE FROM license_end_users WHERE vendor = ? AND name_fold = ?`,
}

// CustomerAccountStatements returns the statements in the dialect's placeholders. A backend calls it once.
func (d *Dialect) CustomerAccountStatements() *CustomerAccountStatements {
	s := customerAccounts
	v := reflect.ValueOf(&s).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if f.String() == "" {
			panic(fmt.Sprintf("sqlmap: statement %s is not set", v.Type().Field(i).Name))
		}
		f.SetString(d.SQL(f.String()))
	}
	return &s
}

// FoldName is how end-user names compare: ignoring ASCII case, the same in every backend.
func FoldName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// CustomerQuery is the SELECT of storage.CustomerQuery with its arguments: the vendor's customers, newest
// first, narrowed by ID and by a search in name, company and e-mail (ignoring ASCII case; LIKE's wildcards in
// the search are taken literally).
func (d *Dialect) CustomerQuery(q storage.CustomerQuery) (string, []any, bool) {
	w := d.Where()
	if q.Vendor != "" || !q.AllVendors {
		w.Add("vendor = ?", q.Vendor)
	}
	if q.BeforeID > 0 {
		w.Add("id < ?", q.BeforeID)
	}
	if q.ID > 0 {
		w.Add("id = ?", q.ID)
	}
	if q.Search != "" {
		r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
		pat := "%" + r.Replace(FoldName(q.Search)) + "%"
		w.Add(`(lower(name) LIKE ? ESCAPE '\' OR lower(company) LIKE ? ESCAPE '\' OR lower(email) LIKE ? ESCAPE '\')`, pat, pat, pat)
	}
	query := `SELECT ` + CustomerColumns + ` FROM license_customers` + w.String() + ` ORDER BY id DESC`
	if q.Limit > 0 {
		query += ` LIMIT ` + w.Next(q.Limit)
	}
	return query, w.Args, w.None
}
