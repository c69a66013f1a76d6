package storage

import (
	"context"
	"time"
)

// PowerAuthCreated is an activation made for the PowerAuth protocol that waits for its device: it has an
// activation code, and no keys yet.
const PowerAuthCreated PowerAuthActivationStatus = "created"

// Kinds of PowerAuth protocol secrets sealed with the server key.
const (
	SealedPowerAuthApp        SealedKind = "powerauth-app"        // ID: the application's id
	SealedPowerAuthActivation SealedKind = "powerauth-activation" // ID: the activation's id
	SealedPowerAuthTempKey    SealedKind = "powerauth-temp-key"   // ID: the temporary key's id
)

// PowerAuthApp is a mobile application of the PowerAuth protocol: its application key (public, sent in every
// request), its application secret and the master key pair whose private half signs activation codes and
// application-scope temporary keys. Secret and private key are sealed together in Sealed.
type PowerAuthApp struct {
	ID           string
	Key          string // Base64 of 16 random bytes
	MasterPublic []byte // uncompressed P-256 point
	Sealed       []byte
	CreatedAt    time.Time
}

// PowerAuthKeys is the protocol state of an activation created for the mobile SDK.
type PowerAuthKeys struct {
	ActivationID string
	AppID        string
	// CodeHash is SHA-256 of the activation code while the activation waits for its device (status created);
	// nil once the code is spent. OTPHash is set when an OTP must accompany the code.
	CodeHash, OTPHash []byte
	CodeExpiresAt     time.Time
	// Sealed holds KEY_DEVICE_PUBLIC and KEY_SERVER_PRIVATE, sealed; nil before the key exchange.
	Sealed            []byte
	ServerPublic      []byte
	CtrData           []byte // the hash-based counter's current value (16 bytes)
	Counter           int64  // how many signatures were accepted (the status blob's CTR_BYTE)
	FailedAttempts    int
	MaxFailedAttempts int
	Version           int // protocol major version: 3
}

// PowerAuthTempKey is a temporary ECIES key pair (protocol 3.3), of an application or of one activation.
type PowerAuthTempKey struct {
	ID           string
	AppID        string
	ActivationID string // "" for application scope
	Public       []byte
	Sealed       []byte // the private key, sealed
	ExpiresAt    time.Time
}

// PowerAuthProtocol stores what the PowerAuth protocol adds to activations: applications, per-activation keys and
// counters, temporary encryption keys.
type PowerAuthProtocol interface {
	// CreatePowerAuthApp adds an application; ErrConflict if its id or key exists.
	CreatePowerAuthApp(ctx context.Context, a PowerAuthApp) error
	// GetPowerAuthApp returns the application or ErrNotFound.
	GetPowerAuthApp(ctx context.Context, id string) (PowerAuthApp, error)
	// GetPowerAuthAppByKey finds an application by its application key; ErrNotFound.
	GetPowerAuthAppByKey(ctx context.Context, key string) (PowerAuthApp, error)
	// ListPowerAuthApps returns every application, oldest first.
	ListPowerAuthApps(ctx context.Context) ([]PowerAuthApp, error)

	// CreatePowerAuthKeyedActivation adds the activation and its protocol state in one transaction; ErrNotFound
	// if the user or the application does not exist, ErrConflict if the id or the code hash is taken.
	CreatePowerAuthKeyedActivation(ctx context.Context, a PowerAuthActivation, k PowerAuthKeys) error
	// GetPowerAuthKeys returns an activation's protocol state; ErrNotFound for a simple activation.
	GetPowerAuthKeys(ctx context.Context, activationID string) (PowerAuthKeys, error)
	// FindPowerAuthCode returns the id of the activation waiting with this code hash; ErrNotFound.
	FindPowerAuthCode(ctx context.Context, codeHash []byte) (string, error)
	// UpdatePowerAuthKeyed applies update to the activation and its protocol state in one transaction, the
	// row locked against concurrent updates (two requests cannot use the same counter value). An error from
	// update aborts without writing. If the activation is not active afterwards its tokens are deleted.
	UpdatePowerAuthKeyed(ctx context.Context, id string, update func(*PowerAuthActivation, *PowerAuthKeys) error) error

	// CreatePowerAuthTempKey adds a temporary key; ErrConflict if the id exists.
	CreatePowerAuthTempKey(ctx context.Context, k PowerAuthTempKey) error
	// GetPowerAuthTempKey returns the key or ErrNotFound (also once deleted).
	GetPowerAuthTempKey(ctx context.Context, id string) (PowerAuthTempKey, error)
	// DeletePowerAuthTempKeys removes keys that expired before cutoff, at most limit; returns how many.
	DeletePowerAuthTempKeys(ctx context.Context, cutoff time.Time, limit int) (int, error)
}
