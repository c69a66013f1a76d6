package server_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// wsseEnvelope is getAccessToken with a WCF-style Security header (o:/u: prefixes, mustUnderstand).
func wsseEnvelope(user, passwordElem string) string {
	return `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:u="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><s:Header>` +
		`<o:Security s:mustUnderstand="1" xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><o:UsernameToken u:Id="uuid-1">` +
		`<o:Username>` + user + `</o:Username>` + passwordElem + `</o:UsernameToken></o:Security></s:Header>` +
		`<s:Body><getAccessToken xmlns="http://token.security.common.server.platform.spectrum.pb.com/"/></s:Body></s:Envelope>`
}

func textPassword(pw string) string {
	return `<o:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">` + pw + `</o:Password>`
}

func digestPassword(nonce []byte, created, pw string) string {
	return `<o:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">` +
		auth.PasswordDigest(nonce, created, pw) + `</o:Password><o:Nonce>` + base64.StdEncoding.EncodeToString(nonce) +
		`</o:Nonce><u:Created>` + created + `</u:Created>`
}

func TestWSSecurityUsernameToken(t *testing.T) {
	s := newStack(t)
	post := func(env string) servertest.Response {
		return servertest.Do(t, "POST", s.URL+tokPath, env, map[string]string{"Content-Type": "text/xml"}) // no Basic
	}
	tokenOf := func(r servertest.Response) string {
		d := etree.NewDocument()
		if err := d.ReadFromString(r.Body); err != nil {
			t.Fatal(err)
		}
		if e := d.FindElement("//token"); e != nil {
			return e.Text()
		}
		return ""
	}
	if r := post(wsseEnvelope("simon0897", textPassword("s3cret"))); r.Status != 200 || tokenOf(r) == "" {
		t.Fatalf("PasswordText: %d %s", r.Status, r.Body)
	}
	if r := post(wsseEnvelope("simon0897", textPassword("wrong"))); r.Status != 401 {
		t.Fatalf("wrong PasswordText: %d", r.Status)
	}
	created := s.Clock.Now().Format(time.RFC3339)
	nonce := []byte("0123456789abcdef")
	digest := wsseEnvelope("simon0897", digestPassword(nonce, created, "s3cret"))
	if r := post(digest); r.Status != 200 || tokenOf(r) == "" {
		t.Fatalf("PasswordDigest: %d %s", r.Status, r.Body)
	}
	if r := post(digest); r.Status != 500 || !strings.Contains(r.Body, "already used") {
		t.Fatalf("replayed digest: %d %s", r.Status, r.Body)
	}
	stale := s.Clock.Now().Add(-time.Hour).Format(time.RFC3339)
	if r := post(wsseEnvelope("simon0897", digestPassword([]byte("fedcba9876543210"), stale, "s3cret"))); r.Status != 500 || !strings.Contains(r.Body, "time window") {
		t.Fatalf("stale digest: %d %s", r.Status, r.Body)
	}
	// paul1234 has no sealed password, so a digest, even a correct one, cannot be checked.
	if r := post(wsseEnvelope("paul1234", digestPassword([]byte("aaaaaaaaaaaaaaaa"), created, "pa55"))); r.Status != 401 {
		t.Fatalf("digest for a user without a sealed password: %d", r.Status)
	}
	if r := post(wsseEnvelope("simon0897", "")); r.Status != 500 || !strings.Contains(r.Body, "faultcode") {
		t.Fatalf("UsernameToken without a password: %d %s", r.Status, r.Body)
	}
}
