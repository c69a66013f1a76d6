package cryptolens

import (
	"net/url"
	"strings"
	"testing"
)

func TestParseCryptolensParams(t *testing.T) {
	p, err := ParseParams("Token=a%2Bb&ProductId=3&key=K&Key=second", "token=query&SIGN=True&empty=")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"token": "a+b", "productid": "3", "key": "K", "sign": "True", "empty": ""}
	if len(p) != len(want) {
		t.Fatalf("got %v, want %v", p, want)
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %q, want %q (first value wins, body before query)", k, p[k], v)
		}
	}
	for name, src := range map[string]string{
		"too many":   strings.Repeat("a=1&", maxParams+1),
		"long name":  strings.Repeat("n", maxNameLen+1) + "=v",
		"long value": "v=" + strings.Repeat("x", maxValueLen+1),
		"bad escape": "v=%zz",
		"no name":    "=v",
	} {
		if _, err := ParseParams(src); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzCryptolensParams: any input is either refused or decoded within the bounds, never a panic, and a
// well-formed encoding of what came out decodes to the same.
func FuzzCryptolensParams(f *testing.F) {
	for _, s := range []string{
		"token=WyIxIiwiYWJjIl0%3D&ProductId=3&Key=AAAAA-BBBBB-CCCCC-DDDDD&MachineCode=m&Sign=True&SignMethod=1",
		"key=a&KEY=b&Key=c", "a=%41%42&b=+x+", "&&&=", "a=%", "x=" + strings.Repeat("y", 300), "ProductId=1;Key=2",
	} {
		f.Add(s, "v=1&modelversion=3")
	}
	f.Fuzz(func(t *testing.T, body, query string) {
		p, err := ParseParams(body, query)
		if err != nil {
			return
		}
		if len(p) > maxParams {
			t.Fatalf("%d parameters", len(p))
		}
		enc := url.Values{}
		for k, v := range p {
			if k == "" || len(k) > maxNameLen || len(v) > maxValueLen || k != asciiLower(k) {
				t.Fatalf("out of bounds: %q=%q", k, v)
			}
			enc.Set(k, v)
		}
		again, err := ParseParams(enc.Encode())
		if err != nil || len(again) != len(p) {
			t.Fatalf("re-encoded %q: %v, %v", enc.Encode(), again, err)
		}
		for k, v := range p {
			if again[k] != v {
				t.Fatalf("%s: %q became %q", k, v, again[k])
			}
		}
	})
}
