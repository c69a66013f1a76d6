package servertest

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/tokenmanager/tokenmanager/server/manage"
)

// Every request to /admin/v1 that a test sends, and every answer, is checked against the OpenAPI document the
// server publishes, with kin-openapi: an answer the document does not describe fails the test, and so does a
// request the document calls invalid that the server accepted. So the document cannot drift from the handlers.

var openAPI = sync.OnceValues(func() (routers.Router, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(manage.OpenAPI())
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	plain := func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(body)
		return string(b), err
	}
	openapi3filter.RegisterBodyDecoder("application/xml", plain)
	openapi3filter.RegisterBodyDecoder("application/x-pem-file", plain)
	openapi3filter.RegisterBodyDecoder("image/svg+xml", plain)
	return legacy.NewRouter(doc)
})

// OpenAPIRouter is the document's router, for tests that look at the document itself.
func OpenAPIRouter(t testing.TB) routers.Router {
	t.Helper()
	r, err := openAPI()
	if err != nil {
		t.Fatalf("the OpenAPI document: %v", err)
	}
	return r
}

// checkOpenAPI wraps h so that the management API's traffic is validated against the document.
func checkOpenAPI(t testing.TB, h http.Handler) http.Handler {
	router := OpenAPIRouter(t)
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, manage.Path+"/") {
			h.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)

		vr := r.Clone(context.Background())
		vr.Body = io.NopCloser(bytes.NewReader(body))
		route, params, err := router.FindRoute(vr)
		switch {
		case err != nil && rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed:
			t.Errorf("OpenAPI: %s %s answered %d, but the document has no such operation: %v", r.Method, r.URL.Path, rec.Code, err)
		case err == nil:
			in := &openapi3filter.RequestValidationInput{Request: vr, PathParams: params, Route: route, Options: opts}
			if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil && rec.Code < 400 {
				t.Errorf("OpenAPI: %s %s: the server accepted (%d) a request the document calls invalid: %v", r.Method, r.URL, rec.Code, err)
			}
			out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(), Options: opts}
			out.SetBodyBytes(decoded(t, rec))
			if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
				t.Errorf("OpenAPI: %s %s answered %d %s, which the document does not describe: %v", r.Method, r.URL, rec.Code, rec.Body, err)
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}

// decoded is the answer's body, uncompressed when the server compressed it.
func decoded(t testing.TB, rec *httptest.ResponseRecorder) []byte {
	if rec.Header().Get("Content-Encoding") != "gzip" {
		return rec.Body.Bytes()
	}
	zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Errorf("OpenAPI: a gzip answer that does not open: %v", err)
		return nil
	}
	b, _ := io.ReadAll(zr)
	return b
}
