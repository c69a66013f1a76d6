package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/tokenmanager/tokenmanager/admin"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/token"
)

var tokenKeyCommand = &command{
	name:  "tokenkey",
	short: "token encryption keys: rotate without downtime, retire, list",
	long: `Rotation needs no downtime: every token issued once 'tokenkey rotate' has returned uses the new key, on every
node (a node that has not reloaded the ring yet finds out when it stores its next token, and takes the new key
then), and tokens of the old key keep working. So retiring the old key only ever ends tokens issued before the
rotation: retire it once those have expired (--max-token-lifetime after the rotation, or when
'token list --live --older-than AGE', AGE the time since the rotation, shows none you care about). The original
key, derived from the server key, is listed as "original" after the first rotation. Keys are stored sealed with
the server key. (License keys are 'tokenmanager key'.)

examples:
  tokenmanager tokenkey rotate
  tokenmanager tokenkey list
  tokenmanager tokenkey retire original`,
	subs: []*command{
		{name: "list", setup: tokenKeyList,
			short: "the token encryption keys: primary (mints), verify (checks its tokens), retired"},
		{name: "rotate", setup: tokenKeyRotate, short: "add a new random key as primary; the old one stays verify-only"},
		{name: "retire", args: "ID", nargs: 1, setup: tokenKeyRetire, short: "refuse every token of a verify-only key from now on"},
	},
}

func tokenKeyList(fs *flag.FlagSet) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		list, err := adminService(db).ListTokenKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(inv.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATE\tCREATED\tRETIRED")
		for _, k := range list {
			created := "-"
			if k.ID != storage.OriginalTokenKey {
				created = k.CreatedAt.Format(time.RFC3339)
			}
			printf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.State, created, timeOrDash(k.RetiredAt))
		}
		return tw.Flush()
	})
}

func tokenKeyRotate(fs *flag.FlagSet) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		set, err := db.flags.checkedServerKeys(ctx, db.Store, inv.stderr)
		if err != nil {
			return err
		}
		ring := token.NewKeyringSet(db, set)
		if _, err := ring.Load(ctx); err != nil { // refuse to rotate a ring this server key cannot read
			return err
		}
		id, err := adminService(db).RotateTokenKey(ctx, cliAdmin(), ring)
		if err != nil {
			return err
		}
		printf(inv.stdout, "new primary token key %s; every token issued from now on uses it\n", id)
		return nil
	})
}

func tokenKeyRetire(fs *flag.FlagSet) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		id := inv.args[0]
		if err := adminService(db).RetireTokenKey(ctx, cliAdmin(), id); err != nil {
			if errors.Is(err, admin.ErrNotFound) {
				return fmt.Errorf("no token key %q", id)
			}
			return cliAdminErr(err)
		}
		printf(inv.stdout, "token key %s retired; its tokens are refused once nodes reload (within %v)\n", id, keyReloadInterval)
		return nil
	})
}
