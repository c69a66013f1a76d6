package servertest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/appauth"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/storage"
)

// AppStack is the licensing stack with app authorization: simon0897 is the vendor, paul1234 the end user,
// linked to simon0897's customer "Paul" (one device at most), who owns one key of the product.
type AppStack struct {
	*CLStack
	AA       *appauth.Service
	Customer storage.Customer
	Key      storage.LicenseKey
	Parent   string // simon0897's parent token: GetToken, GetLicenseKeys, GetKey; product lock; key lock 30 days
	ParentID int64
}

func WithAppAuth(svc **appauth.Service, lic **license.Service) Option {
	return func(su *Setup) {
		su.Wire = append(su.Wire, func(st *Stack, d *server.Deps) {
			*svc = appauth.New(st.Store, *lic, appauth.Options{Now: st.Clock.Now})
			d.AppAuth = server.AppAuthDeps{Service: *svc, CSRFKey: []byte("csrf test key, 32 bytes long....")}
		})
	}
}

func NewAppStack(t *testing.T, opts ...Option) *AppStack {
	t.Helper()
	ctx := context.Background()
	var lic *license.Service
	var aa *appauth.Service
	st := NewStack(t, append(opts, WithLicense(&lic), WithAppAuth(&aa, &lic))...)
	for _, v := range []string{"simon0897", "paul1234"} {
		if err := lic.AddVendor(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	cl := &CLStack{Stack: st, Svc: lic}
	cl.Product = cl.NewProduct(t, "simon0897")
	pub, err := license.PublicKey(cl.Product)
	if err != nil {
		t.Fatal(err)
	}
	cl.PubXML = license.PublicKeyXML(pub)
	s := &AppStack{CLStack: cl, AA: aa}
	if s.Customer, err = lic.CreateCustomer(ctx, license.Admin(), "simon0897", license.CustomerSpec{Name: "Paul", Email: "paul@example.com",
		MaxNoOfDevices: 1, User: "paul1234"}); err != nil {
		t.Fatal(err)
	}
	s.Key = cl.NewKey(t, license.KeySpec{Period: 365, Notes: "internal: paid by invoice", CustomerID: s.Customer.ID, MaxNoOfMachines: 3})
	cl.NewKey(t, license.KeySpec{Period: 365}) // someone else's
	issued, err := lic.CreateAPIToken(ctx, "simon0897", license.TokenSpec{Name: "desktop app", Methods: []license.Method{
		license.MethodGetToken, license.MethodGetLicenseKeys, license.MethodGetKey}, ProductLock: cl.Product.ID, KeyLock: 30,
		FeatureLock: int64(license.HideNotes)})
	if err != nil {
		t.Fatal(err)
	}
	s.Parent, s.ParentID = issued.Token, issued.Record.ID
	return s
}

// App is the vendor's desktop app: a fresh RSA key and AuthorizationToken per request, as the SDK makes them.
type App struct {
	Key       *rsa.PrivateKey
	AuthToken string
	Query     url.Values
}

func NewApp(parentID int64, scope string, expires int, machine string) *App {
	raw := make([]byte, 30)
	rand.Read(raw)
	a := &App{Key: PooledKeys()[0], AuthToken: base64.StdEncoding.EncodeToString(raw)}
	pk, _ := json.Marshal(map[string]any{"Exponent": big.NewInt(int64(a.Key.E)).Bytes(), "Modulus": a.Key.N.Bytes(),
		"P": nil, "Q": nil, "DP": nil, "DQ": nil, "InverseQ": nil, "D": nil})
	a.Query = url.Values{"AuthorizationToken": {a.AuthToken}, "PublicKey": {string(pk)}, "Scope": {scope}, "VendorAppName": {"Photo Editor"},
		"Expires": {strconv.Itoa(expires)}, "TokenId": {strconv.FormatInt(parentID, 10)}, "MachineCode": {machine},
		"DeviceName": {"PAUL-PC"}, "Algorithm": {"RSA_2048"}}
	return a
}

// ConsentURL is the URL the SDK opens: its query is built with EscapeDataString (%20, never +).
func (a *App) ConsentURL(base string) string {
	return base + "/User/AuthorizeApp/?" + strings.ReplaceAll(a.Query.Encode(), "+", "%20")
}

const UserLoginScope = `{"GetLicenseKeys":true,"Activate":false,"KeyInfo":false,"LockToProduct":0,"LockToKey":0,"LockToFeature":0}`

func (s *AppStack) Challenge(t *testing.T, a *App, parent string) map[string]any {
	t.Helper()
	return s.Post(t, "auth/GetChallenge", url.Values{"AuthorizationToken": {a.AuthToken}, "token": {parent}, "v": {"1"}, "modelversion": {"1"}})
}

// Solve signs challenge ‖ int64-LE(date) with SHA-512, exactly as the .NET SDK does.
func Solve(t *testing.T, key *rsa.PrivateKey, challengeB64 string, date int64) string {
	t.Helper()
	challenge, err := base64.StdEncoding.DecodeString(challengeB64)
	if err != nil || len(challenge) != appauth.ChallengeSize {
		t.Fatalf("challenge %q: %v", challengeB64, err)
	}
	msg := binary.LittleEndian.AppendUint64(challenge, uint64(date))
	sum := sha512.Sum512(msg)
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA512, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func (s *AppStack) GetToken(t *testing.T, a *App, parent string, date int64, signed string) map[string]any {
	t.Helper()
	return s.Post(t, "auth/GetToken/", url.Values{"AuthorizationToken": {a.AuthToken}, "Date": {strconv.FormatInt(date, 10)},
		"SignedChallenge": {signed}, "token": {parent}, "v": {"1"}, "modelversion": {"1"}})
}

// Collect is the SDK's loop body once: GetChallenge, sign with key at date, GetToken.
func (s *AppStack) Collect(t *testing.T, a *App, key *rsa.PrivateKey, date int64) map[string]any {
	t.Helper()
	c := s.Challenge(t, a, s.Parent)
	MustOK(t, "GetChallenge", c)
	return s.GetToken(t, a, s.Parent, date, Solve(t, key, c["challenge"].(string), date))
}

func (s *AppStack) Now() int64 { return s.Clock.Now().Unix() }

// Browser is a user agent without JavaScript: cookies, redirects, forms.
type Browser struct {
	T *testing.T
	C *http.Client
}

func NewBrowser(t *testing.T) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{T: t, C: &http.Client{Jar: jar}}
}

func (b *Browser) Send(method, u string, form url.Values) (int, string) {
	b.T.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.T.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.C.Do(req)
	if err != nil {
		b.T.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if form == nil && resp.Header.Get("X-Frame-Options") != "DENY" {
		b.T.Fatalf("%s %s: no X-Frame-Options: DENY on a page", method, u)
	}
	return resp.StatusCode, string(out)
}

func (b *Browser) Get(u string) (int, string) { b.T.Helper(); return b.Send("GET", u, nil) }

var CSRFField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// Submit posts a form of page (the last body seen at u) with its CSRF token and the given fields.
func (b *Browser) Submit(u, page string, fields ...string) (int, string) {
	b.T.Helper()
	m := CSRFField.FindStringSubmatch(page)
	if m == nil {
		b.T.Fatalf("no CSRF token in the page:\n%s", page)
	}
	form := url.Values{"csrf": {m[1]}}
	for i := 0; i+1 < len(fields); i += 2 {
		form.Set(fields[i], fields[i+1])
	}
	return b.Send("POST", u, form)
}

func (b *Browser) SignIn(u, user, pass string) (int, string) {
	b.T.Helper()
	_, page := b.Get(u)
	return b.Submit(u, page, "action", "signin", "username", user, "password", pass)
}

func MustContain(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Fatalf("%s does not contain %q:\n%s", what, w, body)
		}
	}
}

func (s *AppStack) AuditEvents(t *testing.T, action string) []storage.AuditEvent {
	t.Helper()
	s.Audit.Flush(context.Background())
	events, err := s.Store.ListAudit(context.Background(), storage.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// ApproveInBrowser signs paul1234 in on a fresh browser and approves a's request.
func (s *AppStack) ApproveInBrowser(t *testing.T, a *App) *Browser {
	t.Helper()
	b := NewBrowser(t)
	status, page := b.SignIn(a.ConsentURL(s.URL), "paul1234", "pa55")
	if status != 200 {
		t.Fatalf("sign in: %d\n%s", status, page)
	}
	if status, page := b.Submit(a.ConsentURL(s.URL), page, "action", "approve"); status != 200 || !strings.Contains(page, `data-state="approved"`) {
		t.Fatalf("approve: %d\n%s", status, page)
	}
	return b
}
