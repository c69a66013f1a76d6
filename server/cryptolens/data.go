package cryptolens

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

// The data/ methods: data objects on the vendor's account, a product, a key or a machine. Each method comes in
// three forms: the general one (objects by Id; Add and List by ReferencerType and ReferencerId), …ToKey
// (ProductId and Key, objects by Id or Name) and …ToMachineCode (the same and MachineCode).

func init() {
	for name, m := range dataMethods {
		methods[name] = m
	}
}

type dataForm int

const (
	general dataForm = iota
	toKey
	toMachine
)

// dataMethod binds a data method to its form.
func dataMethod(perm license.Method, form dataForm, fn func(*API, context.Context, *call, dataForm) (any, error)) struct {
	perm license.Method
	fn   method
} {
	return struct {
		perm license.Method
		fn   method
	}{perm, func(api *API, ctx context.Context, c *call) (any, error) { return fn(api, ctx, c, form) }}
}

var dataMethods = func() map[string]struct {
	perm license.Method
	fn   method
} {
	out := map[string]struct {
		perm license.Method
		fn   method
	}{}
	groups := []struct {
		name string
		perm license.Method
		fn   func(*API, context.Context, *call, dataForm) (any, error)
	}{
		{"adddataobject", license.MethodAddDataObject, (*API).addDataObject},
		{"listdataobjects", license.MethodListDataObjects, (*API).listDataObjects},
		{"removedataobject", license.MethodRemoveDataObject, (*API).removeDataObject},
		{"setintvalue", license.MethodSetIntValue, (*API).setIntValue},
		{"setstringvalue", license.MethodSetStringValue, (*API).setStringValue},
		{"incrementintvalue", license.MethodIncrementIntValue, (*API).incrementIntValue},
		{"decrementintvalue", license.MethodDecrementIntValue, (*API).decrementIntValue},
	}
	for _, g := range groups {
		out["data/"+g.name] = dataMethod(g.perm, general, g.fn)
		out["data/"+g.name+"tokey"] = dataMethod(g.perm, toKey, g.fn)
		out["data/"+g.name+"tomachinecode"] = dataMethod(g.perm, toMachine, g.fn)
	}
	// The permission depends on the values uploaded: Increment and/or Decrement.
	out["data/uploadvaluestokey"] = dataMethod("", toKey, (*API).uploadValues)
	return out
}()

// dataRef reads what a call addresses: ProductId, Key and MachineCode for the keyed forms, ReferencerType and
// ReferencerId (Add and List only) for the general one.
func (c *call) dataRef(form dataForm, referencer bool) license.DataRef {
	switch form {
	case toKey, toMachine:
		ref := license.DataRef{Keyed: true, ProductID: c.productID(), Key: c.required("Key")}
		if form == toMachine {
			ref.OnMachine, ref.MachineCode = true, c.required("MachineCode")
		}
		return ref
	}
	if !referencer {
		return license.DataRef{}
	}
	return license.DataRef{Type: c.referencerType(), ReferencerID: c.int64("ReferencerId", 0)}
}

// referencerType reads ReferencerType: a number, or the .NET SDK's enum name (User, Product, Key).
func (c *call) referencerType() storage.DataReferencer {
	switch v := strings.ToLower(strings.TrimSpace(c.str("ReferencerType"))); v {
	case "", "0", "user":
		return storage.DataOnVendor
	case "1", "product":
		return storage.DataOnProduct
	case "2", "key":
		return storage.DataOnKey
	default:
		c.fail("ReferencerType", v)
		return storage.DataOnVendor
	}
}

// selector reads which object a call changes: Id, or on the keyed forms Name when Id is 0 or absent.
func (c *call) selector(form dataForm) license.DataSelector {
	sel := license.DataSelector{Ref: c.dataRef(form, false), ID: c.int64("Id", 0)}
	if form != general {
		sel.Name = c.str("Name")
	}
	return sel
}

// bound reads EnableBound and Bound.
func (c *call) bound() *int64 {
	if !c.bool("EnableBound") {
		c.int("Bound", 0) // still validated
		return nil
	}
	b := int64(c.int("Bound", 0))
	return &b
}

type dataIDResult struct {
	Result  int    `json:"result"`
	Message string `json:"message"`
	ID      int64  `json:"id"`
}

// dataObject is Cryptolens' DataObject in its answers; with ShowAll it names its referencer too.
type dataObject struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	StringValue    string `json:"stringValue"`
	IntValue       int64  `json:"intValue"`
	ReferencerType *int   `json:"referencerType,omitempty"`
	ReferencerID   *int64 `json:"referencerId,omitempty"`
}

type dataListResult struct {
	Result      int          `json:"result"`
	Message     string       `json:"message"`
	DataObjects []dataObject `json:"dataObjects"`
}

func (api *API) addDataObject(ctx context.Context, c *call, form dataForm) (any, error) {
	ref := c.dataRef(form, true)
	spec := license.DataSpec{Name: c.str("Name"), StringValue: c.str("StringValue"), IntValue: int64(c.int("IntValue", 0)),
		CheckForDuplicates: c.bool("CheckForDuplicates")}
	if c.err != nil {
		return nil, c.err
	}
	o, err := api.License.AddDataObject(ctx, c.access, ref, spec)
	api.auditData(c, "data.add", o.ID, ref, err)
	if err != nil {
		return nil, err
	}
	return dataIDResult{ID: o.ID}, nil
}

func (api *API) listDataObjects(ctx context.Context, c *call, form dataForm) (any, error) {
	ref, contains := c.dataRef(form, true), c.str("Contains")
	all := form == general && c.bool("ShowAll")
	if c.err != nil {
		return nil, c.err
	}
	objs, err := api.License.ListDataObjects(ctx, c.access, ref, contains, all)
	if err != nil {
		return nil, err
	}
	out := dataListResult{DataObjects: make([]dataObject, 0, len(objs))}
	for _, o := range objs {
		d := dataObject{ID: o.ID, Name: o.Name, StringValue: o.StringValue, IntValue: o.IntValue}
		if all {
			t, id := int(o.Owner.Type), o.Owner.ID
			d.ReferencerType, d.ReferencerID = &t, &id
		}
		out.DataObjects = append(out.DataObjects, d)
	}
	return out, nil
}

func (api *API) removeDataObject(ctx context.Context, c *call, form dataForm) (any, error) {
	sel := c.selector(form)
	if c.err != nil {
		return nil, c.err
	}
	err := api.License.RemoveDataObject(ctx, c.access, sel)
	api.auditData(c, "data.remove", sel.ID, sel.Ref, err)
	return result{}, err
}

func (api *API) setIntValue(ctx context.Context, c *call, form dataForm) (any, error) {
	sel, v := c.selector(form), int64(c.int("IntValue", 0))
	if c.err != nil {
		return nil, c.err
	}
	err := api.License.SetIntValue(ctx, c.access, sel, v)
	api.auditData(c, "data.set_int", sel.ID, sel.Ref, err)
	return result{}, err
}

func (api *API) setStringValue(ctx context.Context, c *call, form dataForm) (any, error) {
	sel, v := c.selector(form), c.str("StringValue")
	if c.err != nil {
		return nil, c.err
	}
	err := api.License.SetStringValue(ctx, c.access, sel, v)
	api.auditData(c, "data.set_string", sel.ID, sel.Ref, err)
	return result{}, err
}

func (api *API) incrementIntValue(ctx context.Context, c *call, form dataForm) (any, error) {
	return api.changeIntValue(ctx, c, form, true)
}

func (api *API) decrementIntValue(ctx context.Context, c *call, form dataForm) (any, error) {
	return api.changeIntValue(ctx, c, form, false)
}

func (api *API) changeIntValue(ctx context.Context, c *call, form dataForm, up bool) (any, error) {
	sel, n, bound := c.selector(form), int64(c.int("IntValue", 0)), c.bound()
	if c.err != nil {
		return nil, c.err
	}
	change, action := api.License.IncrementIntValue, "data.increment"
	if !up {
		change, action = api.License.DecrementIntValue, "data.decrement"
	}
	_, err := change(ctx, c.access, sel, n, bound)
	api.auditData(c, action, sel.ID, sel.Ref, err)
	return result{}, err
}

// uploadEntry is one value of UploadValuesToKey's Data: base64 of a JSON array of these. Cryptolens' own log
// format, written by its SDKs' offline usage recording, is not published; this one is documented in docs/licensing.md.
type uploadEntry struct {
	ID       int64  `json:"Id"`
	Name     string `json:"Name"`
	IntValue *int64 `json:"IntValue"`
}

func (api *API) uploadValues(ctx context.Context, c *call, form dataForm) (any, error) {
	ref, data := c.dataRef(form, false), c.required("Data")
	if c.err != nil {
		return nil, c.err
	}
	ups, err := parseUploads(data)
	if err != nil {
		return nil, err
	}
	err = api.License.UploadValues(ctx, c.access, ref, ups)
	api.auditData(c, "data.upload", 0, ref, err)
	return result{}, err
}

func parseUploads(data string) ([]license.DataUpload, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data))
	if err != nil {
		return nil, fmt.Errorf("%w: Data is not base64", license.ErrInvalidInput)
	}
	var entries []uploadEntry
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&entries); err != nil || dec.More() {
		return nil, fmt.Errorf("%w: Data is not a JSON array of values", license.ErrInvalidInput)
	}
	if len(entries) > license.MaxDataUploads {
		return nil, fmt.Errorf("%w: more than %d values", license.ErrInvalidInput, license.MaxDataUploads)
	}
	ups := make([]license.DataUpload, 0, len(entries))
	for i, e := range entries {
		if e.IntValue == nil || (e.ID == 0) == (e.Name == "") {
			return nil, fmt.Errorf("%w: value %d needs an IntValue and either an Id or a Name", license.ErrInvalidInput, i)
		}
		ups = append(ups, license.DataUpload{ID: e.ID, Name: e.Name, Delta: *e.IntValue})
	}
	return ups, nil
}

// auditData records a change of data objects, refused or not, naming the key only by its first block.
func (api *API) auditData(c *call, action string, id int64, ref license.DataRef, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "refused: " + err.Error()
	}
	var target string
	switch {
	case ref.Keyed:
		prefix, _, _ := strings.Cut(ref.Key, "-")
		if len(prefix) > 5 {
			prefix = prefix[:5]
		}
		target = fmt.Sprintf("product=%d key=%s-…", ref.ProductID, prefix)
		if ref.OnMachine {
			target += fmt.Sprintf(" machine=%q", ref.MachineCode)
		}
	default:
		target = "referencer=" + strconv.Itoa(int(ref.Type)) + ":" + strconv.FormatInt(ref.ReferencerID, 10)
	}
	if id != 0 {
		target += " object=" + strconv.FormatInt(id, 10)
	}
	api.env.Audit.Record(storage.AuditEvent{Action: action, Outcome: outcome, Actor: c.access.VendorName(),
		ClientHost: c.clientIP, Detail: target})
}

// dataMessage is the answer to a data-object error; false for the others.
func dataMessage(err error) (string, bool) {
	switch {
	case errors.Is(err, license.ErrDataObjectNotFound):
		return msgNoDataObject, true
	case errors.Is(err, license.ErrDataObjectLimit):
		return msgDataObjectLimit, true
	case errors.Is(err, license.ErrDataObjectExists):
		return msgDataObjectExists, true
	case errors.Is(err, license.ErrDataObjectBound):
		return msgDataObjectBound, true
	}
	return "", false
}

// Messages of the data-object methods. Cryptolens publishes none for these cases; they are in its style.
const (
	msgNoDataObject     = "Could not find the data object."
	msgDataObjectLimit  = "The maximum number of data objects has been reached."
	msgDataObjectExists = "A data object with the same name already exists."
	msgDataObjectBound  = "The new value would pass the bound, or is out of range."
)
