package storage

import "context"

// SettingServerKey is the setting under which the database keeps the fingerprint of its server key.
const SettingServerKey = "server_key_fingerprint"

// SealedKind names a kind of value sealed with the server key.
type SealedKind string

// Every kind of value sealed with the server key.
const (
	SealedTokenKey        SealedKind = "token-key"           // ID: the token key's id
	SealedDigestPassword  SealedKind = "digest-password"     // ID: the user's name
	SealedSigningKey      SealedKind = "license-signing-key" // ID: the product's id, in decimal
	SealedPowerAuthSecret SealedKind = "powerauth-secret"    // ID: the token's id; Owner: its activation's id
	SealedOAuthKey        SealedKind = "oauth-signing-key"   // ID: the JWT signing key's id (its kid)
)

// SealedValue is one value sealed with the server key, as ResealServerKey hands it out.
type SealedValue struct {
	Kind  SealedKind
	ID    string
	Owner string
	// Value is the sealed value; nil only for the original token key (OriginalTokenKey), which is derived from
	// the server key and was never stored.
	Value []byte
}

// ServerKeys changes the server key a database is used with.
type ServerKeys interface {
	// ResealServerKey passes every value sealed with the server key to reseal and stores what it returns
	// (nothing when it returns nil), and changes the setting SettingServerKey to fingerprint to, all in one
	// transaction: an error from reseal or the database leaves everything as it was. The setting must hold from
	// or to (to: a second pass, for what lagging nodes sealed with the old key meanwhile), else ErrConflict.
	// While the token key ring is empty, the original key is handed out too (Value nil) and, if reseal returns
	// a value, stored as the ring's primary key: it can no longer be derived from the server key. Returns how
	// many values were stored.
	ResealServerKey(ctx context.Context, from, to string, reseal func(SealedValue) ([]byte, error)) (int, error)
	// ServerKeyFingerprint returns the value of the setting SettingServerKey; ErrNotFound if it has none.
	ServerKeyFingerprint(ctx context.Context) (string, error)
}
