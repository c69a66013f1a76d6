package manage_test

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

// TestWooStoreCodesAreTheOperators: a store code is a credential and globally unique, so choosing one would tell
// a vendor whether another store has it (409). Vendor accounts and tokens narrowed to a vendor may not choose
// codes (403, the same answer for a code taken and a code free); the server makes them. The operator may.
func TestWooStoreCodesAreTheOperators(t *testing.T) {
	st := newWooStack(t)
	r := call(t, st.CLStack, "POST", "/woocommerce/stores", `{"vendor":"paul1234","code":"pauls-secret-code"}`, root)
	want(t, "the operator chooses paul1234's code", r, 201)
	paulStore := "/woocommerce/stores/" + fmt.Sprint(r.JSON(t)["id"])
	r = call(t, st.CLStack, "POST", "/woocommerce/stores", `{"name":"mine"}`, simon)
	want(t, "simon0897's store, code made", r, 201)
	simonStore := "/woocommerce/stores/" + fmt.Sprint(r.JSON(t)["id"])
	madeCode := r.JSON(t)["code"].(string)

	narrowed, _ := createToken(t, st.CLStack, root, `{"vendor":"simon0897"}`)
	own, _ := createToken(t, st.CLStack, simon, `{}`)
	for who, h := range map[string]map[string]string{"account": simon, "own token": bearer(own), "operator's narrowed token": bearer(narrowed)} {
		taken := call(t, st.CLStack, "POST", "/woocommerce/stores", `{"code":"pauls-secret-code"}`, h)
		free := call(t, st.CLStack, "POST", "/woocommerce/stores", `{"code":"nobodys-code-yet"}`, h)
		want(t, who+": create with a taken code", taken, 403)
		if taken.Body != free.Body {
			t.Errorf("%s: a taken code answers %s, a free one %s", who, taken.Body, free.Body)
		}
		if _, f := problemOf(t, taken); f != "code" {
			t.Errorf("%s: the refusal is not about code: %s", who, taken.Body)
		}
		taken = call(t, st.CLStack, "PATCH", simonStore, `{"code":"pauls-secret-code"}`, h, "If-Match", "*")
		free = call(t, st.CLStack, "PATCH", simonStore, `{"code":"nobodys-code-yet"}`, h, "If-Match", "*")
		want(t, who+": patch a taken code", taken, 403)
		if taken.Body != free.Body {
			t.Errorf("%s: a taken code answers %s, a free one %s", who, taken.Body, free.Body)
		}
		// Another vendor's store stays invisible, code or not.
		want(t, who+": patch paul1234's code", call(t, st.CLStack, "PATCH", paulStore, `{"name":"x"}`, h, "If-Match", "*"), 404)
		want(t, who+": a new code for paul1234's store", call(t, st.CLStack, "POST", paulStore+"/code", "", h), 404)
	}
	// Nothing was written: simon0897 has one store, still opened by its made code.
	if l, _ := items(t, call(t, st.CLStack, "GET", "/woocommerce/stores?vendor=simon0897", "", root)); len(l) != 1 {
		t.Fatalf("simon0897's stores after refused creates: %v", l)
	}
	if _, err := st.Store.FindWooStore(t.Context(), codeHash(madeCode)); err != nil {
		t.Fatalf("the made code after refused edits: %v", err)
	}

	// A vendor replaces its code with one the server makes, shown once.
	r = call(t, st.CLStack, "POST", simonStore+"/code", "", bearer(own))
	want(t, "new code", r, 200)
	code, _ := r.JSON(t)["code"].(string)
	if len(code) != 43 || code == madeCode || r.Header.Get("ETag") == "" {
		t.Fatalf("new code: %v %s", r.Header, r.Body)
	}
	if _, err := st.Store.FindWooStore(t.Context(), codeHash(madeCode)); err == nil {
		t.Fatal("the replaced code still opens the store")
	}
	if g := call(t, st.CLStack, "GET", simonStore, "", simon); g.JSON(t)["code"] != nil {
		t.Fatalf("the code is shown again: %s", g.Body)
	}
	want(t, "a new code for no store", call(t, st.CLStack, "POST", "/woocommerce/stores/999999/code", "", simon), 404)
	ro, _ := createToken(t, st.CLStack, simon, `{"read_only":true}`)
	want(t, "a new code with a read-only token", call(t, st.CLStack, "POST", simonStore+"/code", "", bearer(ro)), 403)

	// The operator still chooses codes, and a taken one is a conflict for it.
	want(t, "the operator sets simon0897's code", call(t, st.CLStack, "PATCH", simonStore, `{"code":"simons-chosen-code"}`, root, "If-Match", "*"), 200)
	want(t, "the operator takes paul1234's code", call(t, st.CLStack, "PATCH", simonStore, `{"code":"pauls-secret-code"}`, root, "If-Match", "*"), 409)
}

// codeHash is how a store code is kept (its SHA-256), to find the store it opens.
func codeHash(code string) []byte { h := sha256.Sum256([]byte(code)); return h[:] }
