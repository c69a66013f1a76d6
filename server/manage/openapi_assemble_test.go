package manage

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestAssembleOpenAPIRefusesDuplicates: two resource files defining one path or one schema is an error, not
// a silent overwrite of the first.
func TestAssembleOpenAPIRefusesDuplicates(t *testing.T) {
	base := `{"openapi":"3.1.0","paths":{"/admin/v1/me":{}},"components":{"schemas":{"Problem":{}}}}`
	for name, part := range map[string]string{
		"path":   `{"paths":{"/admin/v1/me":{}}}`,
		"schema": `{"paths":{},"components":{"schemas":{"Problem":{}}}}`,
	} {
		files := fstest.MapFS{
			"openapi/base.json": {Data: []byte(base)},
			"openapi/x.json":    {Data: []byte(part)},
		}
		if _, err := assembleOpenAPI(files); err == nil || !strings.Contains(err.Error(), "defined twice") {
			t.Errorf("duplicate %s: err = %v, want defined twice", name, err)
		}
	}
	files := fstest.MapFS{
		"openapi/base.json": {Data: []byte(base)},
		"openapi/x.json":    {Data: []byte(`{"paths":{"/admin/v1/x":{}},"components":{"schemas":{"X":{}}}}`)},
	}
	doc, err := assembleOpenAPI(files)
	if err != nil || !strings.Contains(string(doc), `"/admin/v1/x"`) || !strings.Contains(string(doc), `"X"`) {
		t.Fatalf("assembled %s, %v", doc, err)
	}
}
