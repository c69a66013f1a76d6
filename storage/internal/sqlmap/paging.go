package sqlmap

import "github.com/tokenmanager/tokenmanager/storage"

// Keyset paging: a page is the rows after the cursor's position in the listing's order, found through the
// order's index and bounded by LIMIT, never by reading and skipping the pages before it.

// pageNewest keeps the rows after a in the order (at DESC, id ASC). The leading bound on at alone lets both
// planners start the index range at the cursor; the OR only filters within it (written as one OR of the two
// cases, SQLite scans the index from its start: ten times slower 20000 rows in).
func (d *Dialect) pageNewest(w *Where, at, id string, a storage.PageAfter) {
	if a.ID != "" {
		t := d.TimeArg(a.At)
		w.Add(at+" <= ? AND ("+at+" < ? OR "+id+" > ?)", t, t, a.ID)
	}
}

// pageOldest keeps the rows after a in the order (at ASC, id ASC), bounded as pageNewest is.
func (d *Dialect) pageOldest(w *Where, at, id string, a storage.PageAfter) {
	if a.ID != "" {
		t := d.TimeArg(a.At)
		w.Add(at+" >= ? AND ("+at+" > ? OR "+id+" > ?)", t, t, a.ID)
	}
}

// PagePowerAuthActivations is the query of a page of activations, oldest first; ok is false when none can match.
func (d *Dialect) PagePowerAuthActivations(f storage.PowerAuthActivationFilter) (query string, args []any, ok bool) {
	w := d.Where()
	if f.User != "" {
		w.Add("user_name = ?", f.User)
	}
	if f.Status != "" {
		w.Add("status = ?", string(f.Status))
	}
	d.pageOldest(w, "created_at", "id", f.After)
	q := `SELECT ` + PowerAuthActivationColumns + ` FROM powerauth_activations` + w.String() +
		` ORDER BY created_at, id LIMIT ` + w.Next(LimitOf(f.Limit))
	return q, w.Args, !w.None
}

// PagePowerAuthTokens is the query of a page of MAC tokens, oldest first; ok is false when none can match.
func (d *Dialect) PagePowerAuthTokens(f storage.PowerAuthTokenFilter) (query string, args []any, ok bool) {
	w := d.Where()
	if f.ActivationID != "" {
		w.Add("activation_id = ?", f.ActivationID)
	}
	if f.User != "" {
		w.Add("activation_id IN (SELECT id FROM powerauth_activations WHERE user_name = ?)", f.User)
	}
	d.pageOldest(w, "created_at", "id", f.After)
	q := `SELECT ` + PowerAuthTokenColumns + ` FROM powerauth_tokens` + w.String() +
		` ORDER BY created_at, id LIMIT ` + w.Next(LimitOf(f.Limit))
	return q, w.Args, !w.None
}

// PageAppDevices is the query of a page of devices in the order of registration; ok is false when none can
// match.
func (d *Dialect) PageAppDevices(f storage.AppDeviceFilter) (query string, args []any, ok bool) {
	w := d.Where()
	if f.User != "" {
		w.Add("d.user_name = ?", f.User)
	}
	if f.Vendor != "" {
		w.Add("c.vendor = ?", f.Vendor)
	}
	if f.AfterMachine != "" {
		t := d.TimeArg(f.AfterAt)
		w.Add(`d.registered_at >= ? AND (d.registered_at > ? OR d.customer_id > ? OR
			(d.customer_id = ? AND d.machine_code > ?))`, t, t, f.AfterCustomer, f.AfterCustomer, f.AfterMachine)
	}
	q := `SELECT ` + AppDeviceColumns + AppDeviceFrom + w.String() +
		` ORDER BY d.registered_at, d.customer_id, d.machine_code LIMIT ` + w.Next(LimitOf(f.Limit))
	return q, w.Args, !w.None
}
