package powerauth

import (
	"context"
	"crypto/ecdh"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tokenmanager/tokenmanager/powerauth/pacrypto"
	"github.com/tokenmanager/tokenmanager/storage"
)

// MaxJWT bounds the keystore request's JWT.
const MaxJWT = 4096

var jwtEnc = base64.RawURLEncoding

// keystoreRequest is the claims of /pa/v3/keystore/create's request JWT.
type keystoreRequest struct {
	ApplicationKey string `json:"applicationKey"`
	ActivationID   string `json:"activationId"`
	Challenge      string `json:"challenge"`
}

// splitJWT returns the signing input, the decoded header and claims, and the signature of a compact JWS.
func splitJWT(tok string) (input string, header, claims, sig []byte, err error) {
	if len(tok) > MaxJWT {
		return "", nil, nil, nil, errors.New("JWT too long")
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", nil, nil, nil, errors.New("not a compact JWS")
	}
	dec := func(s string) ([]byte, error) { return jwtEnc.DecodeString(strings.TrimRight(s, "=")) }
	if header, err = dec(parts[0]); err == nil {
		if claims, err = dec(parts[1]); err == nil {
			sig, err = dec(parts[2])
		}
	}
	return parts[0] + "." + parts[1], header, claims, sig, err
}

// CreateTempKey runs /pa/v3/keystore/create: the HS256 request JWT is checked with the application secret
// (application scope) or KDF_INTERNAL(KEY_TRANSPORT, secret) (activation scope, when it names an activation), a
// key pair is made and kept for TempKeyLifetime, and the public key goes back in an ES256 JWT signed with the
// master private key or the activation's server private key.
func (s *Service) CreateTempKey(ctx context.Context, requestJWT string) (string, error) {
	input, hdr, claims, sig, err := splitJWT(requestJWT)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrTemporaryKey, err)
	}
	var h struct {
		Alg string `json:"alg"`
	}
	var req keystoreRequest
	if json.Unmarshal(hdr, &h) != nil || h.Alg != "HS256" || json.Unmarshal(claims, &req) != nil || req.ApplicationKey == "" ||
		req.Challenge == "" || len(req.Challenge) > 256 {
		return "", fmt.Errorf("%w: request JWT is not HS256 with applicationKey and challenge", ErrTemporaryKey)
	}
	app, err := s.appByKey(ctx, req.ApplicationKey)
	if errors.Is(err, ErrNoApp) {
		return "", fmt.Errorf("%w: unknown application key", ErrTemporaryKey)
	}
	if err != nil {
		return "", err
	}
	secret, _ := base64.StdEncoding.DecodeString(app.Secret)
	macKey, signer := secret, app.Master
	req.ActivationID = strings.ToLower(req.ActivationID)
	if req.ActivationID != "" {
		k, err := s.store.GetPowerAuthKeys(ctx, req.ActivationID)
		if errors.Is(err, storage.ErrNotFound) || (err == nil && (k.Sealed == nil || k.AppID != app.ID)) {
			return "", fmt.Errorf("%w: no such activation of this application", ErrTemporaryKey)
		}
		if err != nil {
			return "", err
		}
		a, err := s.store.GetPowerAuthActivation(ctx, req.ActivationID)
		if err != nil || a.Status != storage.PowerAuthActive {
			return "", fmt.Errorf("%w: activation not active", ErrTemporaryKey)
		}
		keys, err := s.openKeys(k)
		if err != nil {
			return "", err
		}
		macKey, signer = pacrypto.KDFInternal(keys.Derived.Transport, secret), keys.ServerPrivate
	}
	if !hmac.Equal(pacrypto.HMAC(macKey, []byte(input)), sig) {
		return "", fmt.Errorf("%w: request JWT signature", ErrTemporaryKey)
	}
	priv := pacrypto.GenerateKey()
	now := s.now()
	tk := storage.PowerAuthTempKey{ID: newUUID(), AppID: app.ID, ActivationID: req.ActivationID, Public: priv.PublicKey().Bytes(),
		ExpiresAt: now.Add(s.cfg.TempKeyLifetime)}
	tk.Sealed = s.sealer.Seal(priv.Bytes(), tempKeyAD(tk.ID))
	if err := s.store.CreatePowerAuthTempKey(ctx, tk); err != nil {
		return "", fmt.Errorf("powerauth: store temporary key: %w", err)
	}
	resp := map[string]any{"sub": tk.ID, "applicationKey": app.Key, "challenge": req.Challenge, "publicKey": b64(tk.Public),
		"iat": now.Unix(), "exp": tk.ExpiresAt.Unix(), "iat_ms": now.UnixMilli(), "exp_ms": tk.ExpiresAt.UnixMilli()}
	if req.ActivationID != "" {
		resp["activationId"] = req.ActivationID
	}
	return signES256(signer, resp), nil
}

func signES256(k *ecdh.PrivateKey, claims any) string {
	c, _ := json.Marshal(claims)
	input := jwtEnc.EncodeToString([]byte(`{"alg":"ES256","typ":"JWT"}`)) + "." + jwtEnc.EncodeToString(c)
	return input + "." + jwtEnc.EncodeToString(pacrypto.SignRaw(k, []byte(input)))
}

// CollectTempKeys deletes expired temporary keys, in batches; returns how many.
func (s *Service) CollectTempKeys(ctx context.Context, batch int) (int, error) {
	cutoff := s.now().Add(-NonceRetention)
	total := 0
	for {
		n, err := s.store.DeletePowerAuthTempKeys(ctx, cutoff, batch)
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
}
