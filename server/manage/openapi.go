package manage

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"sync"
)

// The OpenAPI 3.1 document of /admin/v1, written by hand next to the handlers, one file per resource under
// openapi/: base.json holds the document's head and what every resource shares, each other file the paths of
// one resource and the schemas only they use. The tests validate every request and response of the admin tests
// against the assembled document, and check that every route has a path in it.
//
//go:embed openapi/*.json
var openAPIFiles embed.FS

// OpenAPI returns the assembled document, compact.
func OpenAPI() []byte { return compactDoc() }

var compactDoc = sync.OnceValue(func() []byte {
	b, err := assembleOpenAPI(openAPIFiles)
	if err != nil {
		panic("manage: " + err.Error())
	}
	return b
})

// assembleOpenAPI merges openapi/base.json with the paths and schemas of every other file there. A path or
// schema defined twice is an error rather than a silent overwrite, so two resources cannot shadow each other.
func assembleOpenAPI(files fs.FS) ([]byte, error) {
	var doc map[string]any
	if err := readJSON(files, "openapi/base.json", &doc); err != nil {
		return nil, err
	}
	paths, _ := doc["paths"].(map[string]any)
	components, _ := doc["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	if paths == nil || schemas == nil {
		return nil, fmt.Errorf("openapi/base.json: no paths or components.schemas")
	}
	names, err := fs.Glob(files, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if name == "openapi/base.json" {
			continue
		}
		var part struct {
			Paths      map[string]any `json:"paths"`
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
		}
		if err := readJSON(files, name, &part); err != nil {
			return nil, err
		}
		for k, v := range part.Paths {
			if _, dup := paths[k]; dup {
				return nil, fmt.Errorf("%s: path %s is defined twice", name, k)
			}
			paths[k] = v
		}
		for k, v := range part.Components.Schemas {
			if _, dup := schemas[k]; dup {
				return nil, fmt.Errorf("%s: schema %s is defined twice", name, k)
			}
			schemas[k] = v
		}
	}
	return json.Marshal(doc)
}

func readJSON(files fs.FS, name string, v any) error {
	b, err := fs.ReadFile(files, name)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) {
	b := compactDoc()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}
