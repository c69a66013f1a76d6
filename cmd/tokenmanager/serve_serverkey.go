package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tokenmanager/tokenmanager/keys"
)

// csrfKeys are the keys of the consent pages' form tokens: one derived from each server key the node has, the
// active one first. Form tokens live as long as a page is open, so a form made before the node's key changed
// must still be taken after.
func csrfKeys(set *keys.Set) func() [][]byte {
	return func() [][]byte {
		ks := set.Keys()
		out := make([][]byte, len(ks))
		for i, k := range ks {
			out[i] = keys.Derive(k, keys.PurposeCSRF)
		}
		return out
	}
}

// followServerKey keeps the node's server keys in step with the database during a rotation: every
// --key-check-interval it reads which key the database uses and makes that one active (the one new secrets are
// sealed with; both keys open), and on SIGHUP it reads --key-file and --previous-key-file again, so a node takes
// a new key without a restart. A key set without the database's key is refused: the node keeps the keys it has.
func (f *serveFlags) followServerKey(ctx context.Context, st *stack, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var tick <-chan time.Time
	if f.keyCheck > 0 {
		t := time.NewTicker(f.keyCheck)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			f.reloadServerKeys(ctx, st, log)
		case <-tick:
			f.checkServerKey(ctx, st, log)
		}
	}
}

// checkServerKey makes the key the database names the active one.
func (f *serveFlags) checkServerKey(ctx context.Context, st *stack, log *slog.Logger) {
	fp, err := st.store.ServerKeyFingerprint(ctx)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("server key check", "err", err)
		}
		return
	}
	before := keys.Fingerprint(st.keys.Active())
	if !st.keys.Activate(fp) {
		log.Error("the database uses a server key this node does not have: give it as --key-file (the current key as "+
			"--previous-key-file) and send SIGHUP, or restart the node", "database_key", fp[:12])
		return
	}
	if before != fp {
		log.Info("server key changed", "key", fp[:12], "was", before[:12])
	}
}

// reloadServerKeys reads the key files again and takes them if the database's key is among them.
func (f *serveFlags) reloadServerKeys(ctx context.Context, st *stack, log *slog.Logger) {
	if f.keyFile != "" && os.Getenv(envPrefix+"KEY") == "" {
		if _, err := os.Stat(f.keyFile); err != nil { // never make up a key here
			log.Error("SIGHUP: keeping the server keys the node has", "err", err)
			return
		}
	}
	set, err := f.checkedServerKeys(ctx, st.store, io.Discard)
	if err != nil {
		log.Error("SIGHUP: keeping the server keys the node has", "err", err)
		return
	}
	ks := set.Keys()
	var other []byte
	if len(ks) > 1 {
		other = ks[1]
	}
	st.keys.Use(ks[0], other)
	fps := []string{keys.Fingerprint(ks[0])[:12]}
	if other != nil {
		fps = append(fps, keys.Fingerprint(other)[:12])
	}
	log.Info("server keys read again", "active", fps[0], "keys", fps)
}
