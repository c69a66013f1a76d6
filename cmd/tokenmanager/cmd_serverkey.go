package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/token"
)

var serverKeyCommand = &command{
	name:  "serverkey",
	short: "the server key: make a new one, rotate a running cluster to it, show fingerprints",
	long: `The server key seals every secret kept in the database (token keys, license signing keys, PowerAuth token
secrets, WS-Security digest passwords). Rotating it needs no downtime (docs/operations.md, "Rotating the server key"):
make a new key; give every node the new key as --key-file and the current one as --previous-key-file, and send
each SIGHUP; run 'serverkey rotate' with the same two keys, and once more after --key-check-interval; remove the
previous key from the nodes and SIGHUP them. Tokens and licenses issued before keep working.

examples:
  tokenmanager serverkey generate /etc/tokenmanager/server.key.new
  tokenmanager serverkey rotate --key-file /etc/tokenmanager/server.key.new --previous-key-file /etc/tokenmanager/server.key
  tokenmanager serverkey fingerprint --key-file /etc/tokenmanager/server.key.new`,
	subs: []*command{
		{name: "generate", args: "FILE", nargs: 1, setup: serverKeyGenerate,
			short: "write a new random server key to FILE (mode 0600; never printed)"},
		{name: "rotate", setup: serverKeyRotate,
			short: "re-seal every secret with --key-file's key, from --previous-key-file's, in one transaction"},
		{name: "fingerprint", setup: serverKeyFingerprint,
			short: "the fingerprints of the server keys given and of the one the database uses"},
	},
}

func serverKeyGenerate(*flag.FlagSet) runFunc {
	return func(ctx context.Context, inv *invocation) error {
		path := inv.args[0]
		key := make([]byte, keys.Size)
		rand.Read(key)
		if err := keys.Create(path, key); errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s exists already; a key file is never overwritten", path)
		} else if err != nil {
			return err
		}
		printf(inv.stdout, "wrote a new server key to %s (fingerprint %.12s)\n", path, keys.Fingerprint(key))
		return nil
	}
}

func serverKeyFingerprint(fs *flag.FlagSet) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		master, err := db.flags.serverKey(inv.stderr)
		if err != nil {
			return err
		}
		printf(inv.stdout, "key           %.12s  (%s)\n", keys.Fingerprint(master), db.flags.keySource())
		previous, err := db.flags.previousKey()
		if err != nil {
			return err
		}
		if previous != nil {
			printf(inv.stdout, "previous key  %.12s  (%s)\n", keys.Fingerprint(previous), db.flags.previousKeySource())
		}
		stored, err := db.ServerKeyFingerprint(ctx)
		if errors.Is(err, storage.ErrNotFound) {
			printf(inv.stdout, "database      none yet\n")
			return nil
		} else if err != nil {
			return err
		}
		printf(inv.stdout, "database      %.12s\n", stored)
		return nil
	})
}

func serverKeyRotate(fs *flag.FlagSet) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		previous, err := db.flags.previousKey()
		if err != nil {
			return err
		}
		if previous == nil {
			if f := db.flags.previousKeyFile; f != "" {
				return fmt.Errorf("--previous-key-file %s does not exist; %w", f, errNoPrevious)
			}
			return inv.usageError("%s", errNoPrevious)
		}
		if _, err := db.ServerKeyFingerprint(ctx); errors.Is(err, storage.ErrNotFound) {
			return errors.New("no server key has been used with this database yet: nothing to rotate; start the nodes with the new key")
		} else if err != nil {
			return err
		}
		// The database must use one of the two keys: the previous (a first run) or the new one (a second run, for
		// what nodes sealed with the previous key before they noticed the change).
		if _, err := db.flags.checkedServerKeys(ctx, db.Store, inv.stderr); err != nil {
			return err
		}
		next, err := db.flags.serverKey(inv.stderr)
		if err != nil {
			return err
		}
		old := previous
		if string(old) == string(next) {
			return errors.New("--key-file and --previous-key-file hold the same key")
		}
		from, to := keys.Fingerprint(old), keys.Fingerprint(next)
		n, err := db.ResealServerKey(ctx, from, to, resealer(old, next))
		if err != nil {
			return fmt.Errorf("nothing changed: %w", err)
		}
		if err := auditCLI(ctx, db, "serverkey.rotate", "", "key="+to[:12]+" resealed="+strconv.Itoa(n)); err != nil {
			return err
		}
		printf(inv.stdout, "re-sealed %d secrets; the database uses the server key of %s (fingerprint %.12s)\n", n, db.flags.keySource(), to)
		return nil
	})
}

// resealer opens each value with the new key or else the old one, and seals what the old key opened with the
// new one; a value that opens with neither stops the rotation (and the transaction rolls back), since it would
// be lost otherwise.
func resealer(old, next []byte) func(storage.SealedValue) ([]byte, error) {
	type pair struct{ old, next *keys.Sealer }
	sealers := map[storage.SealedKind]pair{
		storage.SealedTokenKey:       {keys.NewSealer(old), keys.NewSealer(next)},
		storage.SealedDigestPassword: {keys.NewSealer(old), keys.NewSealer(next)},
		storage.SealedSigningKey: {keys.NewSealerFor(old, keys.PurposeLicenseSigningKeys),
			keys.NewSealerFor(next, keys.PurposeLicenseSigningKeys)},
		storage.SealedPowerAuthSecret: {keys.NewSealer(powerauth.SecretKey(old)), keys.NewSealer(powerauth.SecretKey(next))},
		storage.SealedOAuthKey: {keys.NewSealerFor(old, keys.PurposeOAuthSigningKeys),
			keys.NewSealerFor(next, keys.PurposeOAuthSigningKeys)},
		// The PowerAuth protocol's secrets share the token secrets' sealer, each kind with its own associated data.
		storage.SealedPowerAuthApp:        {keys.NewSealer(powerauth.SecretKey(old)), keys.NewSealer(powerauth.SecretKey(next))},
		storage.SealedPowerAuthActivation: {keys.NewSealer(powerauth.SecretKey(old)), keys.NewSealer(powerauth.SecretKey(next))},
		storage.SealedPowerAuthTempKey:    {keys.NewSealer(powerauth.SecretKey(old)), keys.NewSealer(powerauth.SecretKey(next))},
	}
	return func(v storage.SealedValue) ([]byte, error) {
		s, ok := sealers[v.Kind]
		if !ok {
			return nil, fmt.Errorf("sealed values of kind %q are new to this command", v.Kind)
		}
		var ad string
		switch v.Kind {
		case storage.SealedTokenKey:
			ad = token.SealedKeyAD(v.ID)
		case storage.SealedDigestPassword:
			ad = auth.SealedPasswordAD(v.ID)
		case storage.SealedSigningKey:
			id, err := strconv.ParseInt(v.ID, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("product %q: %w", v.ID, err)
			}
			ad = license.SigningKeyAD(id)
		case storage.SealedPowerAuthSecret:
			ad = powerauth.SealedSecretAD(v.ID, v.Owner)
		case storage.SealedOAuthKey:
			ad = apiclient.SealedOAuthKeyAD(v.ID)
		case storage.SealedPowerAuthApp, storage.SealedPowerAuthActivation, storage.SealedPowerAuthTempKey:
			ad = powerauth.SealedAD(v.Kind, v.ID)
		}
		if v.Value == nil { // the original token key, derived from the old server key until now
			return s.next.Seal(token.OriginalKey(old), ad), nil
		}
		if _, err := s.next.Open(v.Value, ad); err == nil {
			return nil, nil // sealed with the new key already
		}
		plain, err := s.old.Open(v.Value, ad)
		if err != nil {
			return nil, fmt.Errorf("the %s %s opens with neither key", v.Kind, v.ID)
		}
		return s.next.Seal(plain, ad), nil
	}
}
