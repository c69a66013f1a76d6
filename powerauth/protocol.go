package powerauth

import (
	"context"
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/powerauth/pacrypto"
	"github.com/tokenmanager/tokenmanager/storage"
)

// Refusals of the PowerAuth protocol. Each maps to one of PowerAuth's wire errors; the wrapped detail is for
// logs only.
var (
	// ErrActivationRefused is PowerAuth's ERR_ACTIVATION / POWER_AUTH_ACTIVATION_INVALID: an unknown, spent or
	// expired activation code, a wrong OTP, an activation in the wrong state.
	ErrActivationRefused = errors.New("powerauth: activation refused")
	// ErrEncryption is ERR_ENCRYPTION / POWER_AUTH_ENCRYPTION_FAILED: an ECIES payload that does not open, a
	// stale timestamp, a replayed nonce, an unknown application key.
	ErrEncryption = errors.New("powerauth: encryption failed")
	// ErrTemporaryKey is ERR_TEMPORARY_KEY / POWER_AUTH_TEMPORARY_KEY_FAILURE: an unknown or expired temporary
	// key, or a keystore request whose JWT does not verify.
	ErrTemporaryKey = errors.New("powerauth: temporary key failure")
	// ErrSignature is ERR_AUTHENTICATION / POWER_AUTH_SIGNATURE_INVALID.
	ErrSignature = errors.New("powerauth: signature invalid")
	// ErrSignatureType is ERR_AUTHENTICATION / POWER_AUTH_SIGNATURE_TYPE_INVALID: a factor combination the
	// endpoint does not accept.
	ErrSignatureType = errors.New("powerauth: signature type not allowed")
	// ErrNoApp is an unknown application (CLI).
	ErrNoApp = errors.New("powerauth: no such application")
	// ErrBadAppID is an application id that is not 1-64 of A-Z a-z 0-9 . _ -.
	ErrBadAppID = errors.New("powerauth: application id must be 1-64 characters of A-Z a-z 0-9 . _ -")
	// ErrBadOTP: the OTP given to InitActivation is too long.
	ErrBadOTP = errors.New("powerauth: OTP longer than 255 bytes")
)

var appIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Associated data of the protocol's sealed values: a value copied into another row does not open.
func appAD(id string) string        { return "powerauth-app:" + id }
func activationAD(id string) string { return "powerauth-activation:" + id }
func tempKeyAD(id string) string    { return "powerauth-temp-key:" + id }

// SealedAD is the associated data of a sealed value of the protocol, for re-sealing it under another server key.
func SealedAD(kind storage.SealedKind, id string) string {
	switch kind {
	case storage.SealedPowerAuthApp:
		return appAD(id)
	case storage.SealedPowerAuthActivation:
		return activationAD(id)
	case storage.SealedPowerAuthTempKey:
		return tempKeyAD(id)
	}
	return ""
}

// App is an application with its secrets opened.
type App struct {
	storage.PowerAuthApp
	Secret string // Base64, as the SDK is configured with it
	Master *ecdh.PrivateKey
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// CreateApp makes an application with a random application key and secret and a fresh master key pair.
func (s *Service) CreateApp(ctx context.Context, id string) (App, error) {
	if s.sealer == nil {
		return App{}, errNoSealer
	}
	if !appIDPattern.MatchString(id) {
		return App{}, ErrBadAppID
	}
	secret := randomBytes(16)
	master := pacrypto.GenerateKey()
	a := storage.PowerAuthApp{ID: id, Key: b64(randomBytes(16)), MasterPublic: master.PublicKey().Bytes(), CreatedAt: s.now()}
	a.Sealed = s.sealer.Seal(append(append([]byte(nil), secret...), master.Bytes()...), appAD(id))
	if err := s.store.CreatePowerAuthApp(ctx, a); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return App{}, fmt.Errorf("powerauth: application %q exists: %w", id, err)
		}
		return App{}, fmt.Errorf("powerauth: create application: %w", err)
	}
	return App{PowerAuthApp: a, Secret: b64(secret), Master: master}, nil
}

// ListApps returns every application (without secrets).
func (s *Service) ListApps(ctx context.Context) ([]storage.PowerAuthApp, error) {
	return s.store.ListPowerAuthApps(ctx)
}

func (s *Service) openApp(a storage.PowerAuthApp) (App, error) {
	if s.sealer == nil {
		return App{}, errNoSealer
	}
	plain, err := s.sealer.Open(a.Sealed, appAD(a.ID))
	if err != nil || len(plain) != 48 {
		return App{}, fmt.Errorf("powerauth: application %s: secrets do not open with this server key", a.ID)
	}
	master, err := pacrypto.ParsePrivateKey(plain[16:])
	if err != nil {
		return App{}, err
	}
	return App{PowerAuthApp: a, Secret: b64(plain[:16]), Master: master}, nil
}

// appByKey finds and opens the application of an application key; ErrNoApp if there is none.
func (s *Service) appByKey(ctx context.Context, key string) (App, error) {
	a, err := s.store.GetPowerAuthAppByKey(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return App{}, ErrNoApp
	}
	if err != nil {
		return App{}, fmt.Errorf("powerauth: load application: %w", err)
	}
	return s.openApp(a)
}

// AppInfo returns an application without opening its secrets (the management API shows no secret twice);
// ErrNoApp if there is none.
func (s *Service) AppInfo(ctx context.Context, id string) (storage.PowerAuthApp, error) {
	a, err := s.store.GetPowerAuthApp(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.PowerAuthApp{}, ErrNoApp
	}
	if err != nil {
		return storage.PowerAuthApp{}, fmt.Errorf("powerauth: load application: %w", err)
	}
	a.Sealed = nil
	return a, nil
}

// App returns an application with its secrets (CLI: shown once more on request).
func (s *Service) App(ctx context.Context, id string) (App, error) {
	a, err := s.store.GetPowerAuthApp(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return App{}, ErrNoApp
	}
	if err != nil {
		return App{}, err
	}
	return s.openApp(a)
}

// PendingActivation is what the operator hands to the user: the activation code and its signature by the
// application's master key (the SDK checks it when given).
type PendingActivation struct {
	ID, Code, Signature string
	ExpiresAt           time.Time
}

func codeHash(code string) []byte {
	h := sha256.Sum256([]byte("powerauth-activation-code\x00" + code))
	return h[:]
}

func otpHash(activationID, otp string) []byte {
	h := sha256.Sum256([]byte("powerauth-activation-otp\x00" + activationID + "\x00" + otp))
	return h[:]
}

// InitActivation creates an activation for user in application appID, waiting (status created) for the device
// that presents the returned activation code (and otp, when not empty) before it expires.
func (s *Service) InitActivation(ctx context.Context, appID, user, otp string) (PendingActivation, error) {
	app, err := s.App(ctx, appID)
	if err != nil {
		return PendingActivation{}, err
	}
	if len(otp) > MaxNameLen {
		return PendingActivation{}, ErrBadOTP
	}
	now := s.now()
	for range idAttempts {
		code := pacrypto.NewActivationCode()
		a := storage.PowerAuthActivation{ID: newUUID(), User: user, Status: storage.PowerAuthCreated, CreatedAt: now, UpdatedAt: now}
		k := storage.PowerAuthKeys{AppID: app.ID, CodeHash: codeHash(code), CodeExpiresAt: now.Add(s.cfg.CodeLifetime),
			MaxFailedAttempts: s.cfg.MaxFailedAttempts, Version: 3}
		if otp != "" {
			k.OTPHash = otpHash(a.ID, otp)
		}
		err := s.store.CreatePowerAuthKeyedActivation(ctx, a, k)
		switch {
		case err == nil:
			return PendingActivation{ID: a.ID, Code: code, Signature: b64(pacrypto.SignDER(app.Master, []byte(code))),
				ExpiresAt: k.CodeExpiresAt}, nil
		case errors.Is(err, storage.ErrNotFound):
			return PendingActivation{}, ErrNoUser
		case !errors.Is(err, storage.ErrConflict):
			return PendingActivation{}, fmt.Errorf("powerauth: create activation: %w", err)
		}
	}
	return PendingActivation{}, errors.New("powerauth: could not find a free activation id and code")
}

// activationKeys are an active activation's opened keys.
type activationKeys struct {
	storage.PowerAuthKeys
	DevicePublic  *ecdh.PublicKey
	ServerPrivate *ecdh.PrivateKey
	Derived       pacrypto.Keys
}

func (s *Service) openKeys(k storage.PowerAuthKeys) (activationKeys, error) {
	if s.sealer == nil {
		return activationKeys{}, errNoSealer
	}
	plain, err := s.sealer.Open(k.Sealed, activationAD(k.ActivationID))
	if err != nil || len(plain) != 65+32 {
		return activationKeys{}, fmt.Errorf("powerauth: activation %s: keys do not open with this server key", k.ActivationID)
	}
	dev, err := pacrypto.ParsePublicKey(plain[:65])
	if err != nil {
		return activationKeys{}, err
	}
	srv, err := pacrypto.ParsePrivateKey(plain[65:])
	if err != nil {
		return activationKeys{}, err
	}
	master, err := pacrypto.MasterSecret(srv, dev)
	if err != nil {
		return activationKeys{}, err
	}
	return activationKeys{PowerAuthKeys: k, DevicePublic: dev, ServerPrivate: srv, Derived: pacrypto.DeriveKeys(master)}, nil
}

// wirePayload is an ECIES payload as JSON carries it.
type wirePayload struct {
	TemporaryKeyID     string `json:"temporaryKeyId,omitempty"`
	EphemeralPublicKey string `json:"ephemeralPublicKey,omitempty"`
	EncryptedData      string `json:"encryptedData"`
	MAC                string `json:"mac"`
	Nonce              string `json:"nonce,omitempty"`
	Timestamp          int64  `json:"timestamp,omitempty"`
}

// EncryptedRequest is a request body encrypted with ECIES.
type EncryptedRequest = wirePayload

// EncryptedResponse is an answer encrypted with ECIES.
type EncryptedResponse = wirePayload

func (p wirePayload) decode() (pacrypto.Payload, error) {
	dec := func(s string) ([]byte, error) {
		if len(s) > 1<<20 {
			return nil, ErrEncryption
		}
		return base64.StdEncoding.DecodeString(s)
	}
	var out pacrypto.Payload
	var err1, err2, err3, err4 error
	out.EphemeralKey, err1 = dec(p.EphemeralPublicKey)
	out.EncryptedData, err2 = dec(p.EncryptedData)
	out.MAC, err3 = dec(p.MAC)
	out.Nonce, err4 = dec(p.Nonce)
	out.Timestamp = p.Timestamp
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return pacrypto.Payload{}, fmt.Errorf("%w: %v", ErrEncryption, err)
	}
	return out, nil
}

func encodePayload(p pacrypto.Payload) wirePayload {
	w := wirePayload{EncryptedData: b64(p.EncryptedData), MAC: b64(p.MAC), Timestamp: p.Timestamp}
	if p.Nonce != nil {
		w.Nonce = b64(p.Nonce)
	}
	if p.EphemeralKey != nil {
		w.EphemeralPublicKey = b64(p.EphemeralKey)
	}
	return w
}

func isV32(version string) bool { return version == "3.2" || version == "3.3" }

// decrypt opens a request in the given scope: it picks the private key (the temporary key named in the payload
// for 3.3, else the application's master key or the activation's server key), checks the 3.2+ timestamp window
// and records the nonce so the same payload is refused the next time.
func (s *Service) decrypt(ctx context.Context, app App, keys *activationKeys, version, sh1 string, w wirePayload) (*pacrypto.Envelope, []byte, error) {
	p, err := w.decode()
	if err != nil {
		return nil, nil, err
	}
	sc := pacrypto.Scope{Version: version, AppKey: app.Key, AppSecret: app.Secret}
	priv := app.Master
	if keys != nil {
		sc.ActivationID, sc.TransportKey, priv = keys.ActivationID, keys.Derived.Transport, keys.ServerPrivate
	}
	now := s.now()
	if version == "3.3" {
		tk, err := s.store.GetPowerAuthTempKey(ctx, w.TemporaryKeyID)
		if errors.Is(err, storage.ErrNotFound) || (err == nil && (!now.Before(tk.ExpiresAt) || tk.AppID != app.ID ||
			(keys == nil) != (tk.ActivationID == "") || (keys != nil && tk.ActivationID != keys.ActivationID))) {
			return nil, nil, fmt.Errorf("%w: temporary key %q unknown, expired or of another scope", ErrTemporaryKey, w.TemporaryKeyID)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("powerauth: load temporary key: %w", err)
		}
		plain, err := s.sealer.Open(tk.Sealed, tempKeyAD(tk.ID))
		if err != nil {
			return nil, nil, fmt.Errorf("powerauth: temporary key %s does not open with this server key", tk.ID)
		}
		if priv, err = pacrypto.ParsePrivateKey(plain); err != nil {
			return nil, nil, err
		}
		sc.TempKeyID = tk.ID
	}
	if isV32(version) {
		ts := time.UnixMilli(p.Timestamp)
		if ts.Before(now.Add(-s.cfg.ECIESWindow)) || ts.After(now.Add(s.cfg.ECIESWindow)) {
			return nil, nil, fmt.Errorf("%w: timestamp outside ±%s", ErrEncryption, s.cfg.ECIESWindow)
		}
	}
	env, plain, err := pacrypto.DecryptRequest(priv, sc, sh1, p)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrEncryption, err)
	}
	if isV32(version) {
		// PowerAuth's unique value: nonce and ephemeral key, remembered while the timestamp is acceptable.
		scope := "ecies:" + app.ID
		if keys != nil {
			scope += ":" + keys.ActivationID
		}
		err := s.store.UsePowerAuthNonce(ctx, scope, append(append([]byte(nil), p.Nonce...), p.EphemeralKey...),
			time.UnixMilli(p.Timestamp).Add(s.cfg.ECIESWindow), now)
		if errors.Is(err, storage.ErrConflict) {
			return nil, nil, fmt.Errorf("%w: nonce already used", ErrEncryption)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("powerauth: record ECIES nonce: %w", err)
		}
	}
	return env, plain, nil
}

// limitedJSON decodes a small JSON document, refusing unknown trailing data.
func limitedJSON(b []byte, v any) error {
	if len(b) > 64<<10 {
		return errors.New("too large")
	}
	return json.Unmarshal(b, v)
}

// activationLayer1 is the outer plaintext of /pa/v3/activation/create.
type activationLayer1 struct {
	ActivationType     string            `json:"activationType"`
	Type               string            `json:"type"` // the name the SDK's model uses
	IdentityAttributes map[string]string `json:"identityAttributes"`
	ActivationData     wirePayload       `json:"activationData"`
}

type activationLayer2 struct {
	ActivationName  string `json:"activationName"`
	DevicePublicKey string `json:"devicePublicKey"`
	ActivationOTP   string `json:"activationOtp"`
	Platform        string `json:"platform"`
	DeviceInfo      string `json:"deviceInfo"`
}

// CreatedActivation is the outcome of a key exchange, for audit.
type CreatedActivation struct {
	ID, User, AppID string
}

// ActivateWithCode runs /pa/v3/activation/create: both ECIES layers in application scope, the activation code
// (and OTP) checked, the device key stored, the server key pair made, the activation committed at once. It
// returns the encrypted answer.
func (s *Service) ActivateWithCode(ctx context.Context, hdr EncryptionFields, body wirePayload) (EncryptedResponse, CreatedActivation, error) {
	app, err := s.appByKey(ctx, hdr.AppKey)
	if errors.Is(err, ErrNoApp) {
		return EncryptedResponse{}, CreatedActivation{}, fmt.Errorf("%w: unknown application key", ErrEncryption)
	}
	if err != nil {
		return EncryptedResponse{}, CreatedActivation{}, err
	}
	env1, plain1, err := s.decrypt(ctx, app, nil, hdr.Version, pacrypto.SharedInfoApplication, body)
	if err != nil {
		return EncryptedResponse{}, CreatedActivation{}, err
	}
	var l1 activationLayer1
	if err := limitedJSON(plain1, &l1); err != nil {
		return EncryptedResponse{}, CreatedActivation{}, fmt.Errorf("%w: layer 1: %v", ErrActivationRefused, err)
	}
	if t := l1.ActivationType + l1.Type; t != "CODE" {
		return EncryptedResponse{}, CreatedActivation{}, fmt.Errorf("%w: activation type %q (only CODE)", ErrActivationRefused, t)
	}
	env2, plain2, err := s.decrypt(ctx, app, nil, hdr.Version, pacrypto.SharedInfoActivation2, l1.ActivationData)
	if err != nil {
		return EncryptedResponse{}, CreatedActivation{}, err
	}
	var l2 activationLayer2
	if err := limitedJSON(plain2, &l2); err != nil {
		return EncryptedResponse{}, CreatedActivation{}, fmt.Errorf("%w: layer 2: %v", ErrActivationRefused, err)
	}
	devBytes, err := base64.StdEncoding.DecodeString(l2.DevicePublicKey)
	if err != nil {
		return EncryptedResponse{}, CreatedActivation{}, fmt.Errorf("%w: device public key", ErrActivationRefused)
	}
	dev, err := pacrypto.ParsePublicKey(devBytes)
	if err != nil {
		return EncryptedResponse{}, CreatedActivation{}, fmt.Errorf("%w: device public key", ErrActivationRefused)
	}
	name := l2.ActivationName
	if !validName(name) {
		return EncryptedResponse{}, CreatedActivation{}, fmt.Errorf("%w: %v", ErrActivationRefused, ErrBadName)
	}
	code := l1.IdentityAttributes["code"]
	if !pacrypto.ValidActivationCode(code) {
		return EncryptedResponse{}, CreatedActivation{}, fmt.Errorf("%w: malformed activation code", ErrActivationRefused)
	}
	id, err := s.store.FindPowerAuthCode(ctx, codeHash(code))
	if errors.Is(err, storage.ErrNotFound) {
		return EncryptedResponse{}, CreatedActivation{}, fmt.Errorf("%w: unknown or spent activation code", ErrActivationRefused)
	}
	if err != nil {
		return EncryptedResponse{}, CreatedActivation{}, fmt.Errorf("powerauth: find activation code: %w", err)
	}
	server := pacrypto.GenerateKey()
	ctr := randomBytes(16)
	var out CreatedActivation
	now := s.now()
	err = s.store.UpdatePowerAuthKeyed(ctx, id, func(a *storage.PowerAuthActivation, k *storage.PowerAuthKeys) error {
		switch {
		case a.Status != storage.PowerAuthCreated || k.CodeHash == nil:
			return fmt.Errorf("%w: activation is %s", ErrActivationRefused, a.Status)
		case k.AppID != app.ID:
			return fmt.Errorf("%w: the code belongs to another application", ErrActivationRefused)
		case !now.Before(k.CodeExpiresAt):
			return fmt.Errorf("%w: activation code expired", ErrActivationRefused)
		case k.OTPHash != nil && !equalHash(k.OTPHash, otpHash(a.ID, l2.ActivationOTP)):
			return fmt.Errorf("%w: wrong OTP", ErrActivationRefused)
		}
		sealed := append(append([]byte(nil), dev.Bytes()...), server.Bytes()...)
		a.Name, a.Status, a.UpdatedAt = name, storage.PowerAuthActive, now
		k.CodeHash, k.OTPHash = nil, nil
		k.Sealed, k.ServerPublic, k.CtrData, k.Counter = s.sealer.Seal(sealed, activationAD(a.ID)), server.PublicKey().Bytes(), ctr, 0
		out = CreatedActivation{ID: a.ID, User: a.User, AppID: app.ID}
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		return EncryptedResponse{}, CreatedActivation{}, fmt.Errorf("%w: activation gone", ErrActivationRefused)
	}
	if err != nil {
		return EncryptedResponse{}, CreatedActivation{}, err
	}
	r2, _ := json.Marshal(map[string]string{"activationId": out.ID, "serverPublicKey": b64(server.PublicKey().Bytes()), "ctrData": b64(ctr)})
	inner := encodePayload(env2.EncryptResponse(r2, now.UnixMilli()))
	r1, _ := json.Marshal(map[string]any{"activationData": inner, "customAttributes": map[string]any{}})
	return encodePayload(env1.EncryptResponse(r1, now.UnixMilli())), out, nil
}

func equalHash(a, b []byte) bool { return len(a) == len(b) && subtleEqual(a, b) }

// StatusAnswer is /pa/v3/activation/status's responseObject.
type StatusAnswer struct {
	ActivationID        string         `json:"activationId"`
	EncryptedStatusBlob string         `json:"encryptedStatusBlob"`
	Nonce               string         `json:"nonce,omitempty"`
	CustomObject        map[string]any `json:"customObject"`
}

// ErrNoStatus is an activation id without protocol keys (unknown, simple or not yet exchanged).
var ErrNoStatus = errors.New("powerauth: no status for this activation")

// ProtocolStatus builds the encrypted status blob of an activation made by the SDK. challenge is 16 bytes (3.1+),
// or nil (3.0: zero IV, no nonce).
func (s *Service) ProtocolStatus(ctx context.Context, activationID string, challenge []byte) (StatusAnswer, error) {
	activationID = strings.ToLower(activationID)
	k, err := s.store.GetPowerAuthKeys(ctx, activationID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && k.Sealed == nil) {
		return StatusAnswer{}, ErrNoStatus
	}
	if err != nil {
		return StatusAnswer{}, err
	}
	a, err := s.store.GetPowerAuthActivation(ctx, activationID)
	if err != nil {
		return StatusAnswer{}, err
	}
	keys, err := s.openKeys(k)
	if err != nil {
		return StatusAnswer{}, err
	}
	status := map[storage.PowerAuthActivationStatus]byte{storage.PowerAuthCreated: pacrypto.StatusCreated,
		storage.PowerAuthActive: pacrypto.StatusActive, storage.PowerAuthBlocked: pacrypto.StatusBlocked,
		storage.PowerAuthRemoved: pacrypto.StatusRemoved}[a.Status]
	blob := pacrypto.StatusBlob{Status: status, CurrentVersion: 3, UpgradeVersion: 3, CtrByte: byte(k.Counter),
		FailCount: byte(k.FailedAttempts), MaxFailCount: byte(k.MaxFailedAttempts), CtrLookAhead: byte(s.cfg.LookAhead),
		CtrDataHash: pacrypto.CtrDataHash(keys.Derived.Transport, k.CtrData)}
	ans := StatusAnswer{ActivationID: a.ID, CustomObject: map[string]any{}}
	if challenge == nil {
		ans.EncryptedStatusBlob = b64(pacrypto.CBCNoPadding(keys.Derived.Transport, make([]byte, 16), blob.Bytes()))
		return ans, nil
	}
	nonce := randomBytes(16)
	ans.Nonce = b64(nonce)
	ans.EncryptedStatusBlob = b64(pacrypto.EncryptStatus(keys.Derived.Transport, challenge, nonce, blob))
	return ans, nil
}

// SignedRequest is what a signature covers.
type SignedRequest struct {
	Header  string // X-PowerAuth-Authorization
	Method  string
	URIID   string // e.g. "/pa/token/create"
	Body    []byte
	Allowed []pacrypto.SignatureType // nil: any
}

// Signed is a verified signature: the activation (active), its opened keys and the application.
type Signed struct {
	Activation storage.PowerAuthActivation
	Type       pacrypto.SignatureType
	Version    string
	App        App
	keys       activationKeys
}

// VerifySignature checks X-PowerAuth-Authorization against the request. A signature that does not match any
// counter value in the look-ahead window counts a failed attempt, and the activation is blocked (its tokens
// deleted) when they reach the maximum; a match moves the counter past it and, unless the signature is
// possession only, clears the failed attempts. Both happen in one transaction with the check.
func (s *Service) VerifySignature(ctx context.Context, r SignedRequest) (Signed, error) {
	h, err := ParseSignatureHeader(r.Header)
	if err != nil {
		return Signed{}, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	typ, ok := pacrypto.ParseSignatureType(h.SignatureType)
	if !ok {
		return Signed{}, fmt.Errorf("%w: %q", ErrSignatureType, h.SignatureType)
	}
	if r.Allowed != nil {
		allowed := false
		for _, t := range r.Allowed {
			allowed = allowed || t == typ
		}
		if !allowed {
			return Signed{}, fmt.Errorf("%w: %s", ErrSignatureType, typ)
		}
	}
	app, keys, err := s.signerKeys(ctx, h)
	if err != nil {
		return Signed{}, err
	}
	data := pacrypto.NormalizedData(r.Method, r.URIID, h.Nonce, r.Body, app.Secret)
	var out Signed
	var failed bool
	err = s.store.UpdatePowerAuthKeyed(ctx, h.ActivationID, func(a *storage.PowerAuthActivation, k *storage.PowerAuthKeys) error {
		failed = false
		if a.Status != storage.PowerAuthActive {
			return fmt.Errorf("%w: activation is %s", ErrSignature, a.Status)
		}
		steps, matched, verr := pacrypto.VerifySignature(h.Version, data, typ.FactorKeys(keys.Derived), k.CtrData, s.cfg.LookAhead, h.Signature)
		now := s.now()
		if verr != nil {
			failed = true
			k.FailedAttempts++
			if k.FailedAttempts >= k.MaxFailedAttempts {
				a.Status, a.UpdatedAt = storage.PowerAuthBlocked, now
			}
			return nil
		}
		k.CtrData, k.Counter = pacrypto.NextCtrData(matched), k.Counter+int64(steps)+1
		if typ != pacrypto.Possession {
			k.FailedAttempts = 0
		}
		out = Signed{Activation: *a, Type: typ, Version: h.Version, App: app, keys: keys}
		return nil
	})
	if err != nil {
		return Signed{}, err
	}
	if failed {
		return Signed{}, fmt.Errorf("%w: no match in the look-ahead window", ErrSignature)
	}
	return out, nil
}

// signerKeys loads the application and the keys of the activation a signature header names.
func (s *Service) signerKeys(ctx context.Context, h SignatureHeader) (App, activationKeys, error) {
	app, err := s.appByKey(ctx, h.AppKey)
	if errors.Is(err, ErrNoApp) {
		return App{}, activationKeys{}, fmt.Errorf("%w: unknown application key", ErrSignature)
	}
	if err != nil {
		return App{}, activationKeys{}, err
	}
	k, err := s.store.GetPowerAuthKeys(ctx, h.ActivationID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && (k.Sealed == nil || k.AppID != app.ID)) {
		return App{}, activationKeys{}, fmt.Errorf("%w: no such activation of this application", ErrSignature)
	}
	if err != nil {
		return App{}, activationKeys{}, err
	}
	keys, err := s.openKeys(k)
	return app, keys, err
}

// tokenCreateTypes are the factor combinations /pa/v3/token/create accepts (restful-integration's controller).
var tokenCreateTypes = []pacrypto.SignatureType{pacrypto.Possession, pacrypto.PossessionKnowledge, pacrypto.PossessionBiometry,
	pacrypto.PossessionKnowledgeBiometry}

// removeActivationTypes: removal by the device takes two factors.
var removeActivationTypes = []pacrypto.SignatureType{pacrypto.PossessionKnowledge, pacrypto.PossessionBiometry,
	pacrypto.PossessionKnowledgeBiometry}

// CreateTokenSigned runs /pa/v3/token/create: the signature over the encrypted body (encrypt-then-sign), then
// ECIES in activation scope; the answer {tokenId, tokenSecret} encrypted.
func (s *Service) CreateTokenSigned(ctx context.Context, header string, body []byte) (EncryptedResponse, IssuedToken, Signed, error) {
	var w wirePayload
	if err := limitedJSON(body, &w); err != nil {
		return EncryptedResponse{}, IssuedToken{}, Signed{}, fmt.Errorf("%w: body: %v", ErrEncryption, err)
	}
	// The payload is opened first: a replayed, stale or tampered one is refused before the signature is
	// checked, so it neither moves the counter nor counts as a failed attempt.
	h, err := ParseSignatureHeader(header)
	if err != nil {
		return EncryptedResponse{}, IssuedToken{}, Signed{}, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	app, keys, err := s.signerKeys(ctx, h)
	if err != nil {
		return EncryptedResponse{}, IssuedToken{}, Signed{}, err
	}
	env, _, err := s.decrypt(ctx, app, &keys, h.Version, pacrypto.SharedInfoTokenCreate, w)
	if err != nil {
		return EncryptedResponse{}, IssuedToken{}, Signed{}, err
	}
	signed, err := s.VerifySignature(ctx, SignedRequest{Header: header, Method: "POST", URIID: "/pa/token/create", Body: body,
		Allowed: tokenCreateTypes})
	if err != nil {
		return EncryptedResponse{}, IssuedToken{}, Signed{}, err
	}
	tok, err := s.CreateToken(ctx, "", signed.Activation.ID)
	if err != nil {
		return EncryptedResponse{}, IssuedToken{}, Signed{}, err
	}
	plain, _ := json.Marshal(map[string]string{"tokenId": tok.ID, "tokenSecret": b64(tok.Secret)})
	return encodePayload(env.EncryptResponse(plain, s.now().UnixMilli())), tok, signed, nil
}

// RemoveTokenSigned runs /pa/v3/token/remove: any signature type; the token is removed only if it belongs to
// the signing activation.
func (s *Service) RemoveTokenSigned(ctx context.Context, header string, body []byte, tokenID string) (bool, Signed, error) {
	signed, err := s.VerifySignature(ctx, SignedRequest{Header: header, Method: "POST", URIID: "/pa/token/remove", Body: body})
	if err != nil {
		return false, Signed{}, err
	}
	removed, err := s.RemoveToken(ctx, signed.Activation.User, tokenID, signed.Activation.ID)
	return removed, signed, err
}

// RemoveActivationSigned runs /pa/v3/activation/remove with a two-factor signature.
func (s *Service) RemoveActivationSigned(ctx context.Context, header string, body []byte) (Signed, error) {
	signed, err := s.VerifySignature(ctx, SignedRequest{Header: header, Method: "POST", URIID: "/pa/activation/remove", Body: body,
		Allowed: removeActivationTypes})
	if err != nil {
		return Signed{}, err
	}
	_, err = s.RemoveActivation(ctx, "", signed.Activation.ID)
	return signed, err
}
