package sqlmap

import (
	"math"

	"github.com/tokenmanager/tokenmanager/storage"
)

// --- data objects ---

const DataObjectColumns = `id, vendor, referencer, referencer_id, machine_code, name, string_value, int_value, created_at`

func (d *Dialect) ScanDataObject(row Row) (storage.DataObject, error) {
	var o storage.DataObject
	var ref int64
	err := row.Scan(&o.ID, &o.Owner.Vendor, &ref, &o.Owner.ID, &o.Owner.MachineCode, &o.Name, &o.StringValue, &o.IntValue,
		d.Time(&o.CreatedAt))
	o.Owner.Type = storage.DataReferencer(ref)
	return o, d.MapErr(err)
}

// DataStatements are the data-object statements both backends run alike.
type DataStatements struct {
	// InsertDataObject: the backend appends what returns the new ID, if its database needs that.
	InsertDataObject, SelectDataObject, FindDataObject, CountDataObjects, CountNamedDataObjects string
	SetDataObjectInt, SetDataObjectString, DeleteDataObject, ExistsDataObject                   string
	// AddDataObjectInt adds the first argument to the value of the object with the second, only if the result
	// lies between the third and the fourth, and returns the new value.
	AddDataObjectInt string
}

const ownerCond = `vendor = ? AND referencer = ? AND referencer_id = ? AND machine_code = ?`

// DataStatements returns the data-object statements in the dialect's placeholders.
func (d *Dialect) DataStatements() *DataStatements {
	return &DataStatements{
		InsertDataObject: d.SQL(`INSERT INTO license_data_objects (vendor, referencer, referencer_id, machine_code, name,
			string_value, int_value, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		SelectDataObject:      d.SQL(`SELECT ` + DataObjectColumns + ` FROM license_data_objects WHERE id = ?`),
		FindDataObject:        d.SQL(`SELECT ` + DataObjectColumns + ` FROM license_data_objects WHERE ` + ownerCond + ` AND name = ? ORDER BY id LIMIT 1`),
		CountDataObjects:      d.SQL(`SELECT count(*) FROM license_data_objects WHERE ` + ownerCond),
		CountNamedDataObjects: d.SQL(`SELECT count(*) FROM license_data_objects WHERE ` + ownerCond + ` AND name = ?`),
		SetDataObjectInt:      d.SQL(`UPDATE license_data_objects SET int_value = ? WHERE id = ?`),
		SetDataObjectString:   d.SQL(`UPDATE license_data_objects SET string_value = ? WHERE id = ?`),
		DeleteDataObject:      d.SQL(`DELETE FROM license_data_objects WHERE id = ?`),
		ExistsDataObject:      d.SQL(`SELECT count(*) FROM license_data_objects WHERE id = ?`),
		AddDataObjectInt: d.SQL(`UPDATE license_data_objects SET int_value = int_value + ?
			WHERE id = ? AND int_value + ? BETWEEN ? AND ? RETURNING int_value`),
	}
}

// OwnerArgs are the arguments of ownerCond.
func OwnerArgs(o storage.DataOwner) []any {
	return []any{o.Vendor, int64(o.Type), o.ID, o.MachineCode}
}

// AddIntArgs are AddDataObjectInt's arguments: the delta, the id, and the range the new value must stay in
// (int32, narrowed by the bound on the side the delta moves towards).
func AddIntArgs(id, delta int64, bound *int64) []any {
	lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
	if bound != nil {
		if delta >= 0 {
			hi = min(hi, *bound)
		} else {
			lo = max(lo, *bound)
		}
	}
	return []any{delta, id, delta, lo, hi}
}

// ListDataObjects is the query of a listing.
func (d *Dialect) ListDataObjects(f storage.DataObjectFilter) (query string, args []any, ok bool) {
	w := d.Where()
	w.Add("vendor = ?", f.Vendor)
	if f.Owner != nil {
		w.Add("referencer = ? AND referencer_id = ? AND machine_code = ?", int64(f.Owner.Type), f.Owner.ID, f.Owner.MachineCode)
	}
	if f.Contains != "" {
		// instr/strpos, not LIKE: a name may hold % and _.
		if d.Numbered {
			w.Add("strpos(name, ?) > 0", f.Contains)
		} else {
			w.Add("instr(name, ?) > 0", f.Contains)
		}
	}
	q := `SELECT ` + DataObjectColumns + ` FROM license_data_objects` + w.String() + ` ORDER BY id LIMIT ` + w.Next(LimitOf(f.Limit))
	return q, w.Args, !w.None
}
