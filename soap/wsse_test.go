package soap_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/soap"
)

const (
	typeText   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
	typeDigest = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
	encB64     = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
	nsSecext   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	nsUtility  = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
	opBody     = `<tm:getAccessToken xmlns:tm="http://www.pb.com/spectrum/services/TokenManagerService"/>`
)

// zeep (python) with UsernameToken(user, pw): SOAP 1.1, soap-env/wsse prefixes, full Type URI.
const zeepText = `<?xml version='1.0' encoding='utf-8'?>
<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/"><soap-env:Header><wsse:Security xmlns:wsse="` + nsSecext + `"><wsse:UsernameToken><wsse:Username>admin</wsse:Username><wsse:Password Type="` + typeText + `">s3cret pass </wsse:Password></wsse:UsernameToken></wsse:Security></soap-env:Header><soap-env:Body>` + opBody + `</soap-env:Body></soap-env:Envelope>`

// zeep with UsernameToken(user, pw, use_digest=True): wsu declared on Created, Created with +00:00.
const zeepDigest = `<?xml version='1.0' encoding='utf-8'?>
<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/"><soap-env:Header><wsse:Security xmlns:wsse="` + nsSecext + `"><wsse:UsernameToken><wsse:Username>admin</wsse:Username><wsse:Password Type="` + typeDigest + `">AtYMdWClJo7PIuTpqmhmEEoEZyc=</wsse:Password><wsse:Nonce EncodingType="` + encB64 + `">WScqanjCEAC4mQoBE07sAQ==</wsse:Nonce><wsu:Created xmlns:wsu="` + nsUtility + `">2026-11-23T10:00:00+00:00</wsu:Created></wsse:UsernameToken></wsse:Security></soap-env:Header><soap-env:Body>` + opBody + `</soap-env:Body></soap-env:Envelope>`

// WCF (TransportWithMessageCredential, UserName): s/o/u prefixes, mustUnderstand, a Timestamp whose u:Created
// must not be taken for the token's.
const wcfText = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:u="` + nsUtility + `">
  <s:Header>
    <o:Security s:mustUnderstand="1" xmlns:o="` + nsSecext + `">
      <u:Timestamp u:Id="_0">
        <u:Created>2026-11-23T10:00:00.123Z</u:Created>
        <u:Expires>2026-11-23T10:05:00.123Z</u:Expires>
      </u:Timestamp>
      <o:UsernameToken u:Id="uuid-3f1c2a9e-8b7d-4e5f-9a0b-1c2d3e4f5a6b-1">
        <o:Username>
          DOMAIN\svc
        </o:Username>
        <o:Password Type="` + typeText + `">p&amp;ss&lt;word</o:Password>
      </o:UsernameToken>
    </o:Security>
  </s:Header>
  <s:Body>` + opBody + `</s:Body>
</s:Envelope>`

// CXF / WSS4J style over SOAP 1.2: default namespace on Security, wsse11 extension element, fractional Created.
const cxfDigest12 = `<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Header>
<Security xmlns="` + nsSecext + `" xmlns:wsu="` + nsUtility + `" soap:mustUnderstand="true">
<UsernameToken wsu:Id="UsernameToken-1"><Username>bob</Username>
<Password Type="` + typeDigest + `">AtYMdWClJo7PIuTpqmhmEEoEZyc=</Password>
<Nonce EncodingType="` + encB64 + `">
  WScqanjC
  EAC4mQoBE07sAQ==
</Nonce>
<wsu:Created>2026-11-23T10:00:00.123Z</wsu:Created>
<wsse11:Salt xmlns:wsse11="http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd">AAAA</wsse11:Salt>
</UsernameToken></Security></soap:Header><soap:Body>` + opBody + `</soap:Body></soap:Envelope>`

var oasisNonce = []byte{0x59, 0x27, 0x2a, 0x6a, 0x78, 0xc2, 0x10, 0x00, 0xb8, 0x99, 0x0a, 0x01, 0x13, 0x4e, 0xec, 0x01} // WScqanjCEAC4mQoBE07sAQ==

func readEnv(t testing.TB, doc string) *soap.Envelope {
	t.Helper()
	env, err := soap.Read(strings.NewReader(doc), "")
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return env
}

func TestUsernameTokenFromValid(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		want soap.UsernameToken
	}{
		{"zeep text", zeepText, soap.UsernameToken{Username: "admin", Password: "s3cret pass "}},
		{"zeep digest", zeepDigest, soap.UsernameToken{Username: "admin", Password: "AtYMdWClJo7PIuTpqmhmEEoEZyc=",
			Digest: true, Nonce: oasisNonce, Created: "2026-11-23T10:00:00+00:00"}},
		{"wcf text", wcfText, soap.UsernameToken{Username: `DOMAIN\svc`, Password: "p&ss<word"}},
		{"cxf digest soap12", cxfDigest12, soap.UsernameToken{Username: "bob", Password: "AtYMdWClJo7PIuTpqmhmEEoEZyc=",
			Digest: true, Nonce: oasisNonce, Created: "2026-11-23T10:00:00.123Z"}},
		{"no Type, nonce without EncodingType, CDATA and comment", wsseEnvelope(
			`<w:UsernameToken><w:Username>u</w:Username><w:Password><![CDATA[a<b]]><!-- c -->c</w:Password>` +
				`<w:Nonce>AAECAwQFBgc=</w:Nonce><u:Created xmlns:u="` + nsUtility + `"> 2026-11-23T10:00:00Z </u:Created></w:UsernameToken>`),
			soap.UsernameToken{Username: "u", Password: "a<bc", Nonce: []byte{0, 1, 2, 3, 4, 5, 6, 7}, Created: " 2026-11-23T10:00:00Z "}},
		{"Created outside the wsu namespace is not the Created", wsseEnvelope(`<w:UsernameToken><w:Username>u</w:Username><w:Password>p</w:Password>` +
			`<w:Created>2026-11-23T10:00:00Z</w:Created><Created>2026-11-23T10:00:00Z</Created></w:UsernameToken>`),
			soap.UsernameToken{Username: "u", Password: "p"}},
		{"Type with surrounding space", wsseEnvelope(`<w:UsernameToken><w:Username>u</w:Username><w:Password Type=" ` + typeText + ` ">p</w:Password></w:UsernameToken>`),
			soap.UsernameToken{Username: "u", Password: "p"}},
		{"bounds exactly", wsseEnvelope(`<w:UsernameToken><w:Username>` + strings.Repeat("u", soap.MaxWSSEUsername) + `</w:Username><w:Password>` +
			strings.Repeat("p", soap.MaxWSSEPassword) + `</w:Password><w:Nonce>` + strings.Repeat("A", 86) + `==</w:Nonce></w:UsernameToken>`),
			soap.UsernameToken{Username: strings.Repeat("u", soap.MaxWSSEUsername), Password: strings.Repeat("p", soap.MaxWSSEPassword), Nonce: make([]byte, soap.MaxWSSENonce)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ut, err := soap.UsernameTokenFrom(readEnv(t, tc.doc))
			if err != nil {
				t.Fatalf("err %v", err)
			}
			if ut == nil {
				t.Fatal("no token")
			}
			if ut.Username != tc.want.Username || ut.Password != tc.want.Password || ut.Digest != tc.want.Digest ||
				!bytes.Equal(ut.Nonce, tc.want.Nonce) || ut.Created != tc.want.Created {
				t.Fatalf("got %+v\nwant %+v", *ut, tc.want)
			}
		})
	}
}

// wsseEnvelope wraps a UsernameToken (using prefix w for wsse) in a Security header.
func wsseEnvelope(token string) string {
	return `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header><w:Security xmlns:w="` + nsSecext + `">` +
		token + `</w:Security></e:Header><e:Body>` + opBody + `</e:Body></e:Envelope>`
}

func TestUsernameTokenFromAbsent(t *testing.T) {
	for name, doc := range map[string]string{
		"no header":      `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>` + opBody + `</e:Body></e:Envelope>`,
		"empty header":   `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header/><e:Body>` + opBody + `</e:Body></e:Envelope>`,
		"other headers":  `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header><a:To xmlns:a="http://www.w3.org/2005/08/addressing">x</a:To></e:Header><e:Body>` + opBody + `</e:Body></e:Envelope>`,
		"timestamp only": wsseEnvelope(`<u:Timestamp xmlns:u="` + nsUtility + `"><u:Created>2026-11-23T10:00:00Z</u:Created></u:Timestamp>`),
		"pre-OASIS secext namespace": `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header><wsse:Security xmlns:wsse="http://schemas.xmlsoap.org/ws/2002/07/secext">` +
			`<wsse:UsernameToken><wsse:Username>u</wsse:Username><wsse:Password>p</wsse:Password></wsse:UsernameToken></wsse:Security></e:Header><e:Body>` + opBody + `</e:Body></e:Envelope>`,
		"security in body, not header": `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><w:Security xmlns:w="` + nsSecext + `">` +
			`<w:UsernameToken><w:Username>u</w:Username><w:Password>p</w:Password></w:UsernameToken></w:Security></e:Body></e:Envelope>`,
		"token nested deeper": wsseEnvelope(`<x:Wrap xmlns:x="urn:x"><w:UsernameToken><w:Username>u</w:Username><w:Password>p</w:Password></w:UsernameToken></x:Wrap>`),
	} {
		t.Run(name, func(t *testing.T) {
			ut, err := soap.UsernameTokenFrom(readEnv(t, doc))
			if ut != nil || err != nil {
				t.Fatalf("got %+v, %v; want nil, nil", ut, err)
			}
		})
	}
	if ut, err := soap.UsernameTokenFrom(nil); ut != nil || err != nil {
		t.Fatalf("nil envelope: %+v, %v", ut, err)
	}
}

func TestUsernameTokenFromMalformed(t *testing.T) {
	const (
		user = `<w:Username>u</w:Username>`
		pass = `<w:Password>p</w:Password>`
	)
	tok := func(inner string) string { return wsseEnvelope(`<w:UsernameToken>` + inner + `</w:UsernameToken>`) }
	digest := func(extra string) string {
		return tok(user + `<w:Password Type="` + typeDigest + `">AtYMdWClJo7PIuTpqmhmEEoEZyc=</w:Password>` + extra)
	}
	created := `<u:Created xmlns:u="` + nsUtility + `">2026-11-23T10:00:00Z</u:Created>`
	nonce := `<w:Nonce>WScqanjCEAC4mQoBE07sAQ==</w:Nonce>`
	cases := map[string]string{
		"two Security headers": `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header>` +
			`<w:Security xmlns:w="` + nsSecext + `"><w:UsernameToken>` + user + pass + `</w:UsernameToken></w:Security>` +
			`<x:Security xmlns:x="` + nsSecext + `"/></e:Header><e:Body>` + opBody + `</e:Body></e:Envelope>`,
		"two UsernameTokens":      wsseEnvelope(`<w:UsernameToken>` + user + pass + `</w:UsernameToken><w:UsernameToken>` + user + pass + `</w:UsernameToken>`),
		"missing Username":        tok(pass),
		"empty Username":          tok(`<w:Username>  </w:Username>` + pass),
		"two Usernames":           tok(user + user + pass),
		"missing Password":        tok(user),
		"two Passwords":           tok(user + pass + pass),
		"two Nonces":              tok(user + pass + nonce + nonce),
		"two Created":             tok(user + pass + created + created),
		"unknown Password Type":   tok(user + `<w:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordHash">p</w:Password>`),
		"QName Password Type":     tok(user + `<w:Password Type="wsse:PasswordText">p</w:Password>`),
		"empty Password Type":     tok(user + `<w:Password Type="">p</w:Password>`),
		"bad base64 nonce":        tok(user + pass + `<w:Nonce>not base64!</w:Nonce>`),
		"unpadded nonce":          tok(user + pass + `<w:Nonce>AAECAwQFBgc</w:Nonce>`),
		"hex nonce":               tok(user + pass + `<w:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#HexBinary">00ff</w:Nonce>`),
		"element in Username":     tok(`<w:Username>u<x:b xmlns:x="urn:x"/></w:Username>` + pass),
		"element in Password":     tok(user + `<w:Password><w:Password>p</w:Password></w:Password>`),
		"oversize Username":       tok(`<w:Username>` + strings.Repeat("u", soap.MaxWSSEUsername+1) + `</w:Username>` + pass),
		"oversize Password":       tok(user + `<w:Password>` + strings.Repeat("p", soap.MaxWSSEPassword+1) + `</w:Password>`),
		"oversize Created":        tok(user + pass + `<u:Created xmlns:u="` + nsUtility + `">` + strings.Repeat("1", soap.MaxWSSECreated+1) + `</u:Created>`),
		"oversize Nonce decoded":  tok(user + pass + `<w:Nonce>` + strings.Repeat("A", 92) + `</w:Nonce>`), // 69 bytes
		"oversize Nonce text":     tok(user + pass + `<w:Nonce>` + strings.Repeat(" ", 300) + `AAAA</w:Nonce>`),
		"digest without Nonce":    digest(created),
		"digest without Created":  digest(nonce),
		"digest with empty Nonce": digest(`<w:Nonce></w:Nonce>` + created),
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			ut, err := soap.UsernameTokenFrom(readEnv(t, doc))
			var f *soap.Fault
			if ut != nil || !errors.As(err, &f) {
				t.Fatalf("got %+v, %v; want a *Fault", ut, err)
			}
			if f.Code != soap.CodeClient || f.Version != soap.V11 {
				t.Fatalf("fault %+v; want Client, SOAP 1.1", f)
			}
		})
	}
	// The fault carries the envelope's version.
	doc := strings.Replace(cxfDigest12, "<Username>bob</Username>", "", 1)
	_, err := soap.UsernameTokenFrom(readEnv(t, doc))
	var f *soap.Fault
	if !errors.As(err, &f) || f.Version != soap.V12 || f.Code != soap.CodeClient || f.HTTPStatus() != 400 {
		t.Fatalf("SOAP 1.2: %v", err)
	}
}

func FuzzUsernameTokenFrom(f *testing.F) {
	for _, s := range []string{
		zeepText, zeepDigest, wcfText, cxfDigest12,
		wsseEnvelope(`<w:UsernameToken><w:Username>u</w:Username><w:Password>p</w:Password><w:Nonce>AAAA</w:Nonce></w:UsernameToken>`),
		wsseEnvelope(`<w:UsernameToken><w:Username/><w:Password Type="#PasswordDigest"/></w:UsernameToken>`),
		`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header/><e:Body><x/></e:Body></e:Envelope>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := soap.Read(bytes.NewReader(data), "")
		if err != nil {
			return
		}
		ut, err := soap.UsernameTokenFrom(env)
		if err != nil {
			var fault *soap.Fault
			if ut != nil || !errors.As(err, &fault) || fault.Code != soap.CodeClient {
				t.Fatalf("error %v with token %+v", err, ut)
			}
			return
		}
		if ut == nil {
			return
		}
		if ut.Username == "" || len(ut.Username) > soap.MaxWSSEUsername || len(ut.Password) > soap.MaxWSSEPassword ||
			len(ut.Created) > soap.MaxWSSECreated || len(ut.Nonce) > soap.MaxWSSENonce {
			t.Fatalf("token out of bounds: %+v", ut)
		}
		if ut.Digest && (len(ut.Nonce) == 0 || strings.TrimSpace(ut.Created) == "") {
			t.Fatalf("digest token without nonce or created: %+v", ut)
		}
	})
}
