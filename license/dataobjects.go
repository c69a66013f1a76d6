package license

import (
	"context"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Data objects: named values, an int32 and a string, that a vendor attaches to its account, a product, a license
// key or one machine activated on a key (Cryptolens' data objects: usage counters, more than eight features).
// The key's own objects travel in its license (Activate, GetKey), signed with it.

// Errors of the data-object methods.
var (
	// ErrDataObjectNotFound: no such data object, or it is another vendor's or attached elsewhere.
	ErrDataObjectNotFound = errors.New("license: data object not found")
	// ErrDataObjectLimit: the referencer already has MaxDataObjects objects.
	ErrDataObjectLimit = errors.New("license: too many data objects")
	// ErrDataObjectExists: CheckForDuplicates found an object with the same name.
	ErrDataObjectExists = errors.New("license: a data object with this name exists")
	// ErrDataObjectBound: an increment or decrement would pass its bound or leave the int32 range.
	ErrDataObjectBound = errors.New("license: the change would pass the bound")
)

// Bounds on data objects. Name and string lengths are Cryptolens' documented ones, in characters.
const (
	MaxDataObjectNameLen   = 100
	MaxDataObjectStringLen = 10_000
	// MaxDataObjects is how many objects one referencer (the account, a product, a key, a machine) may hold: a
	// key's objects travel in every license answer.
	MaxDataObjects = 100
	// MaxDataUploads bounds the changes of one UploadValuesToKey call (Cryptolens' limit of log entries).
	MaxDataUploads = 1000
)

// dataStore is what the data-object methods need from storage beyond Licensing.
type dataStore interface {
	storage.DataObjects
	GetLicenseKeyByGlobalID(ctx context.Context, globalID int64) (storage.LicenseKey, error)
}

// DataRef names what a data-object call addresses. The …ToKey and …ToMachineCode methods name a key (Keyed):
// ProductID and Key, and with OnMachine a MachineCode on it. The general methods name a referencer: Type with
// ReferencerID (0 for the vendor's account, a product's ID, or a key's GlobalID).
type DataRef struct {
	Keyed       bool
	ProductID   int64
	Key         string
	OnMachine   bool
	MachineCode string

	Type         storage.DataReferencer
	ReferencerID int64
}

// DataSelector picks one data object: by ID, or (keyed forms only) by Name when ID is 0.
type DataSelector struct {
	Ref  DataRef
	ID   int64
	Name string
}

// DataSpec is a new data object.
type DataSpec struct {
	Name               string
	StringValue        string
	IntValue           int64
	CheckForDuplicates bool
}

// DataUpload is one change of UploadValuesToKey: Delta added to the key's object with this ID, or this Name.
type DataUpload struct {
	ID    int64
	Name  string
	Delta int64
}

func checkDataName(name string) error {
	if utf8.RuneCountInString(name) > MaxDataObjectNameLen {
		return invalid("a data object name is longer than %d characters", MaxDataObjectNameLen)
	}
	return CheckText("data object name", name, MaxDataObjectNameLen*utf8.UTFMax)
}

func checkDataString(v string) error {
	if utf8.RuneCountInString(v) > MaxDataObjectStringLen {
		return invalid("a string value is longer than %d characters", MaxDataObjectStringLen)
	}
	return checkLines("string value", v, MaxDataObjectStringLen*utf8.UTFMax)
}

func checkInt32(what string, v int64) error {
	if v < math.MinInt32 || v > math.MaxInt32 {
		return invalid("%s %d is not an int32", what, v)
	}
	return nil
}

// owner resolves ref to the storage owner it names, checking that the access reaches it. key is set for the
// keyed forms.
func (s *Service) owner(ctx context.Context, a *Access, ref DataRef) (storage.DataOwner, *storage.LicenseKey, error) {
	if ref.Keyed {
		p, err := s.product(ctx, a, ref.ProductID)
		if err != nil {
			return storage.DataOwner{}, nil, err
		}
		k, err := s.getKey(ctx, p.ID, ref.Key)
		if err != nil {
			return storage.DataOwner{}, nil, err
		}
		if err := a.keyAllowed(k); err != nil {
			return storage.DataOwner{}, nil, err
		}
		o := storage.DataOwner{Vendor: p.Vendor, Type: storage.DataOnKey, ID: k.GlobalID}
		if ref.OnMachine {
			if ref.MachineCode == "" {
				return storage.DataOwner{}, nil, invalid("no machine code given")
			}
			if err := CheckText("machine code", ref.MachineCode, MaxMachineCodeLen); err != nil {
				return storage.DataOwner{}, nil, err
			}
			o.Type, o.MachineCode = storage.DataOnMachine, ref.MachineCode
		}
		return o, &k, nil
	}
	switch ref.Type {
	case storage.DataOnVendor:
		if a.vendor == "" {
			return storage.DataOwner{}, nil, invalid("the operator has no account of its own to attach data objects to")
		}
		if a.token.ProductLock != 0 || a.keyLock() > 0 {
			return storage.DataOwner{}, nil, fmt.Errorf("%w: token %d is locked to a product or key", ErrAccessDenied, a.tokenID)
		}
		return storage.DataOwner{Vendor: a.vendor, Type: storage.DataOnVendor}, nil, nil
	case storage.DataOnProduct:
		if a.keyLock() > 0 {
			return storage.DataOwner{}, nil, fmt.Errorf("%w: token %d is locked to key %d", ErrAccessDenied, a.tokenID, a.token.KeyLock)
		}
		p, err := s.product(ctx, a, ref.ReferencerID)
		if err != nil {
			return storage.DataOwner{}, nil, err
		}
		return storage.DataOwner{Vendor: p.Vendor, Type: storage.DataOnProduct, ID: p.ID}, nil, nil
	case storage.DataOnKey:
		p, k, err := s.keyByGlobalID(ctx, a, ref.ReferencerID)
		if err != nil {
			return storage.DataOwner{}, nil, err
		}
		return storage.DataOwner{Vendor: p.Vendor, Type: storage.DataOnKey, ID: k.GlobalID}, &k, nil
	}
	return storage.DataOwner{}, nil, invalid("ReferencerType %d", ref.Type)
}

// keyByGlobalID reads a key by its GlobalID through the access's product and key locks. Another vendor's key
// is not found, as an absent one.
func (s *Service) keyByGlobalID(ctx context.Context, a *Access, id int64) (storage.Product, storage.LicenseKey, error) {
	if id <= 0 {
		return storage.Product{}, storage.LicenseKey{}, invalid("key id %d", id)
	}
	k, err := s.store.GetLicenseKeyByGlobalID(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Product{}, storage.LicenseKey{}, ErrKeyNotFound
	}
	if err != nil {
		return storage.Product{}, storage.LicenseKey{}, err
	}
	p, err := s.product(ctx, a, k.ProductID)
	if errors.Is(err, ErrProductNotFound) {
		return storage.Product{}, storage.LicenseKey{}, ErrKeyNotFound
	} else if err != nil {
		return storage.Product{}, storage.LicenseKey{}, err
	}
	return p, k, a.keyAllowed(k)
}

// reach checks that the access reaches an object found by ID through a general method.
func (s *Service) reach(ctx context.Context, a *Access, o storage.DataObject) error {
	if a.vendor != "" && o.Owner.Vendor != a.vendor {
		return ErrDataObjectNotFound
	}
	switch o.Owner.Type {
	case storage.DataOnVendor, storage.DataOnProduct:
		_, _, err := s.owner(ctx, a, DataRef{Type: o.Owner.Type, ReferencerID: o.Owner.ID})
		if errors.Is(err, ErrProductNotFound) {
			return ErrDataObjectNotFound
		}
		return err
	default:
		_, _, err := s.keyByGlobalID(ctx, a, o.Owner.ID)
		if errors.Is(err, ErrKeyNotFound) {
			return ErrDataObjectNotFound
		}
		return err
	}
}

// pickData finds the object sel names and checks that the access reaches it.
func (s *Service) pickData(ctx context.Context, a *Access, sel DataSelector) (storage.DataObject, error) {
	if sel.ID < 0 {
		return storage.DataObject{}, invalid("data object id %d", sel.ID)
	}
	if !sel.Ref.Keyed {
		if sel.ID == 0 {
			return storage.DataObject{}, invalid("no data object id given")
		}
		o, err := s.store.GetDataObject(ctx, sel.ID)
		if errors.Is(err, storage.ErrNotFound) {
			return storage.DataObject{}, ErrDataObjectNotFound
		}
		if err != nil {
			return storage.DataObject{}, err
		}
		return o, s.reach(ctx, a, o)
	}
	owner, _, err := s.owner(ctx, a, sel.Ref)
	if err != nil {
		return storage.DataObject{}, err
	}
	var o storage.DataObject
	switch {
	case sel.ID > 0:
		if o, err = s.store.GetDataObject(ctx, sel.ID); err == nil && o.Owner != owner {
			err = storage.ErrNotFound
		}
	case sel.Name != "":
		if err := checkDataName(sel.Name); err != nil {
			return storage.DataObject{}, err
		}
		o, err = s.store.FindDataObject(ctx, owner, sel.Name)
	default:
		return storage.DataObject{}, invalid("neither a data object id nor a name given")
	}
	if errors.Is(err, storage.ErrNotFound) {
		return storage.DataObject{}, ErrDataObjectNotFound
	}
	return o, err
}

// AddDataObject attaches a new object to what ref names. A machine must be activated on the key.
func (s *Service) AddDataObject(ctx context.Context, a *Access, ref DataRef, spec DataSpec) (storage.DataObject, error) {
	if err := a.allow(MethodAddDataObject); err != nil {
		return storage.DataObject{}, err
	}
	if err := checkDataName(spec.Name); err != nil {
		return storage.DataObject{}, err
	}
	if err := checkDataString(spec.StringValue); err != nil {
		return storage.DataObject{}, err
	}
	if err := checkInt32("IntValue", spec.IntValue); err != nil {
		return storage.DataObject{}, err
	}
	owner, k, err := s.owner(ctx, a, ref)
	if err != nil {
		return storage.DataObject{}, err
	}
	if owner.Type == storage.DataOnMachine {
		acts, err := s.store.ListActivations(ctx, k.GlobalID)
		if err != nil {
			return storage.DataObject{}, err
		}
		found := false
		for _, x := range acts {
			found = found || x.MachineCode == owner.MachineCode
		}
		if !found {
			return storage.DataObject{}, ErrNotActivated
		}
	}
	o, err := s.store.AddDataObject(ctx, storage.DataObject{Owner: owner, Name: spec.Name, StringValue: spec.StringValue,
		IntValue: spec.IntValue, CreatedAt: s.now()}, MaxDataObjects, spec.CheckForDuplicates)
	switch {
	case errors.Is(err, storage.ErrDataObjectLimit):
		return storage.DataObject{}, fmt.Errorf("%w: at most %d", ErrDataObjectLimit, MaxDataObjects)
	case errors.Is(err, storage.ErrConflict):
		return storage.DataObject{}, fmt.Errorf("%w: %q", ErrDataObjectExists, spec.Name)
	}
	return o, err
}

// ListDataObjects lists the objects attached to what ref names whose name contains contains. With all (the
// general method's ShowAll) it lists every object of the vendor instead, which a token locked to a product or a
// key may not do.
func (s *Service) ListDataObjects(ctx context.Context, a *Access, ref DataRef, contains string, all bool) ([]storage.DataObject, error) {
	if err := a.allow(MethodListDataObjects); err != nil {
		return nil, err
	}
	if err := checkDataName(contains); err != nil {
		return nil, err
	}
	f := storage.DataObjectFilter{Contains: contains, Limit: MaxDataObjects}
	if all && !ref.Keyed {
		if a.vendor == "" {
			return nil, invalid("ShowAll lists one vendor's objects")
		}
		if a.token.ProductLock != 0 || a.keyLock() > 0 {
			return nil, fmt.Errorf("%w: token %d is locked to a product or key", ErrAccessDenied, a.tokenID)
		}
		f.Vendor, f.Limit = a.vendor, 0
		return s.store.ListDataObjects(ctx, f)
	}
	owner, _, err := s.owner(ctx, a, ref)
	if err != nil {
		return nil, err
	}
	f.Vendor, f.Owner = owner.Vendor, &owner
	return s.store.ListDataObjects(ctx, f)
}

// RemoveDataObject deletes the object sel names.
func (s *Service) RemoveDataObject(ctx context.Context, a *Access, sel DataSelector) error {
	if err := a.allow(MethodRemoveDataObject); err != nil {
		return err
	}
	o, err := s.pickData(ctx, a, sel)
	if err != nil {
		return err
	}
	return notFoundAsData(s.store.RemoveDataObject(ctx, o.ID))
}

// SetIntValue sets the object's int value.
func (s *Service) SetIntValue(ctx context.Context, a *Access, sel DataSelector, v int64) error {
	if err := a.allow(MethodSetIntValue); err != nil {
		return err
	}
	if err := checkInt32("IntValue", v); err != nil {
		return err
	}
	o, err := s.pickData(ctx, a, sel)
	if err != nil {
		return err
	}
	return notFoundAsData(s.store.SetDataObjectInt(ctx, o.ID, v))
}

// SetStringValue sets the object's string value.
func (s *Service) SetStringValue(ctx context.Context, a *Access, sel DataSelector, v string) error {
	if err := a.allow(MethodSetStringValue); err != nil {
		return err
	}
	if err := checkDataString(v); err != nil {
		return err
	}
	o, err := s.pickData(ctx, a, sel)
	if err != nil {
		return err
	}
	return notFoundAsData(s.store.SetDataObjectString(ctx, o.ID, v))
}

// IncrementIntValue adds |n| to the object's int value, atomically. With bound set the result may not exceed
// *bound (Cryptolens' EnableBound/Bound); the result may never leave int32. Returns the new value.
func (s *Service) IncrementIntValue(ctx context.Context, a *Access, sel DataSelector, n int64, bound *int64) (int64, error) {
	return s.changeInt(ctx, a, MethodIncrementIntValue, sel, n, bound)
}

// DecrementIntValue subtracts |n| from the object's int value, atomically; with bound set the result may not
// fall below *bound. Returns the new value.
func (s *Service) DecrementIntValue(ctx context.Context, a *Access, sel DataSelector, n int64, bound *int64) (int64, error) {
	return s.changeInt(ctx, a, MethodDecrementIntValue, sel, n, bound)
}

func (s *Service) changeInt(ctx context.Context, a *Access, m Method, sel DataSelector, n int64, bound *int64) (int64, error) {
	if err := a.allow(m); err != nil {
		return 0, err
	}
	if err := checkInt32("IntValue", n); err != nil {
		return 0, err
	}
	if bound != nil {
		if err := checkInt32("Bound", *bound); err != nil {
			return 0, err
		}
	}
	// Cryptolens reads the value as unsigned ("10 = -10"): the method says which way it goes.
	if n < 0 {
		n = -n
	}
	if err := a.stepAllowed(n); err != nil {
		return 0, err
	}
	if m == MethodDecrementIntValue {
		n = -n
	}
	o, err := s.pickData(ctx, a, sel)
	if err != nil {
		return 0, err
	}
	v, err := s.store.AddDataObjectInt(ctx, o.ID, n, bound)
	if errors.Is(err, storage.ErrOutOfRange) {
		return 0, fmt.Errorf("%w: object %d by %d", ErrDataObjectBound, o.ID, n)
	}
	return v, notFoundAsData(err)
}

// stepAllowed applies Cryptolens' rule that a token's feature lock, when set, bounds how much one increment or
// decrement may change a value.
func (a *Access) stepAllowed(n int64) error {
	if fl := a.token.FeatureLock; fl > 0 && n > fl {
		return fmt.Errorf("%w: token %d may change a value by at most %d", ErrAccessDenied, a.tokenID, fl)
	}
	return nil
}

// UploadValues applies changes to a key's objects in one transaction: all or none. A positive Delta needs the
// IncrementIntValue permission, a negative one DecrementIntValue.
func (s *Service) UploadValues(ctx context.Context, a *Access, ref DataRef, ups []DataUpload) error {
	if !ref.Keyed || ref.OnMachine {
		return invalid("values are uploaded to a key")
	}
	if len(ups) == 0 || len(ups) > MaxDataUploads {
		return invalid("%d values; 1 to %d may be uploaded at once", len(ups), MaxDataUploads)
	}
	for _, u := range ups {
		m := MethodIncrementIntValue
		if u.Delta < 0 {
			m = MethodDecrementIntValue
		}
		if err := a.allow(m); err != nil {
			return err
		}
		if err := checkInt32("IntValue", u.Delta); err != nil {
			return err
		}
		if err := a.stepAllowed(max(u.Delta, -u.Delta)); err != nil {
			return err
		}
	}
	owner, _, err := s.owner(ctx, a, ref)
	if err != nil {
		return err
	}
	deltas := make([]storage.DataDelta, 0, len(ups))
	byName := map[string]int64{}
	for _, u := range ups {
		id := u.ID
		if id == 0 {
			if id = byName[u.Name]; id == 0 {
				if err := checkDataName(u.Name); err != nil {
					return err
				}
				o, err := s.store.FindDataObject(ctx, owner, u.Name)
				if err != nil {
					return fmt.Errorf("%w: %q", notFoundAsData(err), u.Name)
				}
				id, byName[u.Name] = o.ID, o.ID
			}
		} else if o, err := s.store.GetDataObject(ctx, id); errors.Is(err, storage.ErrNotFound) || (err == nil && o.Owner != owner) {
			return fmt.Errorf("%w: %d", ErrDataObjectNotFound, id)
		} else if err != nil {
			return err
		}
		deltas = append(deltas, storage.DataDelta{ID: id, Delta: u.Delta})
	}
	err = s.store.AddDataObjectInts(ctx, deltas)
	if errors.Is(err, storage.ErrOutOfRange) {
		return fmt.Errorf("%w: an uploaded value would leave the int32 range", ErrDataObjectBound)
	}
	return notFoundAsData(err)
}

func notFoundAsData(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return ErrDataObjectNotFound
	}
	return err
}

// withDataObjects adds the key's own data objects to a license, unless the mask hides them.
func (s *Service) withDataObjects(ctx context.Context, l License) (License, error) {
	if l.Hidden.Has(HideDataObjects) {
		return l, nil
	}
	owner := storage.DataOwner{Vendor: l.Product.Vendor, Type: storage.DataOnKey, ID: l.Key.GlobalID}
	objs, err := s.store.ListDataObjects(ctx, storage.DataObjectFilter{Vendor: owner.Vendor, Owner: &owner, Limit: MaxDataObjects})
	if err != nil {
		return License{}, err
	}
	l.DataObjects = objs
	return l, nil
}
