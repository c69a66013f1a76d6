package soap

import (
	"bytes"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// The hot paths of every SOAP call, with -benchmem: `go test -bench . -benchmem ./soap/`.

func BenchmarkReadSeedRequest(b *testing.B) {
	req, err := os.ReadFile(filepath.Join("..", "testdata", "spectrum", "getAccessExpiringToken.request.xml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(req)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read(bytes.NewReader(req), "text/xml; charset=utf-8"); err != nil {
			b.Fatal(err)
		}
	}
}

// benchWSSERequest is a getAccessToken request with a plain-text WS-Security UsernameToken.
var benchWSSERequest = []byte(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ` +
	`xmlns:tok="http://token.security.common.server.platform.spectrum.pb.com/"><soapenv:Header>` +
	`<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">` +
	`<wsse:UsernameToken><wsse:Username>admin</wsse:Username><wsse:Password>secret</wsse:Password></wsse:UsernameToken>` +
	`</wsse:Security></soapenv:Header><soapenv:Body><tok:getAccessToken/></soapenv:Body></soapenv:Envelope>`)

func BenchmarkReadWSSERequest(b *testing.B) { benchWSSE(b, Read) }

func benchWSSE(b *testing.B, read func(io.Reader, string) (*Envelope, error)) {
	b.SetBytes(int64(len(benchWSSERequest)))
	b.ReportAllocs()
	for b.Loop() {
		env, err := read(bytes.NewReader(benchWSSERequest), "text/xml; charset=utf-8")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := UsernameTokenFrom(env); err != nil {
			b.Fatal(err)
		}
	}
}

type tokenBody struct{ token string }

func (t tokenBody) WriteBody(b *bytes.Buffer) {
	b.WriteString(`<ns2:getAccessTokenResponse xmlns:ns2="http://token.security.common.server.platform.spectrum.pb.com/"><return><token>`)
	Escape(b, t.token)
	b.WriteString(`</token><username>admin</username></return></ns2:getAccessTokenResponse>`)
}

func BenchmarkWriteResponse(b *testing.B) {
	body := tokenBody{token: "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..wBYfNj7vEtFud7n9HbhOPA.NkhDRdO1x6t5DtIEMLgVZFZxcQeCgrBMz6U7GGt_8Dfk3GLjUoYp3HeekImk4hE9YfQNO2u7OiUH8gQj7sC9DtGto8mcgbcJ-0JUsOCSriQK-Qj_agXG2N3qF6SjRopx6IlmmkOnRZAjT1h8Vta-iw.AxI4t1cdU_Riha-aBly0Qg"}
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		WriteResponse(w, V11, body)
	}
}
