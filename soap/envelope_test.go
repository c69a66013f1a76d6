package soap

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadSeedRequest(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "spectrum", "getAccessExpiringToken.request.xml"))
	if err != nil {
		t.Fatal(err)
	}
	env, err := Read(strings.NewReader(string(b)), "text/xml; charset=utf-8")
	if err != nil {
		t.Fatal(err)
	}
	ns, local := env.Operation()
	if env.Version != V11 || ns != "http://token.security.common.server.platform.spectrum.pb.com/" || local != "getAccessExpiringToken" {
		t.Fatalf("got %v {%s}%s", env.Version, ns, local)
	}
	if v, ok := env.Child("tokenLifeInMinutes"); !ok || v != "60" {
		t.Fatalf("tokenLifeInMinutes = %q, %v", v, ok)
	}
	if env.Header == nil || len(env.Header.ChildElements()) != 0 {
		t.Fatal("empty Header not kept as empty")
	}
}

func TestReadRejectsEntityExpansion(t *testing.T) {
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>` +
		`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><x>&lol2;</x></e:Body></e:Envelope>`
	xxe := `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
		`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><x>&xxe;</x></e:Body></e:Envelope>`
	undeclared := `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><x>&lol;</x></e:Body></e:Envelope>`
	for name, doc := range map[string]string{"billion laughs": laughs, "external entity": xxe, "undeclared entity": undeclared} {
		_, err := Read(strings.NewReader(doc), "text/xml")
		var f *Fault
		if !errors.As(err, &f) || f.Code != CodeClient {
			t.Errorf("%s: %v, want a Client fault", name, err)
		}
	}
}

func FuzzRead(f *testing.F) {
	for _, name := range []string{"getAccessExpiringToken", "getAccessSessionToken", "getAccessToken"} {
		if b, err := os.ReadFile(filepath.Join("..", "testdata", "spectrum", name+".request.xml")); err == nil {
			f.Add(string(b), "text/xml")
		}
	}
	f.Add(`<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><a/></e:Body></e:Envelope>`, "application/soap+xml")
	f.Add(`<!DOCTYPE x><x/>`, "")
	f.Fuzz(func(t *testing.T, doc, contentType string) {
		env, err := Read(strings.NewReader(doc), contentType)
		if err != nil {
			var fault *Fault
			if !errors.As(err, &fault) {
				t.Fatalf("error %v is not a Fault", err)
			}
			return
		}
		if env.Body == nil || (env.Version != V11 && env.Version != V12) {
			t.Fatalf("accepted without a body or version: %+v", env)
		}
	})
}
