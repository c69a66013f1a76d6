package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/storage"
)

// settingServerKey is the setting under which the database keeps the fingerprint of its server key.
const settingServerKey = "server_key_fingerprint"

// checkedServerKey is serverKey, refused unless it is the key the database was set up with: the first process
// to use a database records its key's fingerprint there, and every later one compares. A node with another key
// would issue tokens no other node accepts and could not open the secrets sealed by the others.
func (f *storeFlags) checkedServerKey(ctx context.Context, store storage.Settings, log io.Writer) ([]byte, error) {
	master, err := f.serverKey(log)
	if err != nil {
		return nil, err
	}
	mine := keys.Fingerprint(master)
	stored, err := store.InitSetting(ctx, settingServerKey, mine)
	if err != nil {
		return nil, fmt.Errorf("checking the server key against the database: %w", err)
	}
	if stored != mine { // fingerprints reveal nothing of the key: a plain comparison will do
		return nil, fmt.Errorf("the server key from %s (fingerprint %.12s) is not the key this database was set up with "+
			"(fingerprint %.12s): every node and every tokenmanager command on a database must use the same server key; "+
			"give the one of the first node (its --key-file, or TOKENMANAGER_KEY)", f.keySource(), mine, stored)
	}
	return master, nil
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
