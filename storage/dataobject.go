package storage

import (
	"context"
	"errors"
	"time"
)

// Data objects: named values (an int32 and a string) a vendor attaches to its account, a product, a license key
// or one machine activated on a key (Cryptolens' "data objects", used as usage counters and extra features).

// ErrOutOfRange: an increment or decrement that would cross its bound, or leave the int32 range; nothing was
// changed.
var ErrOutOfRange = errors.New("storage: value out of range")

// ErrDataObjectLimit: the referencer already has as many data objects as it may.
var ErrDataObjectLimit = errors.New("storage: too many data objects")

// DataReferencer is what a data object is attached to; the values are Cryptolens' ReferencerType.
type DataReferencer int

const (
	DataOnVendor  DataReferencer = 0 // the vendor's account (Cryptolens' "User")
	DataOnProduct DataReferencer = 1
	DataOnKey     DataReferencer = 2
	DataOnMachine DataReferencer = 3 // a machine code on a key
)

// DataOwner names what a data object is attached to.
type DataOwner struct {
	Vendor string
	Type   DataReferencer
	// ID is 0 for the vendor, the product's ID, or the key's GlobalID (for a key and for a machine on it).
	ID          int64
	MachineCode string // only for DataOnMachine
}

// DataObject is one named value.
type DataObject struct {
	ID          int64 // assigned by the store, unique across vendors
	Owner       DataOwner
	Name        string
	StringValue string
	IntValue    int64 // within the int32 range
	CreatedAt   time.Time
}

// DataObjectFilter selects data objects of one vendor.
type DataObjectFilter struct {
	Vendor string
	// Owner, if set, selects the objects attached to it; nil selects every object of the vendor.
	Owner *DataOwner
	// Contains selects the objects whose name contains it (case-sensitive); "" selects all.
	Contains string
	Limit    int // at most this many, by ID (0: 1000)
}

// DataDelta is one change of an UploadDataObjectDeltas batch.
type DataDelta struct {
	ID    int64
	Delta int64
}

// DataObjects stores data objects.
type DataObjects interface {
	// AddDataObject stores o with a new ID. With max > 0 it refuses (ErrDataObjectLimit) when o's owner already
	// has max objects; with unique it refuses (ErrConflict) when the owner has an object with o's name. The count,
	// the check and the insert are atomic: racing adds never exceed max nor add a name twice. ErrNotFound if the
	// vendor does not exist.
	AddDataObject(ctx context.Context, o DataObject, max int, unique bool) (DataObject, error)
	// GetDataObject returns the object or ErrNotFound.
	GetDataObject(ctx context.Context, id int64) (DataObject, error)
	// FindDataObject returns the owner's object with this name (the oldest, if there are several) or ErrNotFound.
	FindDataObject(ctx context.Context, owner DataOwner, name string) (DataObject, error)
	// ListDataObjects returns the objects f selects, ordered by ID.
	ListDataObjects(ctx context.Context, f DataObjectFilter) ([]DataObject, error)
	// SetDataObjectInt sets the IntValue (within the int32 range); ErrNotFound if absent.
	SetDataObjectInt(ctx context.Context, id int64, v int64) error
	// SetDataObjectString sets the StringValue; ErrNotFound if absent.
	SetDataObjectString(ctx context.Context, id int64, v string) error
	// AddDataObjectInt adds delta to the IntValue in one atomic statement and returns the new value: racing calls
	// never lose one another's change. It refuses with ErrOutOfRange, changing nothing, when the result would
	// leave the int32 range or, with bound set, pass *bound (above it for a positive delta, below it for a
	// negative one). ErrNotFound if absent.
	AddDataObjectInt(ctx context.Context, id int64, delta int64, bound *int64) (int64, error)
	// AddDataObjectInts applies every delta in one transaction, each as AddDataObjectInt without a bound: all
	// or none (ErrOutOfRange or ErrNotFound for the first that cannot be applied).
	AddDataObjectInts(ctx context.Context, deltas []DataDelta) error
	// RemoveDataObject deletes the object; ErrNotFound if absent.
	RemoveDataObject(ctx context.Context, id int64) error
}
