package cryptolens

import (
	"sort"

	"github.com/tokenmanager/tokenmanager/server/internal/openapi"
)

// Methods lists the method table's paths below /api/ (lower case), sorted.
func Methods() []string {
	out := make([]string, 0, len(methods))
	for name := range methods {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// answers are the success bodies of the most used methods, by method path prefix or full path; the schemas
// come from these very types. Every other method is described by the common envelope.
var answers = map[string]any{
	"key/activate":                         licenseResult{},
	"key/getkey":                           licenseResult{},
	"key/createkey":                        createKeyResult{},
	"key/createtrialkey":                   keyResult{},
	"key/createkeyfromtemplate":            templateKeyResult{},
	"auth/keylock":                         keyLockResult{},
	"product/getkeys":                      keysResult{},
	"product/getproducts":                  productsResult{},
	"customer/addcustomer":                 addCustomerResult{},
	"customer/getcustomers":                customersResult{},
	"customer/getcustomerlicenses":         licenseKeysList{},
	"customer/getcustomerlicensesbysecret": licenseKeysList{},
	"customer/editcustomer":                result{},
	"customer/removecustomer":              result{},
	"data/adddataobject":                   dataIDResult{},
	"data/adddataobjecttokey":              dataIDResult{},
	"data/adddataobjecttomachinecode":      dataIDResult{},
	"data/listdataobjects":                 dataListResult{},
	"data/listdataobjectstokey":            dataListResult{},
	"data/listdataobjectstomachinecode":    dataListResult{},
}

// commonParams are the parameters most methods read; names are matched in any case, and a method reads
// others besides (see docs/licensing.md), which the body schema admits.
func commonParams() openapi.Object {
	return openapi.Object{
		"token":       openapi.Object{"type": "string", "description": "access token (Cryptolens' token parameter)"},
		"ProductId":   openapi.Object{"type": "integer", "description": "the product's id"},
		"Key":         openapi.Object{"type": "string", "description": "the license key (XXXXX-XXXXX-XXXXX-XXXXX)"},
		"MachineCode": openapi.Object{"type": "string", "description": "the device's machine code"},
		"Sign":        openapi.Object{"type": "boolean", "description": "sign the license key (Activate, GetKey)"},
		"SignMethod":  openapi.Object{"type": "integer", "description": "1: the signed license key as a string"},
		"v":           openapi.Object{"type": "integer", "description": "answer version (Activate, GetKey)"},
	}
}

// Describe adds every method of the table to d: GET with query parameters and POST with a form body, both
// answered 200 with {result, message, …} (result 0 on success, 1 with Cryptolens' message on failure), 404
// for a path that is not a method, 429 and 503 with Retry-After.
func Describe(d *openapi.Doc) {
	envelope := d.Component("CryptolensResult", openapi.Object{
		"type":     "object",
		"required": []string{"result"},
		"properties": openapi.Object{
			"result":  openapi.Enum(openapi.Integer(), 0, 1),
			"message": openapi.Object{"type": []any{"string", "null"}},
		},
		"description": "Cryptolens' envelope: result 0 on success, 1 with a message on failure; methods add members.",
	})
	failure := d.Component("CryptolensError", openapi.Object{
		"type":       "object",
		"required":   []string{"result", "message"},
		"properties": openapi.Object{"result": openapi.Enum(openapi.Integer(), 1), "message": openapi.String()},
	})
	names := make([]string, 0, len(answers))
	for name := range answers {
		names = append(names, name)
	}
	sort.Strings(names)
	precise := map[string]openapi.Object{}
	for _, name := range names {
		s := openapi.Schema(answers[name])
		s["properties"].(openapi.Object)["result"] = openapi.Enum(openapi.Integer(), 0)
		precise[name] = openapi.AnyOf(s, failure)
	}
	params := commonParams()
	var query []any
	for _, n := range []string{"token", "ProductId", "Key", "MachineCode", "Sign", "SignMethod", "v"} {
		query = append(query, openapi.Query(n, params[n].(openapi.Object)["description"].(string), params[n].(openapi.Object)))
	}
	form := openapi.Object{"application/x-www-form-urlencoded": openapi.Object{"schema": openapi.Object{
		"type": "object", "properties": params, "additionalProperties": true}}}
	for _, name := range Methods() {
		ok := envelope
		if s, found := precise[name]; found {
			ok = s
		}
		responses := openapi.Object{
			"200": openapi.Response("the answer, or result 1 with Cryptolens' message", ok),
			"429": openapi.Response("too many failed attempts or signed answers; Retry-After", failure),
			"503": openapi.Response("the database is unavailable; Retry-After", failure),
		}
		base := openapi.Object{"tags": []string{"Cryptolens"}, "operationId": "cryptolens_" + opID(name),
			"summary": "Cryptolens Web API 3 method " + name + " (path matched in any case)", "responses": responses}
		get := clone(base)
		get["operationId"] = "get_" + base["operationId"].(string)
		get["parameters"] = query
		d.Add("GET", "/api/"+name, get)
		post := clone(base)
		post["requestBody"] = openapi.Object{"content": form}
		d.Add("POST", "/api/"+name, post)
	}
}

func opID(name string) string {
	b := []byte(name)
	for i, c := range b {
		if c == '/' {
			b[i] = '_'
		}
	}
	return string(b)
}

func clone(o openapi.Object) openapi.Object {
	out := openapi.Object{}
	for k, v := range o {
		out[k] = v
	}
	return out
}
