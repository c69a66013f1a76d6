package licensesoap

import (
	"net/http"
	"strconv"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/soap"
	"github.com/tokenmanager/tokenmanager/storage"
)

// The data-object operations: Cryptolens' data/…ToKey methods, and with machineCode its …ToMachineCode ones.

func (ls *Service) dataOperations() map[string]operation {
	return map[string]operation{
		"listDataObjects":   ls.listDataObjects,
		"addDataObject":     ls.addDataObject,
		"setIntValue":       ls.setIntValue,
		"setStringValue":    ls.setStringValue,
		"incrementIntValue": ls.changeIntValue(true),
		"decrementIntValue": ls.changeIntValue(false),
		"removeDataObject":  ls.removeDataObject,
	}
}

// dataRef reads productId, key and machineCode.
func (a *argReader) dataRef() license.DataRef {
	ref := license.DataRef{Keyed: true, ProductID: a.long("productId", true), Key: a.str("key", true)}
	if mc, ok := a.text(a.env.Body, "machineCode", false); ok {
		ref.OnMachine, ref.MachineCode = true, mc
	}
	return ref
}

// selector reads the object: id, or else name.
func (a *argReader) selector() license.DataSelector {
	return license.DataSelector{Ref: a.dataRef(), ID: a.long("id", false), Name: a.str("name", false)}
}

func writeDataObject(x *xmlWriter, name string, o storage.DataObject) {
	x.open(name)
	x.long("id", o.ID)
	x.elem("name", o.Name)
	x.elem("stringValue", o.StringValue)
	x.long("intValue", o.IntValue)
	x.close(name)
}

func (ls *Service) listDataObjects(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &argReader{env: env}
	ref, contains := args.dataRef(), args.str("contains", false)
	if err := args.err(); err != nil {
		return nil, err
	}
	objs, err := ls.licenses.ListDataObjects(r.Context(), a, ref, contains, false)
	if err != nil {
		return nil, ls.fault(env, err)
	}
	_, op := env.Operation()
	return response{op: op, body: func(x *xmlWriter) {
		for _, o := range objs {
			writeDataObject(x, "return", o)
		}
	}}, nil
}

func (ls *Service) addDataObject(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &argReader{env: env}
	ref := args.dataRef()
	spec := license.DataSpec{Name: args.str("name", false), StringValue: args.str("stringValue", false),
		IntValue: int64(args.int("intValue", false)), CheckForDuplicates: args.boolean("checkForDuplicates")}
	if err := args.err(); err != nil {
		return nil, err
	}
	o, err := ls.licenses.AddDataObject(r.Context(), a, ref, spec)
	ls.auditData(r, a, "data.add", o.ID, ref, err)
	if err != nil {
		return nil, ls.fault(env, err)
	}
	_, op := env.Operation()
	return response{op: op, body: func(x *xmlWriter) { x.long("return", o.ID) }}, nil
}

func (ls *Service) setIntValue(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &argReader{env: env}
	sel, v := args.selector(), int64(args.int("intValue", true))
	if err := args.err(); err != nil {
		return nil, err
	}
	err := ls.licenses.SetIntValue(r.Context(), a, sel, v)
	ls.auditData(r, a, "data.set_int", sel.ID, sel.Ref, err)
	if err != nil {
		return nil, ls.fault(env, err)
	}
	return emptyResponse(env), nil
}

func (ls *Service) setStringValue(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &argReader{env: env}
	sel, v := args.selector(), args.str("stringValue", false)
	if err := args.err(); err != nil {
		return nil, err
	}
	err := ls.licenses.SetStringValue(r.Context(), a, sel, v)
	ls.auditData(r, a, "data.set_string", sel.ID, sel.Ref, err)
	if err != nil {
		return nil, ls.fault(env, err)
	}
	return emptyResponse(env), nil
}

func (ls *Service) changeIntValue(up bool) operation {
	return func(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
		args := &argReader{env: env}
		sel, n := args.selector(), int64(args.int("intValue", true))
		var bound *int64
		if _, ok := args.text(env.Body, "bound", false); ok {
			b := int64(args.int("bound", false))
			bound = &b
		}
		if err := args.err(); err != nil {
			return nil, err
		}
		change, action := ls.licenses.IncrementIntValue, "data.increment"
		if !up {
			change, action = ls.licenses.DecrementIntValue, "data.decrement"
		}
		v, err := change(r.Context(), a, sel, n, bound)
		ls.auditData(r, a, action, sel.ID, sel.Ref, err)
		if err != nil {
			return nil, ls.fault(env, err)
		}
		_, op := env.Operation()
		return response{op: op, body: func(x *xmlWriter) { x.long("return", v) }}, nil
	}
}

func (ls *Service) removeDataObject(r *http.Request, env *soap.Envelope, a *license.Access) (soap.Response, error) {
	args := &argReader{env: env}
	sel := args.selector()
	if err := args.err(); err != nil {
		return nil, err
	}
	err := ls.licenses.RemoveDataObject(r.Context(), a, sel)
	ls.auditData(r, a, "data.remove", sel.ID, sel.Ref, err)
	if err != nil {
		return nil, ls.fault(env, err)
	}
	return emptyResponse(env), nil
}

// auditData records a change of data objects, as the Cryptolens wire does, naming the key by its first block.
func (ls *Service) auditData(r *http.Request, a *license.Access, action string, id int64, ref license.DataRef, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "refused: " + err.Error()
	}
	detail := "product=" + strconv.FormatInt(ref.ProductID, 10) + " key=" + keyPrefix(ref.Key) + "-…"
	if ref.OnMachine {
		detail += " machine=" + strconv.Quote(ref.MachineCode)
	}
	if id != 0 {
		detail += " object=" + strconv.FormatInt(id, 10)
	}
	ls.env.Audit.Record(storage.AuditEvent{Action: action, Outcome: outcome, Actor: a.VendorName(),
		ClientHost: ls.env.Clients.Host(r), Detail: detail})
}

func keyPrefix(key string) string {
	for i, c := range key {
		if c == '-' || i == 5 {
			return key[:i]
		}
	}
	return key
}
