package token

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"time"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/storage"
)

// Keyring builds the Codec from the token key ring in storage: every node mints with the same primary key and
// opens the tokens of every key that is not retired. The original key is derived from the server key and not
// stored until the server key changes (then it is stored sealed with the new one, so that the tokens it sealed
// keep opening); rotated keys are random and stored sealed with the server key.
type Keyring struct {
	store  storage.TokenKeys
	set    *keys.Set
	sealer *keys.Sealer
}

// NewKeyring reads the ring from store; master is the server key.
func NewKeyring(store storage.TokenKeys, master []byte) *Keyring {
	return NewKeyringSet(store, keys.NewSet(master, nil))
}

// NewKeyringSet reads the ring from store, opening it with either key of set.
func NewKeyringSet(store storage.TokenKeys, set *keys.Set) *Keyring {
	return &Keyring{store: store, set: set, sealer: set.SealerFor(keys.PurposeSeal)}
}

// OriginalKey is the secret of the original token key of the server key master, before that is rotated.
func OriginalKey(master []byte) []byte { return keys.Derive(master, keys.PurposeTokenEncryption) }

// SealedKeyAD is the associated data of the sealed token key id (storage.TokenKey.Sealed).
func SealedKeyAD(id string) string { return sealedKeyAD(id) }

func sealedKeyAD(id string) string { return "token-key:" + id }

// Load builds the codec of the current ring.
func (k *Keyring) Load(ctx context.Context) (*Codec, error) {
	list, err := k.store.ListTokenKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("token: load key ring: %w", err)
	}
	original := Key{Secret: OriginalKey(k.set.Active())}
	if len(list) == 0 {
		return NewRing(original)
	}
	var primary *Key
	var others []Key
	for _, sk := range list {
		if sk.State == storage.KeyRetired {
			continue
		}
		key := original
		if sk.ID != storage.OriginalTokenKey || sk.Sealed != nil {
			secret, err := k.sealer.Open(sk.Sealed, sealedKeyAD(sk.ID))
			if err != nil {
				return nil, fmt.Errorf("token: key %s does not open with this server key: %w", sk.ID, err)
			}
			key = Key{ID: sk.ID, Secret: secret}
			if sk.ID == storage.OriginalTokenKey {
				key.ID = "" // the id its tokens carry
			}
		}
		if sk.State == storage.KeyPrimary {
			primary = &key
		} else {
			others = append(others, key)
		}
	}
	if primary == nil {
		return nil, fmt.Errorf("token: the key ring has no primary key")
	}
	return NewRing(*primary, others...)
}

// Rotate adds a new random key as the primary and returns its id. Tokens already issued keep working with
// their own keys until those are retired.
func (k *Keyring) Rotate(ctx context.Context, now time.Time) (string, error) {
	secret := make([]byte, 32)
	rand.Read(secret)
	id := "k" + strconv.FormatInt(now.UnixMilli(), 36)
	err := k.store.AddTokenKey(ctx, storage.TokenKey{ID: id, Sealed: k.sealer.Seal(secret, sealedKeyAD(id)), CreatedAt: now})
	if err != nil {
		return "", err
	}
	return id, nil
}
