package manage_test

import "testing"

// TestProblemNamesTheField: a 400 about one member of the body names it in field, for a form to show the
// error beside it; a type error names the member too; a problem about the body as a whole names none.
func TestProblemNamesTheField(t *testing.T) {
	st := newStack(t)
	for body, field := range map[string]string{
		`{"name":"a:b","password":"long enough"}`: "name",
		`{"name":"dave","password":"short"}`:      "password",
		`{"name":"dave","password":7}`:            "password",
		`[1,2]`:                                   "",
	} {
		r := call(t, st, "POST", "/users", body, root)
		want(t, body, r, 400)
		if got, _ := r.JSON(t)["field"].(string); got != field {
			t.Errorf("%s: field %q, want %q (%s)", body, got, field, r.Body)
		}
	}
}
