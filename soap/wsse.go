package soap

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// WS-Security namespaces (OASIS WSS 1.0; WSS 1.1 kept them for UsernameToken).
const (
	NSWSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	NSWSU  = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
)

// Password Type values (UsernameToken Profile 1.0 §4) and the Nonce encoding (SOAP Message Security 1.0).
// Matched by their fragment, so the rest of the URI is not compared.
const (
	PasswordTextType   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
	PasswordDigestType = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
	Base64BinaryType   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

// Bounds on UsernameToken fields, in bytes as sent (the nonce after decoding). Anything larger is refused
// before any work is done on it. The password bound is auth.MaxPasswordLen, so every password usable with
// HTTP Basic is usable here too.
const (
	MaxWSSEUsername   = 256
	MaxWSSEPassword   = 1024
	MaxWSSECreated    = 256
	MaxWSSENonce      = 64
	maxWSSENonceChars = 256 // base64 text of the nonce, whitespace included
)

// UsernameToken is a parsed wsse:UsernameToken.
type UsernameToken struct {
	Username string // surrounding whitespace removed
	Password string // exactly as sent: a password (PasswordText) or a base64 digest (PasswordDigest)
	Digest   bool   // Password Type was ...#PasswordDigest
	Nonce    []byte // decoded base64 (EncodingType Base64Binary or absent); nil when absent
	Created  string // the wsu:Created text exactly as sent (the digest covers these bytes); "" when absent
}

// UsernameTokenFrom returns the UsernameToken in env's wsse:Security header, (nil, nil) if there is none (no
// Header, no Security header, or a Security header without a UsernameToken, e.g. only a Timestamp), or a Client
// *Fault if the header is malformed: two Security headers, two UsernameTokens, a missing or empty Username, a
// missing Password, a repeated Username, Password, Nonce or Created, an unknown Password Type or Nonce
// EncodingType, a bad base64 nonce, element content inside a field, an oversize field, or a PasswordDigest
// without a Nonce and a Created.
//
// Elements are matched by namespace URI and local name, never by prefix; unknown elements inside the Security
// header and the UsernameToken (wsu:Timestamp, signatures, wsse11:Salt, …) are ignored.
func UsernameTokenFrom(env *Envelope) (*UsernameToken, error) {
	if env == nil || env.hdr == nil {
		return nil, nil
	}
	v := env.Version
	fault := func(msg string) error { return ClientFault(v, "WS-Security: "+msg) }

	var sec xnode
	for _, c := range env.hdr.elems() {
		if c.local() == "Security" && c.nsURI() == NSWSSE {
			if sec != nil {
				return nil, fault("more than one Security header")
			}
			sec = c
		}
	}
	if sec == nil {
		return nil, nil
	}
	var tok xnode
	for _, c := range sec.elems() {
		if c.local() == "UsernameToken" && c.nsURI() == NSWSSE {
			if tok != nil {
				return nil, fault("more than one UsernameToken")
			}
			tok = c
		}
	}
	if tok == nil {
		return nil, nil
	}

	var user, pass, nonce, created xnode
	for _, c := range tok.elems() {
		var slot *xnode
		switch ns := c.nsURI(); {
		case ns == NSWSSE && c.local() == "Username":
			slot = &user
		case ns == NSWSSE && c.local() == "Password":
			slot = &pass
		case ns == NSWSSE && c.local() == "Nonce":
			slot = &nonce
		case ns == NSWSU && c.local() == "Created":
			slot = &created
		default:
			continue
		}
		if *slot != nil {
			return nil, fault("more than one " + c.local() + " in the UsernameToken")
		}
		*slot = c
	}

	ut := &UsernameToken{}
	var err error
	if user == nil {
		return nil, fault("the UsernameToken has no Username")
	}
	if ut.Username, err = leafText(user, MaxWSSEUsername, fault); err != nil {
		return nil, err
	}
	ut.Username = strings.TrimSpace(ut.Username)
	if ut.Username == "" {
		return nil, fault("the Username is empty")
	}

	if pass == nil {
		return nil, fault("the UsernameToken has no Password")
	}
	if ut.Password, err = leafText(pass, MaxWSSEPassword, fault); err != nil {
		return nil, err
	}
	if typ, ok := pass.attr("Type"); ok {
		switch t := strings.TrimSpace(typ); {
		case strings.HasSuffix(t, "#PasswordText"):
		case strings.HasSuffix(t, "#PasswordDigest"):
			ut.Digest = true
		default:
			return nil, fault("unsupported Password Type " + quote(t, 100))
		}
	}

	if nonce != nil {
		if enc, ok := nonce.attr("EncodingType"); ok && !strings.HasSuffix(strings.TrimSpace(enc), "#Base64Binary") {
			return nil, fault("unsupported Nonce EncodingType " + quote(enc, 100))
		}
		text, err := leafText(nonce, maxWSSENonceChars, fault)
		if err != nil {
			return nil, err
		}
		// xsd:base64Binary allows whitespace (line breaks) between characters.
		text = strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, text)
		b, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			return nil, fault("the Nonce is not valid base64")
		}
		if len(b) > MaxWSSENonce {
			return nil, fault("the Nonce is longer than " + strconv.Itoa(MaxWSSENonce) + " bytes")
		}
		ut.Nonce = b
	}

	if created != nil {
		if ut.Created, err = leafText(created, MaxWSSECreated, fault); err != nil {
			return nil, err
		}
	}

	if ut.Digest && (len(ut.Nonce) == 0 || strings.TrimSpace(ut.Created) == "") {
		return nil, fault("a PasswordDigest needs a Nonce and a Created")
	}
	return ut, nil
}

// quote quotes s for a fault message, cut to max bytes.
func quote(s string, max int) string {
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strconv.Quote(s)
}
