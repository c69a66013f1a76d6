package soap

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sameEnvelope compares what Read and ReadStream make of in: the same fault, or the same answers to every
// question a handler can ask (operation, repeated parameter, each parameter's text, the mustUnderstand check,
// the WS-Security UsernameToken or its fault).
func sameEnvelope(t *testing.T, in []byte, contentType string) {
	t.Helper()
	a, errA := Read(bytes.NewReader(in), contentType)
	b, errB := ReadStream(bytes.NewReader(in), contentType)
	if (errA == nil) != (errB == nil) {
		t.Fatalf("Read: %v; ReadStream: %v\ninput %q", errA, errB, in)
	}
	if errA != nil {
		if !reflect.DeepEqual(errA, errB) {
			t.Fatalf("Read refuses with %#v, ReadStream with %#v\ninput %q", errA, errB, in)
		}
		return
	}
	if a.Version != b.Version {
		t.Fatalf("version %v and %v", a.Version, b.Version)
	}
	nsA, opA := a.Operation()
	nsB, opB := b.Operation()
	if nsA != nsB || opA != opB {
		t.Fatalf("operation {%s}%s and {%s}%s\ninput %q", nsA, opA, nsB, opB, in)
	}
	if a.Repeated() != b.Repeated() {
		t.Fatalf("repeated %q and %q", a.Repeated(), b.Repeated())
	}
	names := []string{"tokenLifeInMinutes", "x", ""}
	for _, c := range a.Body.ChildElements() {
		names = append(names, c.Tag)
	}
	for _, n := range names {
		va, okA := a.Child(n)
		vb, okB := b.Child(n)
		if va != vb || okA != okB {
			t.Fatalf("child %q: %q,%v and %q,%v\ninput %q", n, va, okA, vb, okB, in)
		}
	}
	ep := &Endpoint{Understood: map[string][]string{NSWSSE: {"Security"}}}
	if fa, fb := ep.checkMustUnderstand(a), ep.checkMustUnderstand(b); !reflect.DeepEqual(fa, fb) {
		t.Fatalf("mustUnderstand: %#v and %#v\ninput %q", fa, fb, in)
	}
	utA, errA := UsernameTokenFrom(a)
	utB, errB := UsernameTokenFrom(b)
	if !reflect.DeepEqual(utA, utB) || !reflect.DeepEqual(errA, errB) {
		t.Fatalf("UsernameToken: %#v, %v and %#v, %v\ninput %q", utA, errA, utB, errB, in)
	}
}

func streamSeeds(tb testing.TB) [][]byte {
	seeds := [][]byte{
		[]byte(wsseEnvelope),
		[]byte(`<?xml version="1.0"?><!DOCTYPE x><e:Envelope xmlns:e="` + NS11 + `"><e:Body><a/></e:Body></e:Envelope>`),
		[]byte(`<e:Envelope xmlns:e="` + NS12 + `"><e:Header><h xmlns="urn:x" e:mustUnderstand="true"/></e:Header><e:Body><op xmlns="urn:o"><a> 1 <!--c--> 2<b/>3</a><a/></op></e:Body></e:Envelope>`),
		[]byte(`<e:Envelope xmlns:e="` + NS11 + `"><e:Body><op><p>x</p></op></e:Body></e:Envelope><trailing/>`),
		[]byte(`<e:Envelope xmlns:e="` + NS11 + `" xmlns:e="urn:other"><e:Body><op/></e:Body></e:Envelope>`),
		[]byte(`<e:Envelope xmlns:e="` + NS11 + `"><e:Body><op>&lt;&amp;<![CDATA[x]]>&bogus;</op></e:Body></e:Envelope>`),
		[]byte(strings.Repeat("<a>", 70) + strings.Repeat("</a>", 70)),
	}
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "spectrum", "*.request.xml"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

const wsseEnvelope = `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ` +
	`xmlns:tok="http://token.security.common.server.platform.spectrum.pb.com/"><soapenv:Header>` +
	`<wsse:Security soapenv:mustUnderstand="1" xmlns:wsse="` + NSWSSE + `" xmlns:wsu="` + NSWSU + `">` +
	`<wsse:UsernameToken><wsse:Username> admin </wsse:Username><wsse:Password Type="` + PasswordDigestType + `">ZGln</wsse:Password>` +
	`<wsse:Nonce EncodingType="` + Base64BinaryType + `">bm9u Y2U=</wsse:Nonce><wsu:Created>2026-01-01T00:00:00Z</wsu:Created>` +
	`</wsse:UsernameToken></wsse:Security></soapenv:Header><soapenv:Body><tok:getAccessToken/></soapenv:Body></soapenv:Envelope>`

// TestReadStreamSameAsRead: on the seed requests and hostile shapes (DTD, repeated xmlns, trailing elements,
// entities, depth), ReadStream answers as Read.
func TestReadStreamSameAsRead(t *testing.T) {
	for _, in := range streamSeeds(t) {
		for _, ct := range []string{"text/xml; charset=utf-8", "application/soap+xml", ""} {
			sameEnvelope(t, in, ct)
		}
	}
}

// FuzzReadStream: on any input, ReadStream and Read both refuse it with the same fault or answer alike.
func FuzzReadStream(f *testing.F) {
	for _, s := range streamSeeds(f) {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, in []byte, soap12 bool) {
		ct := "text/xml"
		if soap12 {
			ct = "application/soap+xml"
		}
		sameEnvelope(t, in, ct)
	})
}

func BenchmarkReadStreamSeedRequest(b *testing.B) {
	req, err := os.ReadFile(filepath.Join("..", "testdata", "spectrum", "getAccessExpiringToken.request.xml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(req)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadStream(bytes.NewReader(req), "text/xml; charset=utf-8"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadStreamWSSERequest(b *testing.B) { benchWSSE(b, ReadStream) }
