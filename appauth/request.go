package appauth

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/tokenmanager/tokenmanager/license"
)

// The consent page's parameters, as Cryptolens' .NET SDK (AuthMethods.CreateAuthRequest) puts them in the
// AuthorizeApp URL: every non-null property of its AuthorizeAppModel, values escaped with EscapeDataString.

// Bounds on the parameters. The SDK's PublicKey JSON is about 400 bytes and its Scope JSON about 700.
const (
	MaxParamLen      = 4096 // PublicKey, Scope
	MaxNameLen       = 256  // VendorAppName, DeviceName
	minAuthTokenSize = 16   // bytes; the SDK sends 30
	maxAuthTokenSize = 64
	minKeyBits       = 2048
	maxKeyBits       = 4096
)

// Request is a parsed authorization request.
type Request struct {
	// AuthorizationToken is the app's random request id, decoded; the app presents it again at GetChallenge
	// and GetToken. Only its hash (Hash) is stored.
	AuthorizationToken []byte
	PublicKey          *rsa.PublicKey // signs the challenge
	Scope              Scope
	AppName            string
	Days               int // Expires: days the child token should live; 0 = as long as the parent allows
	TokenID            int64
	MachineCode        string
	DeviceName         string
}

// Hash is how the request is stored and found again.
func (r Request) Hash() []byte { return HashAuthorizationToken(r.AuthorizationToken) }

// HashAuthorizationToken is the stored form of a decoded AuthorizationToken.
func HashAuthorizationToken(raw []byte) []byte {
	h := sha256.Sum256(raw)
	return h[:]
}

// UserLogin reports whether this is User Login Auth: the app asks for the user's license keys, and the
// device is registered with the user's customer records.
func (r Request) UserLogin() bool {
	return slices.Contains(r.Scope.Methods, license.MethodGetLicenseKeys)
}

// checkText checks the request's stored text as ParseRequest does, for requests made some other way (Login).
func (r Request) checkText() error {
	if err := license.CheckText("app name", r.AppName, MaxNameLen); err != nil {
		return err
	}
	if err := license.CheckText("machine code", r.MachineCode, license.MaxMachineCodeLen); err != nil {
		return err
	}
	return license.CheckText("device name", r.DeviceName, MaxNameLen)
}

// ChildRequest is the request as the license package bounds it.
func (r Request) ChildRequest() license.ChildRequest {
	return license.ChildRequest{Methods: r.Scope.Methods, ProductLock: r.Scope.ProductLock, KeyLock: r.Scope.KeyLock,
		FeatureLock: r.Scope.FeatureLock, Days: r.Days}
}

// BadRequestError lists every problem with a request's parameters, each in words a user can act on.
type BadRequestError struct{ Problems []string }

func (e *BadRequestError) Error() string {
	return "appauth: bad request: " + strings.Join(e.Problems, "; ")
}

// ParseRequest reads the AuthorizeApp parameters. params has lower-case names (Cryptolens' names are
// case-insensitive). Every problem is reported, not only the first.
func ParseRequest(params map[string]string) (Request, error) {
	var r Request
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	get := func(name string) string { return strings.TrimSpace(params[strings.ToLower(name)]) }

	var err error
	if r.AuthorizationToken, err = ParseAuthorizationToken(get("AuthorizationToken")); err != nil {
		bad("AuthorizationToken: %v", err)
	}
	if v := get("PublicKey"); v == "" {
		bad("PublicKey is missing: the app must send the public half of the key it will sign the challenge with")
	} else if r.PublicKey, err = ParsePublicKey(v); err != nil {
		bad("PublicKey: %v", err)
	}
	if v := get("Scope"); v == "" {
		bad("Scope is missing: the app must say which permissions it asks for")
	} else if r.Scope, err = ParseScope(v); err != nil {
		bad("Scope: %v", err)
	}
	r.AppName = get("VendorAppName")
	switch {
	case r.AppName == "":
		bad("VendorAppName is missing: the app must say its name")
	case license.CheckText("VendorAppName", r.AppName, MaxNameLen) != nil:
		bad("VendorAppName is longer than %d bytes, not UTF-8, or has control characters", MaxNameLen)
	}
	if v := get("Expires"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > license.MaxChildDays*10 {
			bad("Expires %.20q is not a number of days", v)
		}
		r.Days = n
	}
	if v := get("TokenId"); v == "" {
		bad("TokenId is missing: the app must name the token it will ask for its child token with")
	} else if r.TokenID, err = strconv.ParseInt(v, 10, 64); err != nil || r.TokenID <= 0 {
		bad("TokenId %.20q is not a token id", v)
	}
	r.MachineCode = get("MachineCode")
	if license.CheckText("MachineCode", r.MachineCode, license.MaxMachineCodeLen) != nil {
		bad("MachineCode is longer than %d bytes, not UTF-8, or has control characters", license.MaxMachineCodeLen)
	}
	r.DeviceName = get("DeviceName")
	if license.CheckText("DeviceName", r.DeviceName, MaxNameLen) != nil {
		bad("DeviceName is longer than %d bytes, not UTF-8, or has control characters", MaxNameLen)
	}
	if v := get("Algorithm"); v != "" && v != "RSA_2048" && v != "0" {
		bad("Algorithm %.20q is not supported: only RSA_2048", v)
	}
	if r.UserLogin() && r.MachineCode == "" {
		bad("MachineCode is missing: an app that asks for your license keys must name the device it runs on")
	}
	if len(problems) > 0 {
		return Request{}, &BadRequestError{Problems: problems}
	}
	return r, nil
}

// ParseAuthorizationToken decodes the app's AuthorizationToken: standard base64 (padded or not) of 16 to 64
// random bytes. A '+' that arrived unescaped in a query string reads as ' ' and is put back.
func ParseAuthorizationToken(v string) ([]byte, error) {
	v = strings.ReplaceAll(strings.TrimSpace(v), " ", "+")
	if v == "" {
		return nil, errors.New("missing")
	}
	if len(v) > base64.StdEncoding.EncodedLen(maxAuthTokenSize) {
		return nil, fmt.Errorf("longer than %d bytes", maxAuthTokenSize)
	}
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(v); err != nil {
			return nil, errors.New("not base64")
		}
	}
	if len(raw) < minAuthTokenSize || len(raw) > maxAuthTokenSize {
		return nil, fmt.Errorf("%d bytes; want %d to %d random bytes", len(raw), minAuthTokenSize, maxAuthTokenSize)
	}
	return raw, nil
}

// ParsePublicKey reads the .NET SDK's public key: the JSON of RSAParameters, of which only Modulus and
// Exponent (base64 of big-endian unsigned integers) are read; the private members are absent or null.
func ParsePublicKey(v string) (*rsa.PublicKey, error) {
	if len(v) > MaxParamLen {
		return nil, fmt.Errorf("longer than %d bytes", MaxParamLen)
	}
	fields, err := jsonObject(v)
	if err != nil {
		return nil, errors.New("not the JSON of an RSA public key ({\"Modulus\":…,\"Exponent\":…})")
	}
	num := func(name string) (*big.Int, error) {
		var s string
		if raw, ok := fields[strings.ToLower(name)]; !ok || json.Unmarshal(raw, &s) != nil || s == "" {
			return nil, fmt.Errorf("%s is missing or not a string", name)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%s is not base64", name)
		}
		return new(big.Int).SetBytes(b), nil
	}
	n, err := num("Modulus")
	if err != nil {
		return nil, err
	}
	e, err := num("Exponent")
	if err != nil {
		return nil, err
	}
	if bits := n.BitLen(); bits < minKeyBits || bits > maxKeyBits || n.Bit(0) == 0 {
		return nil, fmt.Errorf("the modulus has %d bits or is even; want an RSA key of %d to %d bits", bits, minKeyBits, maxKeyBits)
	}
	if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 || e.Bit(0) == 0 {
		return nil, errors.New("the exponent is not an odd number from 3 to 2^31-1")
	}
	return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
}

// jsonObject decodes one flat JSON object, folding its member names to lower case.
func jsonObject(v string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("null")
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, val := range m {
		out[strings.ToLower(k)] = val
	}
	return out, nil
}

// Scope is what an app asks for: the SDK's Scope object of booleans, one per permission, and three locks.
type Scope struct {
	Methods []license.Method // asked for and offered by this server
	// Unsupported are Cryptolens permissions asked for that this server does not implement; never granted.
	Unsupported []string
	ProductLock int64
	KeyLock     int64
	FeatureLock int64
}

// scopePermissions maps the SDK's Scope members (lower case) to the methods they allow.
var scopePermissions = map[string]license.Method{
	"activate": license.MethodActivate, "deactivate": license.MethodDeactivate,
	"keyinfo": license.MethodGetKey, "getkey": license.MethodGetKey,
	"createkey": license.MethodCreateKey, "trialactivation": license.MethodCreateTrialKey,
	"createtrialkey": license.MethodCreateTrialKey, "blockkey": license.MethodBlockKey,
	"unblockkey": license.MethodUnblockKey, "extendlicense": license.MethodExtendLicense,
	"addcustomer": license.MethodAddCustomer, "getlicensekeys": license.MethodGetLicenseKeys,
}

// unsupportedScope are the SDK's other Scope members: Cryptolens methods this server does not implement (and
// GetToken, which no child token gets), by lower-case name.
var unsupportedScope = func() map[string]string {
	m := map[string]string{}
	for _, name := range []string{"GetKeys", "AddFeature", "RemoveFeature", "AddDataObject", "ListDataObjects", "SetStringValue",
		"SetIntValue", "IncrementIntValue", "DecrementIntValue", "RemoveDataObject", "GetFeatureDefinitions", "ChangeNotes",
		"GetCustomers", "ChangeCustomer", "RemoveCustomer", "GetCustomerLicenses", "MachineLockLimit", "PaymentForms", "GetToken"} {
		m[strings.ToLower(name)] = name
	}
	return m
}()

// ParseScope reads the Scope JSON. Members are matched without regard to case; a permission is a boolean (or
// null, for false), a lock an integer (or null, for 0). An unknown member is an error, so that a misspelt
// permission is not silently dropped.
func ParseScope(v string) (Scope, error) {
	var s Scope
	if len(v) > MaxParamLen {
		return s, fmt.Errorf("longer than %d bytes", MaxParamLen)
	}
	fields, err := jsonObject(v)
	if err != nil {
		return s, errors.New("not a JSON object of permissions ({\"GetLicenseKeys\":true,…})")
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	// A fixed order, so that the page and the stored grant list the methods the same way every time.
	slices.Sort(names)
	for _, name := range names {
		raw := fields[name]
		if strings.HasPrefix(name, "lockto") {
			var n *int64
			if err := json.Unmarshal(raw, &n); err != nil || (n != nil && *n < 0) {
				return Scope{}, fmt.Errorf("%s is not a product, key or feature number", name)
			}
			if n == nil {
				continue
			}
			switch name {
			case "locktoproduct":
				s.ProductLock = *n
			case "locktokey":
				s.KeyLock = *n
			case "locktofeature":
				s.FeatureLock = *n
			default:
				return Scope{}, fmt.Errorf("unknown lock %.40q", name)
			}
			continue
		}
		m, known := scopePermissions[name]
		other, unsupported := unsupportedScope[name]
		if !known && !unsupported {
			return Scope{}, fmt.Errorf("unknown permission %.40q", name)
		}
		var on *bool
		if err := json.Unmarshal(raw, &on); err != nil {
			return Scope{}, fmt.Errorf("%s is not true or false", name)
		}
		switch {
		case on == nil || !*on:
		case unsupported:
			s.Unsupported = append(s.Unsupported, other)
		case !slices.Contains(s.Methods, m):
			s.Methods = append(s.Methods, m)
		}
	}
	return s, nil
}
