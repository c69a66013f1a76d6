package manage

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
)

// The OpenAPI 3.1 document of /admin/v1, written by hand next to the handlers; the tests validate every request
// and response of the admin tests against it, and check that every route has a path in it.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the document.
func OpenAPI() []byte { return openAPIDoc }

var compactDoc = sync.OnceValue(func() []byte {
	var v any
	if err := json.Unmarshal(openAPIDoc, &v); err != nil {
		panic("manage: openapi.json: " + err.Error())
	}
	b, _ := json.Marshal(v)
	return b
})

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) {
	b := compactDoc()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}
