package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/storage"
)

var oauthKeyCommand = &command{
	name:  "oauthkey",
	short: "keys that sign JWT access tokens of API clients: rotate with overlap, retire, list",
	long: `The signing key is published at /oauth2/jwks.json with its kid. After 'oauthkey rotate', every node signs new
tokens with the new key at once, and the replaced key stays in the JWKS (state verify) until every token it
signed has expired: the longest token lifetime of any client, plus a minute. Resource servers that cache the
JWKS fetch it again when they meet an unknown kid. 'oauthkey retire' ends a replaced key early (a leaked key):
its tokens are refused by introspection and verification at once, and by offline verifiers once they fetch the
JWKS again. Private keys are stored sealed with the server key. (Spectrum token keys are 'tokenkey'.)

examples:
  tokenmanager oauthkey list
  tokenmanager oauthkey rotate
  tokenmanager oauthkey rotate --alg RS256
  tokenmanager oauthkey retire j1a2b3c4dXYZabc`,
	subs: []*command{
		{name: "list", setup: oauthKeyList, short: "the signing keys: primary (signs), verify (published until its tokens expire), retired"},
		{name: "rotate", setup: oauthKeyRotate, short: "make a new key the signing key; the old one stays published until its tokens expire"},
		{name: "retire", args: "ID", nargs: 1, setup: oauthKeyRetire, short: "withdraw a replaced key now; its tokens are refused"},
	},
}

// withSigning is withStore for the API client service with the signing keys (which need the server key).
func withSigning(fs *flag.FlagSet, run func(ctx context.Context, inv *invocation, db openDB, svc *apiclient.Service) error) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		// Both keys during a server key rotation, as for the other sealed secrets.
		set, err := db.flags.checkedServerKeys(ctx, db.Store, inv.stderr)
		if err != nil {
			return err
		}
		svc := apiclient.New(db, apiclient.Config{Signing: apiclient.NewSigningKeys(db, set.SealerFor(keys.PurposeOAuthSigningKeys), nil)}, nil)
		return run(ctx, inv, db, svc)
	})
}

func oauthKeyList(fs *flag.FlagSet) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		list, err := db.ListOAuthKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(inv.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tALG\tSTATE\tCREATED\tPUBLISHED_UNTIL\tRETIRED")
		for _, k := range list {
			until := "-"
			switch {
			case k.State == storage.KeyPrimary:
				until = "(signing)"
			case k.State == storage.KeyVerify:
				until = k.VerifyUntil.Format(time.RFC3339)
			}
			printf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Alg, k.State, k.CreatedAt.Format(time.RFC3339), until, timeOrDash(k.RetiredAt))
		}
		return tw.Flush()
	})
}

func oauthKeyRotate(fs *flag.FlagSet) runFunc {
	alg := fs.String("alg", apiclient.AlgES256, "algorithm of the new key: ES256 or RS256")
	return withSigning(fs, func(ctx context.Context, inv *invocation, db openDB, svc *apiclient.Service) error {
		if err := apiclient.ValidAlg(*alg); err != nil {
			return err
		}
		if _, err := svc.Signing().JWKS(ctx); err != nil { // refuse to rotate keys this server key cannot open
			return err
		}
		id, err := svc.RotateSigningKey(ctx, *alg)
		if err != nil {
			return err
		}
		if err := auditCLI(ctx, db, "oauthkey.rotate", "", "key="+id+" alg="+*alg); err != nil {
			return err
		}
		printf(inv.stdout, "new signing key %s (%s); JWT access tokens issued from now on carry kid %s\n", id, *alg, id)
		return nil
	})
}

func oauthKeyRetire(fs *flag.FlagSet) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		id := inv.args[0]
		if err := db.RetireOAuthKey(ctx, id, time.Now()); err != nil {
			if errors.Is(err, storage.ErrConflict) {
				return fmt.Errorf("%s is the signing key: rotate first, then retire it", id)
			}
			return notFound("signing key", id, err)
		}
		if err := auditCLI(ctx, db, "oauthkey.retire", "", "key="+id); err != nil {
			return err
		}
		printf(inv.stdout, "signing key %s retired; its tokens are refused\n", id)
		return nil
	})
}
