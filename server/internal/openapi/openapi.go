// Package openapi builds the OpenAPI 3.1 description of the service's public JSON surfaces. Each surface
// describes its own routes (Doc.Add) and the schemas of its answers are derived from the Go types the handlers
// encode (Schema), so the document follows the code rather than a hand-kept copy.
package openapi

import (
	"encoding"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"time"
)

// Version is the OpenAPI version the document declares. Schemas use JSON Schema 2020-12 (type arrays with
// "null" for Go pointers and nil slices), which OpenAPI 3.1 adopted.
const Version = "3.1.0"

// Object is a JSON object of the document.
type Object = map[string]any

// Doc is the document under construction.
type Doc struct {
	paths   map[string]Object // path → method (lower case) → operation
	schemas Object            // components/schemas
}

// New returns an empty document.
func New() *Doc { return &Doc{paths: map[string]Object{}, schemas: Object{}} }

// Add describes method (GET, POST, …) on path. A second description of the same operation replaces the first.
func (d *Doc) Add(method, path string, op Object) {
	p := d.paths[path]
	if p == nil {
		p = Object{}
		d.paths[path] = p
	}
	p[strings.ToLower(method)] = op
}

// Paths lists the documented paths, sorted.
func (d *Doc) Paths() []string {
	out := make([]string, 0, len(d.paths))
	for p := range d.paths {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Component names a schema under components/schemas and returns a reference to it.
func (d *Doc) Component(name string, schema Object) Object {
	d.schemas[name] = schema
	return Ref(name)
}

// Ref is a reference to the component schema name.
func Ref(name string) Object { return Object{"$ref": "#/components/schemas/" + name} }

// JSON encodes the document with info, servers-free paths and the components, including the security schemes.
func (d *Doc) JSON(info Object, securitySchemes Object) ([]byte, error) {
	paths := Object{}
	for p, ops := range d.paths {
		paths[p] = ops
	}
	return json.MarshalIndent(Object{
		"openapi":    Version,
		"info":       info,
		"paths":      paths,
		"components": Object{"schemas": d.schemas, "securitySchemes": securitySchemes},
	}, "", "  ")
}

// --- operations ---

// JSONBody is a content map for application/json.
func JSONBody(schema Object) Object {
	return Object{"application/json": Object{"schema": schema}}
}

// Response is a response with a description and, when schema is not nil, a JSON body.
func Response(desc string, schema Object) Object {
	r := Object{"description": desc}
	if schema != nil {
		r["content"] = JSONBody(schema)
	}
	return r
}

// Query is an optional query parameter of the given schema.
func Query(name, desc string, schema Object) Object {
	return Object{"name": name, "in": "query", "description": desc, "schema": schema}
}

// PathParam is a path parameter.
func PathParam(name, desc string, schema Object) Object {
	return Object{"name": name, "in": "path", "required": true, "description": desc, "schema": schema}
}

// Header is an optional request header parameter.
func Header(name, desc string) Object {
	return Object{"name": name, "in": "header", "description": desc, "schema": Object{"type": "string"}}
}

// Cookie is an optional cookie parameter.
func Cookie(name, desc string) Object {
	return Object{"name": name, "in": "cookie", "description": desc, "schema": Object{"type": "string"}}
}

// String, Integer and Boolean are the scalar schemas.
func String() Object  { return Object{"type": "string"} }
func Integer() Object { return Object{"type": "integer"} }
func Boolean() Object { return Object{"type": "boolean"} }

// Enum restricts schema s to values.
func Enum(s Object, values ...any) Object {
	out := Object{}
	for k, v := range s {
		out[k] = v
	}
	out["enum"] = values
	return out
}

// AnyOf is a schema any of which may match.
func AnyOf(schemas ...Object) Object { return Object{"anyOf": schemas} }

// --- schemas from Go types ---

var (
	timeType        = reflect.TypeFor[time.Time]()
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
	numberType      = reflect.TypeFor[json.Number]()
	marshalerType   = reflect.TypeFor[json.Marshaler]()
	textMarshalType = reflect.TypeFor[encoding.TextMarshaler]()
)

// Schema is the JSON Schema of what encoding/json writes for v: objects with the json tags' names, required
// unless omitempty, pointers and nil-able slices and maps nullable. A type with its own MarshalJSON is any value.
func Schema(v any) Object { return schemaOf(reflect.TypeOf(v), 0) }

func schemaOf(t reflect.Type, depth int) Object {
	if t == nil || depth > 12 {
		return Anything()
	}
	switch {
	case t == timeType:
		return Object{"type": "string", "format": "date-time"}
	case t == rawMessageType:
		return Anything()
	case t == numberType:
		return Object{"type": "number"}
	}
	if t.Kind() != reflect.Pointer && (t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType)) {
		return Anything()
	}
	if t.Kind() != reflect.Pointer && t.Implements(textMarshalType) {
		return Object{"type": "string"}
	}
	switch t.Kind() {
	case reflect.Bool:
		return Object{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return Object{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return Object{"type": "number"}
	case reflect.String:
		return Object{"type": "string"}
	case reflect.Interface:
		return Anything()
	case reflect.Pointer:
		return nullable(schemaOf(t.Elem(), depth+1))
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return Object{"type": []any{"string", "null"}, "contentEncoding": "base64"}
		}
		return Object{"type": []any{"array", "null"}, "items": schemaOf(t.Elem(), depth+1)}
	case reflect.Array:
		return Object{"type": "array", "items": schemaOf(t.Elem(), depth+1)}
	case reflect.Map:
		return Object{"type": []any{"object", "null"}, "additionalProperties": schemaOf(t.Elem(), depth+1)}
	case reflect.Struct:
		props, required := Object{}, []string{}
		structFields(t, depth, props, &required)
		s := Object{"type": "object", "properties": props}
		if len(required) > 0 {
			sort.Strings(required)
			s["required"] = required
		}
		return s
	}
	return Anything()
}

// Anything is any JSON value, null included. It lists the types rather than being {}: validators in OpenAPI
// 3.0 mode read a schema without a type as not nullable.
func Anything() Object {
	return Object{"type": []any{"object", "array", "string", "number", "boolean", "null"}}
}

// structFields adds t's encoded fields, flattening embedded structs as encoding/json does (the outer field wins).
func structFields(t reflect.Type, depth int, props Object, required *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				inner, innerReq := Object{}, []string{}
				structFields(ft, depth, inner, &innerReq)
				for k, v := range inner {
					if _, ok := props[k]; !ok {
						props[k] = v
					}
				}
				for _, r := range innerReq {
					if !contains(*required, r) {
						*required = append(*required, r)
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := schemaOf(f.Type, depth+1)
		if strings.Contains(","+opts+",", ",string,") {
			s = Object{"type": "string"}
		}
		props[name] = s
		omit := strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")
		switch {
		case !omit && !contains(*required, name):
			*required = append(*required, name)
		case omit: // an outer omitempty field hides an embedded required one
			*required = remove(*required, name)
		}
	}
}

func remove(list []string, s string) []string {
	out := list[:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// nullable adds null to the schema's types; a schema without a type (any value) already admits null.
func nullable(s Object) Object {
	out := Object{}
	for k, v := range s {
		out[k] = v
	}
	switch t := s["type"].(type) {
	case string:
		out["type"] = []any{t, "null"}
	case []any:
		if !containsAny(t, "null") {
			out["type"] = append(append([]any{}, t...), "null")
		}
	}
	return out
}

func containsAny(list []any, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Input is the schema of a request body decoded into v: encoding/json requires no member, so none is required.
func Input(v any) Object { return withoutRequired(Schema(v)).(Object) }

func withoutRequired(v any) any {
	switch x := v.(type) {
	case Object:
		out := Object{}
		for k, e := range x {
			if k != "required" {
				out[k] = withoutRequired(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = withoutRequired(e)
		}
		return out
	}
	return v
}
