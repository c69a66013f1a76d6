package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/token"
)

const keyUsage = `usage:
  tokenmanager key ring             the token encryption keys: primary (mints), verify (checks its tokens), retired
  tokenmanager key rotate           add a new random key as primary; the old one stays verify-only
  tokenmanager key retire ID        refuse every token of a verify-only key from now on

(key create, list, show, block and unblock are about license keys: tokenmanager key -h.)

Rotation needs no downtime: every token issued once 'key rotate' has returned uses the new key, on every node
(a node that has not reloaded the ring yet finds out when it stores its next token, and takes the new key then),
and tokens of the old key keep working. So retiring the old key only ever ends tokens issued before the
rotation: retire it once those have expired (--max-token-lifetime after the rotation, or when
'token list --live --older-than AGE', AGE the time since the rotation, shows none you care about). The original
key, derived from the server key, is listed as "original" after the first rotation. Keys are stored sealed with
the server key.

examples:
  tokenmanager key rotate
  tokenmanager key ring
  tokenmanager key retire original`

// tokenKeyCommands are the key subcommands about token encryption keys, with their argument counts; the others
// are about license keys.
var tokenKeyCommands = map[string]int{"ring": 0, "rotate": 0, "retire": 1}

func isTokenKeyCommand(sub string) bool {
	_, ok := tokenKeyCommands[sub]
	return ok
}

func keyCommand(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, keyUsage)
		return errors.New("key: no subcommand")
	}
	sub := args[0]
	var sf storeFlags
	fs := flag.NewFlagSet("key "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, keyUsage); fs.PrintDefaults() }
	sf.register(fs)
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	n, ok := tokenKeyCommands[sub]
	if !ok || len(pos) != n {
		fmt.Fprintln(stderr, keyUsage)
		return fmt.Errorf("key: want ring, rotate or retire ID")
	}
	ctx := context.Background()
	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	switch sub {
	case "ring":
		list, err := store.ListTokenKeys(ctx)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			list = []storage.TokenKey{{ID: storage.OriginalTokenKey, State: storage.KeyPrimary}}
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATE\tCREATED\tRETIRED")
		for _, k := range list {
			created := "-"
			if k.ID != storage.OriginalTokenKey {
				created = k.CreatedAt.Format(time.RFC3339)
			}
			printf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.State, created, timeOrDash(k.RetiredAt))
		}
		return tw.Flush()
	case "rotate":
		master, err := sf.checkedServerKey(ctx, store, stderr)
		if err != nil {
			return err
		}
		ring := token.NewKeyring(store, master)
		if _, err := ring.Load(ctx); err != nil { // refuse to rotate a ring this server key cannot read
			return err
		}
		id, err := ring.Rotate(ctx, time.Now())
		if err != nil {
			return err
		}
		if err := auditCLI(ctx, store, "key.rotate", "", "key="+id); err != nil {
			return err
		}
		printf(stdout, "new primary token key %s; every token issued from now on uses it\n", id)
	case "retire":
		if err := store.RetireTokenKey(ctx, pos[0], time.Now()); err != nil {
			if errors.Is(err, storage.ErrConflict) {
				return fmt.Errorf("%s is the primary token key: rotate first, then retire it", pos[0])
			}
			return notFound("token key", pos[0], err)
		}
		if err := auditCLI(ctx, store, "key.retire", "", "key="+pos[0]); err != nil {
			return err
		}
		printf(stdout, "token key %s retired; its tokens are refused once nodes reload (within %v)\n", pos[0], keyReloadInterval)
	}
	return nil
}
