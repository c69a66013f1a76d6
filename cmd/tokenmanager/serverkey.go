package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/storage"
)

// settingServerKey is the setting under which the database keeps the fingerprint of its server key.
const settingServerKey = storage.SettingServerKey

// checkedServerKey is the server key the database uses, refused unless it is the key the database was set up
// with (or rotated to): the first process to use a database records its key's fingerprint there, and every later
// one compares. A node with another key would issue tokens no other node accepts and could not open the secrets
// sealed by the others. During a rotation a process has two keys, --key-file and --previous-key-file; this is
// the one the database names.
func (f *storeFlags) checkedServerKey(ctx context.Context, store storage.Settings, log io.Writer) ([]byte, error) {
	set, err := f.checkedServerKeys(ctx, store, log)
	if err != nil {
		return nil, err
	}
	return set.Active(), nil
}

// checkedServerKeys is the process's key set: the key of --key-file (or TOKENMANAGER_KEY) and, during a
// rotation, the previous key (or the next one, before the database changes), the one the database names active.
func (f *storeFlags) checkedServerKeys(ctx context.Context, store storage.Settings, log io.Writer) (*keys.Set, error) {
	master, err := f.serverKey(log)
	if err != nil {
		return nil, err
	}
	previous, err := f.previousKey()
	if err != nil {
		return nil, err
	}
	mine := keys.Fingerprint(master)
	stored, err := store.InitSetting(ctx, settingServerKey, mine)
	if err != nil {
		return nil, fmt.Errorf("checking the server key against the database: %w", err)
	}
	set := keys.NewSet(master, previous)
	if !set.Activate(stored) { // fingerprints reveal nothing of the key: a plain comparison will do
		if previous != nil {
			return nil, fmt.Errorf("neither the server key from %s (fingerprint %.12s) nor the previous key from %s (fingerprint %.12s) "+
				"is the key this database was set up with or last rotated to (fingerprint %.12s): every node and every tokenmanager command on a database must "+
				"have its key; if it was rotated, give the new key as --key-file", f.keySource(), mine, f.previousKeySource(),
				keys.Fingerprint(previous), stored)
		}
		return nil, fmt.Errorf("the server key from %s (fingerprint %.12s) is not the key this database was set up with "+
			"or last rotated to (fingerprint %.12s): every node and every tokenmanager command on a database must use the "+
			"same server key; give the one of the first node (its --key-file, or TOKENMANAGER_KEY) or, if the key was "+
			"rotated ('tokenmanager serverkey rotate'), the new one", f.keySource(), mine, stored)
	}
	return set, nil
}

// keySource says where serverKey takes the key from, for messages.
func (f *storeFlags) keySource() string {
	if os.Getenv(envPrefix+"KEY") != "" {
		return envPrefix + "KEY"
	}
	if f.keyFile != "" {
		return f.keyFile
	}
	return filepath.Join(f.dataDir, "server.key")
}

// previousKey is the key of TOKENMANAGER_PREVIOUS_KEY or --previous-key-file; nil if neither is given. Unlike
// the server key it is never created.
func (f *storeFlags) previousKey() ([]byte, error) {
	if v := os.Getenv(envPrefix + "PREVIOUS_KEY"); v != "" {
		k, err := keys.Parse(v)
		if err != nil {
			return nil, fmt.Errorf("%sPREVIOUS_KEY: %w", envPrefix, err)
		}
		return k, nil
	}
	if f.previousKeyFile == "" {
		return nil, nil
	}
	k, err := keys.Load(f.previousKeyFile)
	if errors.Is(err, fs.ErrNotExist) {
		// No rotation under way: the flag may stay in a node's configuration, the file there only during one.
		return nil, nil
	}
	return k, err
}

func (f *storeFlags) previousKeySource() string {
	if os.Getenv(envPrefix+"PREVIOUS_KEY") != "" {
		return envPrefix + "PREVIOUS_KEY"
	}
	return f.previousKeyFile
}

// errNoPrevious is the mistake of running serverkey rotate without the key to rotate from.
var errNoPrevious = errors.New("give the key the database uses now as --previous-key-file (or TOKENMANAGER_PREVIOUS_KEY) " +
	"and the new one as --key-file (made with 'tokenmanager serverkey generate FILE')")
