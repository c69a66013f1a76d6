package powerauth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// HeaderName is the HTTP header that carries a token.
const HeaderName = "X-PowerAuth-Token"

// headerPrefix starts every header value (PowerAuthHttpHeader: startsWith("PowerAuth ")).
const headerPrefix = "PowerAuth "

// Parsing bounds. A well-formed header is about 200 bytes; the longest value (token_digest) is 44.
const (
	MaxHeaderLen = 1024
	maxFields    = 10
	maxValueLen  = 128
)

// Header keys.
const (
	keyTokenID   = "token_id"
	keyDigest    = "token_digest"
	keyNonce     = "nonce"
	keyTimestamp = "timestamp"
	keyVersion   = "version"
)

// ErrInvalid is wrapped by every reason a token header is refused; the wire answer for all of them is the same
// (POWER_AUTH_TOKEN_INVALID), the wrapped reason is for logs.
var ErrInvalid = errors.New("powerauth: token invalid")

// ErrHeaderMissing is a request without an X-PowerAuth-Token header (PowerAuth: POWER_AUTH_HTTP_HEADER_MISSING).
var ErrHeaderMissing = fmt.Errorf("%w: header missing", ErrInvalid)

// HeaderError is a header that does not parse or validate. Code is the reason PowerAuth's
// PowerAuthTokenHttpHeaderValidator gives (POWER_AUTH_TOKEN_ID_INVALID, …), or POWER_AUTH_TOKEN_INVALID_HEADER
// for a syntax error, which the Java parser has no name for.
type HeaderError struct {
	Code   string
	Detail string
}

func (e *HeaderError) Error() string {
	if e.Detail == "" {
		return "powerauth: " + e.Code
	}
	return "powerauth: " + e.Code + ": " + e.Detail
}

func (e *HeaderError) Unwrap() error { return ErrInvalid }

func syntaxError(format string, args ...any) error {
	return &HeaderError{Code: "POWER_AUTH_TOKEN_INVALID_HEADER", Detail: fmt.Sprintf(format, args...)}
}

// Header is an X-PowerAuth-Token value split into its fields, as sent (not yet validated).
type Header struct {
	TokenID   string
	Digest    string // Base64 of 32 bytes
	Nonce     string // Base64 of 16 bytes
	Timestamp string // decimal milliseconds since the epoch
	Version   string
}

// ParseHeader splits a header value into its fields. Like PowerAuth's parser it accepts the fields in any order,
// with or without commas between them, quoted or bare, and ignores keys it does not know; unlike it, it refuses
// a value longer than MaxHeaderLen, more than a handful of fields, an overlong value, a repeated key and
// anything that is not key=value.
func ParseHeader(v string) (Header, error) {
	if len(v) > MaxHeaderLen {
		return Header{}, syntaxError("longer than %d bytes", MaxHeaderLen)
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(v), headerPrefix)
	if !ok {
		return Header{}, syntaxError("does not start with %q", headerPrefix)
	}
	var h Header
	seen := map[string]bool{}
	for fields := 0; ; fields++ {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			break
		}
		if fields == maxFields {
			return Header{}, syntaxError("more than %d fields", maxFields)
		}
		var key, value string
		var err error
		key, value, rest, err = nextField(rest)
		if err != nil {
			return Header{}, err
		}
		if seen[key] {
			return Header{}, syntaxError("field %q repeated", key)
		}
		seen[key] = true
		switch key {
		case keyTokenID:
			h.TokenID = value
		case keyDigest:
			h.Digest = value
		case keyNonce:
			h.Nonce = value
		case keyTimestamp:
			h.Timestamp = value
		case keyVersion:
			h.Version = value
		}
	}
	return h, nil
}

// nextField reads key=value or key="value" from the start of s.
func nextField(s string) (key, value, rest string, err error) {
	i := 0
	for i < len(s) && isKeyByte(s[i]) {
		i++
	}
	if i == 0 || i >= len(s) || s[i] != '=' {
		return "", "", "", syntaxError("expected key=value")
	}
	key, s = s[:i], s[i+1:]
	if strings.HasPrefix(s, `"`) {
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return "", "", "", syntaxError("unterminated quote in %q", key)
		}
		value, rest = s[1:1+end], s[2+end:]
		if rest != "" && !isSeparator(rest[0]) {
			return "", "", "", syntaxError("no separator after %q", key)
		}
	} else {
		end := strings.IndexAny(s, " \t,")
		if end < 0 {
			end = len(s)
		}
		value, rest = s[:end], s[end:]
		if strings.ContainsRune(value, '"') {
			return "", "", "", syntaxError("stray quote in %q", key)
		}
	}
	if len(value) > maxValueLen {
		return "", "", "", syntaxError("value of %q longer than %d bytes", key, maxValueLen)
	}
	return key, value, rest, nil
}

func isKeyByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isSeparator(c byte) bool { return c == ' ' || c == '\t' || c == ',' }

// String formats h the way PowerAuth's PowerAuthTokenHttpHeader.buildHttpHeader does.
func (h Header) String() string {
	return headerPrefix + keyTokenID + `="` + h.TokenID + `", ` + keyDigest + `="` + h.Digest + `", ` +
		keyNonce + `="` + h.Nonce + `", ` + keyTimestamp + `="` + h.Timestamp + `", ` + keyVersion + `="` + h.Version + `"`
}

// Credentials are a header's fields, validated and decoded.
type Credentials struct {
	TokenID   string // lower case
	Digest    []byte // 32 bytes
	Nonce     []byte // 16 bytes
	Timestamp int64  // milliseconds since the epoch
	Version   string
}

// uuidPattern is PowerAuth's ValueTypeValidator UUID check (applied to the lower-cased value).
var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// Validate applies PowerAuthTokenHttpHeaderValidator's checks, in its order, and decodes the fields.
func (h Header) Validate() (Credentials, error) {
	invalid := func(code string) (Credentials, error) { return Credentials{}, &HeaderError{Code: code} }
	var c Credentials
	if h.TokenID == "" {
		return invalid("POWER_AUTH_TOKEN_ID_EMPTY")
	}
	c.TokenID = strings.ToLower(h.TokenID)
	if !uuidPattern.MatchString(c.TokenID) {
		return invalid("POWER_AUTH_TOKEN_ID_INVALID")
	}
	if h.Digest == "" {
		return invalid("POWER_AUTH_TOKEN_DIGEST_EMPTY")
	}
	if c.Digest = decodeBase64(h.Digest, DigestSize); c.Digest == nil {
		return invalid("POWER_AUTH_TOKEN_DIGEST_INVALID")
	}
	if h.Nonce == "" {
		return invalid("POWER_AUTH_TOKEN_NONCE_EMPTY")
	}
	if c.Nonce = decodeBase64(h.Nonce, NonceSize); c.Nonce == nil {
		return invalid("POWER_AUTH_TOKEN_NONCE_INVALID")
	}
	if h.Timestamp == "" {
		return invalid("POWER_AUTH_TOKEN_TIMESTAMP_EMPTY")
	}
	if len(h.Timestamp) < 9 || len(h.Timestamp) > 15 || strings.TrimLeft(h.Timestamp, "0123456789") != "" {
		return invalid("POWER_AUTH_TOKEN_TIMESTAMP_INVALID")
	}
	ts, err := strconv.ParseInt(h.Timestamp, 10, 64) // at most 15 digits: cannot overflow
	if err != nil {
		return invalid("POWER_AUTH_TOKEN_TIMESTAMP_INVALID")
	}
	c.Timestamp = ts
	if h.Version == "" {
		return invalid("POWER_AUTH_TOKEN_VERSION_EMPTY")
	}
	if known, _ := versionInDigest(h.Version); !known {
		return invalid("POWER_AUTH_TOKEN_VERSION_INVALID")
	}
	c.Version = h.Version
	return c, nil
}

// decodeBase64 decodes standard Base64, padded or not (java.util.Base64's basic decoder accepts both), and
// returns nil unless the result is exactly size bytes.
func decodeBase64(s string, size int) []byte {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.Strict().DecodeString(s); err == nil {
			if len(b) != size {
				return nil
			}
			return b
		}
	}
	return nil
}

// NewHeader builds the header a client sends: it computes the digest of nonce and timestampMillis with the
// token's secret. It is what a PowerAuth SDK's generateHeaderForToken does (tests and tools use it).
func NewHeader(tokenID string, secret, nonce []byte, timestampMillis int64, version string) (Header, error) {
	d, err := Digest(secret, nonce, timestampMillis, version)
	if err != nil {
		return Header{}, err
	}
	return Header{
		TokenID:   tokenID,
		Digest:    base64.StdEncoding.EncodeToString(d),
		Nonce:     base64.StdEncoding.EncodeToString(nonce),
		Timestamp: strconv.FormatInt(timestampMillis, 10),
		Version:   version,
	}, nil
}
