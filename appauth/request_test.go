package appauth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tokenmanager/tokenmanager/appauth"
	"github.com/tokenmanager/tokenmanager/license"
)

var appKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// dotnetPublicKey is the JSON Newtonsoft writes for RSAParameters exported without the private part, as the
// .NET SDK sends it.
func dotnetPublicKey(pub *rsa.PublicKey) string {
	b, _ := json.Marshal(map[string]any{"Exponent": big.NewInt(int64(pub.E)).Bytes(), "Modulus": pub.N.Bytes(),
		"P": nil, "Q": nil, "DP": nil, "DQ": nil, "InverseQ": nil, "D": nil})
	return string(b)
}

// dotnetScope is the JSON of the SDK's Scope object with every member, as Newtonsoft writes it.
func dotnetScope(on ...string) string {
	members := []string{"Deactivate", "CreateKey", "GetKeys", "Activate", "ExtendLicense", "AddFeature", "RemoveFeature",
		"AddDataObject", "ListDataObjects", "SetStringValue", "SetIntValue", "IncrementIntValue", "DecrementIntValue",
		"RemoveDataObject", "BlockKey", "UnblockKey", "KeyInfo", "GetFeatureDefinitions", "ChangeNotes", "GetCustomers",
		"ChangeCustomer", "AddCustomer", "RemoveCustomer", "GetCustomerLicenses", "TrialActivation", "MachineLockLimit",
		"GetLicenseKeys", "PaymentForms"}
	var b strings.Builder
	b.WriteString("{")
	for _, m := range members {
		b.WriteString(`"` + m + `":` + map[bool]string{true: "true", false: "false"}[slices.Contains(on, m)] + ",")
	}
	b.WriteString(`"LockToProduct":0,"LockToKey":0,"LockToFeature":0}`)
	return b.String()
}

func params(q url.Values) map[string]string {
	out := map[string]string{}
	for k, v := range q {
		out[strings.ToLower(k)] = v[0]
	}
	return out
}

func sdkQuery() url.Values {
	token := make([]byte, 30)
	rand.Read(token)
	return url.Values{"AuthorizationToken": {base64.StdEncoding.EncodeToString(token)}, "PublicKey": {dotnetPublicKey(&appKey().PublicKey)},
		"Scope": {dotnetScope("GetLicenseKeys")}, "VendorAppName": {"Photo Editor"}, "Expires": {"30"}, "TokenId": {"4"},
		"MachineCode": {"9f86d081"}, "DeviceName": {"CAROL-PC"}, "Algorithm": {"RSA_2048"}}
}

func TestParseRequestFromTheSDK(t *testing.T) {
	q := sdkQuery()
	r, err := appauth.ParseRequest(params(q))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(q.Get("AuthorizationToken"))
	if string(r.AuthorizationToken) != string(raw) || r.PublicKey.N.Cmp(appKey().N) != 0 || r.PublicKey.E != 65537 ||
		r.AppName != "Photo Editor" || r.Days != 30 || r.TokenID != 4 || r.MachineCode != "9f86d081" || r.DeviceName != "CAROL-PC" ||
		!slices.Equal(r.Scope.Methods, []license.Method{license.MethodGetLicenseKeys}) || !r.UserLogin() {
		t.Fatalf("parsed %+v", r)
	}
	if len(r.Hash()) != 32 {
		t.Fatal("hash")
	}
}

func TestParseRequestReportsEveryProblem(t *testing.T) {
	q := url.Values{"AuthorizationToken": {"c2hvcnQ="}, "PublicKey": {`{"Modulus":"AQAB","Exponent":"AQAB"}`}, "Scope": {`{"Fly":true}`},
		"Expires": {"soon"}, "TokenId": {"-3"}, "Algorithm": {"RSA_1024"}}
	_, err := appauth.ParseRequest(params(q))
	var bad *appauth.BadRequestError
	if !errors.As(err, &bad) {
		t.Fatalf("err %v", err)
	}
	want := []string{"AuthorizationToken: 5 bytes", "PublicKey: the modulus has 17 bits", `Scope: unknown permission "fly"`,
		"VendorAppName is missing", `Expires "soon"`, `TokenId "-3"`, `Algorithm "RSA_1024"`}
	if len(bad.Problems) != len(want) {
		t.Fatalf("problems %q", bad.Problems)
	}
	for i, w := range want {
		if !strings.Contains(bad.Problems[i], w) {
			t.Errorf("problem %d = %q, want it to mention %q", i, bad.Problems[i], w)
		}
	}
	q = sdkQuery()
	q.Del("MachineCode")
	if _, err := appauth.ParseRequest(params(q)); err == nil || !strings.Contains(err.Error(), "MachineCode is missing") {
		t.Fatalf("User Login Auth without a machine code: %v", err)
	}
}

func TestParseScope(t *testing.T) {
	s, err := appauth.ParseScope(dotnetScope("KeyInfo", "Activate", "GetKeys", "TrialActivation"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Methods, []license.Method{license.MethodActivate, license.MethodGetKey, license.MethodCreateTrialKey}) ||
		!slices.Equal(s.Unsupported, []string{"GetKeys"}) {
		t.Fatalf("scope %+v", s)
	}
	s, err = appauth.ParseScope(`{"getlicensekeys":true,"LockToProduct":3,"locktokey":null,"LockToFeature":8,"Activate":null}`)
	if err != nil || !slices.Equal(s.Methods, []license.Method{license.MethodGetLicenseKeys}) || s.ProductLock != 3 || s.FeatureLock != 8 {
		t.Fatalf("scope %+v, %v", s, err)
	}
	for _, bad := range []string{`[]`, `{"Activate":"yes"}`, `{"LockToProduct":-1}`, `{"LockToProduct":1.5}`, `{"LockToWhatever":1}`, `{"Activate":{}}`, `null`} {
		if _, err := appauth.ParseScope(bad); err == nil {
			t.Errorf("ParseScope(%s) accepted", bad)
		}
	}
}

func TestParsePublicKey(t *testing.T) {
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	for _, bad := range []string{dotnetPublicKey(&small.PublicKey), `{"Modulus":null,"Exponent":"AQAB"}`, `{}`, `"x"`,
		strings.Replace(dotnetPublicKey(&appKey().PublicKey), `"Exponent":"AQAB"`, `"Exponent":"AAE="`, 1), // exponent 1
	} {
		if _, err := appauth.ParsePublicKey(bad); err == nil {
			t.Errorf("ParsePublicKey(%.60s) accepted", bad)
		}
	}
	if _, err := appauth.ParsePublicKey(strings.Replace(dotnetPublicKey(&appKey().PublicKey), `"Modulus"`, `"modulus"`, 1)); err != nil {
		t.Errorf("a lower-case member name: %v", err)
	}
}

func FuzzParseRequest(f *testing.F) {
	q := sdkQuery()
	f.Add(q.Get("AuthorizationToken"), q.Get("PublicKey"), q.Get("Scope"), q.Get("Expires"), q.Get("TokenId"))
	f.Add("", "{", "{}", "-1", "x")
	f.Add("AAAA AAAA AAAA AAAA AAAA AAAA", `{"Modulus":"AA==","Exponent":""}`, `{"LockToKey":99999999999999999999}`, "1e3", "0")
	f.Fuzz(func(t *testing.T, token, key, scope, expires, tokenID string) {
		r, err := appauth.ParseRequest(map[string]string{"authorizationtoken": token, "publickey": key, "scope": scope,
			"expires": expires, "tokenid": tokenID, "vendorappname": "app", "machinecode": "m"})
		if err != nil {
			var bad *appauth.BadRequestError
			if !errors.As(err, &bad) || len(bad.Problems) == 0 {
				t.Fatalf("error %v is not a list of problems", err)
			}
			return
		}
		if r.PublicKey == nil || r.PublicKey.N.BitLen() < 2048 || r.TokenID <= 0 || r.Days < 0 || len(r.AuthorizationToken) < 16 {
			t.Fatalf("accepted %+v", r)
		}
	})
}

func FuzzParseScope(f *testing.F) {
	f.Add(dotnetScope("GetLicenseKeys"))
	f.Add(`{"LockToProduct":1,"activate":true}`)
	f.Add(`{"a":[1,{"b":null}]}`)
	f.Fuzz(func(t *testing.T, v string) {
		s, err := appauth.ParseScope(v)
		if err != nil {
			return
		}
		if s.ProductLock < 0 || s.KeyLock < 0 || s.FeatureLock < 0 {
			t.Fatalf("negative lock accepted: %+v", s)
		}
		for _, m := range s.Methods {
			if _, err := license.ParseMethod(string(m)); err != nil || m == license.MethodGetToken {
				t.Fatalf("method %q granted from %q", m, v)
			}
		}
	})
}

func FuzzParsePublicKey(f *testing.F) {
	f.Add(dotnetPublicKey(&appKey().PublicKey))
	f.Add(`{"Modulus":"","Exponent":"AQAB"}`)
	f.Fuzz(func(t *testing.T, v string) {
		k, err := appauth.ParsePublicKey(v)
		if err == nil && (k.N.BitLen() < 2048 || k.N.BitLen() > 4096 || k.E < 3) {
			t.Fatalf("accepted a weak key from %q", v)
		}
	})
}

// TestParseRequestRefusesControlText: the names and machine code shown on the consent page and stored with the
// authorization must be UTF-8 text without control characters.
func TestParseRequestRefusesControlText(t *testing.T) {
	for _, field := range []string{"VendorAppName", "MachineCode", "DeviceName"} {
		for _, v := range []string{"a\x00b", "a\xffb", "a\x1b[2Jb", "a\u009bb"} {
			q := sdkQuery()
			q.Set(field, v)
			var bad *appauth.BadRequestError
			if _, err := appauth.ParseRequest(params(q)); !errors.As(err, &bad) || len(bad.Problems) != 1 ||
				!strings.HasPrefix(bad.Problems[0], field) {
				t.Errorf("%s=%q: %v", field, v, err)
			}
		}
	}
}
