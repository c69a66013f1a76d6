package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/tokenmanager/tokenmanager/storage/postgres/pgtest"
)

// prepareDatabase returns the environment that puts the server nodes on the PostgreSQL database dbURL, in an
// empty schema of the run's own, with one server key for all of them, and a function that drops the schema.
// dsn selects the schema, for tmbench's own connection (P4's fill, setup). For SQLite (dbURL "") there is
// nothing to prepare: each node uses its data directory.
func prepareDatabase(ctx context.Context, dbURL string, logf func(string, ...any)) (env []string, dsn string, drop func(), err error) {
	if dbURL == "" {
		return nil, "", func() {}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	dsn, dropSchema, err := pgtest.NewSchema(ctx, dbURL, "tmbench_")
	if err != nil {
		return nil, "", nil, err
	}
	key := make([]byte, 32)
	rand.Read(key)
	logf("PostgreSQL: an empty schema for the run, dropped at its end")
	return []string{"TOKENMANAGER_DB=" + dsn, "TOKENMANAGER_KEY=" + base64.StdEncoding.EncodeToString(key)}, dsn,
		func() {
			if err := dropSchema(); err != nil {
				logf("dropping the run's schema: %v", err)
			}
		}, nil
}
