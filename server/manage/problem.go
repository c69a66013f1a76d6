package manage

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

// Problem details (RFC 9457): every error of /admin/v1 is an application/problem+json document. type is a
// URI naming the kind of problem (relative to this API, documented in the OpenAPI document); title is the
// same for every problem of that kind, detail says what went wrong this time.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Field names the request body's member the problem is about (its JSON name), so that a form can show
	// the server's error beside the field; absent when the problem is not about one value.
	Field string `json:"field,omitempty"`
}

// problemTypes are the kinds of problem, by status: one kind per status keeps clients simple.
var problemTypes = map[int][2]string{
	http.StatusBadRequest:            {"bad-request", "The request is malformed or a value is invalid"},
	http.StatusUnauthorized:          {"unauthenticated", "Authentication is required"},
	http.StatusForbidden:             {"forbidden", "The account or token may not do this"},
	http.StatusNotFound:              {"not-found", "No such resource"},
	http.StatusMethodNotAllowed:      {"method-not-allowed", "The resource does not allow this method"},
	http.StatusConflict:              {"conflict", "The change conflicts with the resource's state"},
	http.StatusPreconditionFailed:    {"precondition-failed", "The resource changed since it was read"},
	http.StatusPreconditionRequired:  {"precondition-required", "An If-Match header is required"},
	http.StatusRequestEntityTooLarge: {"too-large", "The request body is too large"},
	http.StatusUnsupportedMediaType:  {"unsupported-media-type", "The request body must be JSON"},
	http.StatusTooManyRequests:       {"too-many-requests", "Too many failed sign-ins; retry later"},
	http.StatusInternalServerError:   {"internal", "Internal server error"},
	http.StatusServiceUnavailable:    {"unavailable", "Service temporarily unavailable; retry later"},
}

// ProblemTypeBase prefixes every problem type URI.
const ProblemTypeBase = "/admin/v1/problems/"

// Problem writes an RFC 9457 problem document with status and detail. A 400 whose detail reads
// "member: what is wrong" (the convention of every handler here) is about that member, and says so in field.
func Problem(w http.ResponseWriter, status int, detail string) {
	field := ""
	if status == http.StatusBadRequest {
		field = detailField(detail)
	}
	FieldProblem(w, status, field, detail)
}

// detailField returns the member a "member: what is wrong" detail names, or "" when it names none (or the
// body as a whole).
func detailField(detail string) string {
	name, _, ok := strings.Cut(detail, ": ")
	if !ok || name == "" || name == "body" || len(name) > 64 {
		return ""
	}
	for i, c := range name {
		if !(c >= 'a' && c <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '_' || c == '-')) {
			return ""
		}
	}
	return name
}

// FieldProblem writes a problem document about one member of the request body, named field.
func FieldProblem(w http.ResponseWriter, status int, field, detail string) {
	t, ok := problemTypes[status]
	if !ok {
		t = [2]string{"about:blank", http.StatusText(status)}
	} else {
		t[0] = ProblemTypeBase + t[0]
	}
	body, _ := json.Marshal(problem{Type: t[0], Title: t[1], Status: status, Detail: detail, Field: field})
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// writeJSON writes v as a JSON body of a status answer that no cache may keep.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		panic("manage: JSON: " + err.Error()) // our own response types always marshal
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// errBadBody is readJSON's refusal, with what was wrong.
type errBadBody struct {
	status int
	field  string // the member whose value has the wrong JSON type, when that is what was wrong
	msg    string
}

func (e errBadBody) Error() string { return e.msg }

// readJSON decodes a bounded JSON object body into v, refusing unknown fields (a misspelt field should not
// be silently ignored) and trailing data. The caller answers the error with badBody.
func (a *API) readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, _ := strings.Cut(ct, ";")
		if mt = strings.TrimSpace(strings.ToLower(mt)); mt != "application/json" {
			return errBadBody{status: http.StatusUnsupportedMediaType, msg: "send the body as application/json"}
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, a.env.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errBadBody{status: http.StatusRequestEntityTooLarge, msg: "the body is larger than " + strconv.FormatInt(tooBig.Limit, 10) + " bytes"}
		}
		if errors.Is(err, io.EOF) {
			return errBadBody{status: http.StatusBadRequest, msg: "a JSON object body is required"}
		}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return errBadBody{http.StatusBadRequest, typeErr.Field, typeErr.Field + ": must be " + jsonKind(typeErr.Type.Kind())}
		}
		return errBadBody{status: http.StatusBadRequest, msg: "body: " + err.Error()}
	}
	if dec.More() {
		return errBadBody{status: http.StatusBadRequest, msg: "body: one JSON object only"}
	}
	return nil
}

func badBody(w http.ResponseWriter, err error) {
	var b errBadBody
	if errors.As(err, &b) {
		FieldProblem(w, b.status, b.field, b.msg)
		return
	}
	Problem(w, http.StatusBadRequest, err.Error())
}

// jsonKind names the JSON type a Go kind is decoded from, for a message a form can show as it is.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	default:
		return "an object"
	}
}
