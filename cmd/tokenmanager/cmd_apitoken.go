package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

var apiTokenCommand = &command{
	name:  "apitoken",
	short: "licensing: access tokens for the Cryptolens-compatible API (/api/)",
	long: `methods: ` + methodNames() + `
  --key-lock -1 lets the token call auth/KeyLock; --feature-lock is a FieldsToReturn mask on Activate and
  GetKey and the trial length in days on CreateTrialKey. On a token with GetToken (a parent token that apps
  use to ask users for child tokens, see appauth) --key-lock is its child tokens' longest life in days and
  --feature-lock the fields hidden from them; children get only methods the parent has.

examples:
  tokenmanager apitoken create --vendor alice --methods Activate,Deactivate,GetKey --product-lock 1 --name "desktop app"
  tokenmanager apitoken revoke 3`,
	subs: []*command{
		{name: "create", args: "--vendor USER --methods Activate,GetKey [--name NAME] [--product-lock ID] " +
			"[--key-lock ID|-1] [--feature-lock N] [--expires DURATION]", setup: apiTokenCreate,
			short: "create an access token for the Cryptolens-compatible API; it is printed once and only its hash is kept"},
		{name: "list", args: "[--vendor USER]", setup: apiTokenList, short: "list API tokens"},
		{name: "revoke", args: "ID", nargs: 1, setup: apiTokenRevoke,
			short: "revoke a token and the tokens derived from it (auth/KeyLock)"},
	},
}

func apiTokenCreate(fs *flag.FlagSet) runFunc {
	vendor := fs.String("vendor", "", "the vendor (user name) the token acts for")
	methods := fs.String("methods", "", "comma-separated methods the token may call")
	expires := fs.Duration("expires", 0, "token lifetime, e.g. 720h (0: no expiry)")
	var spec license.TokenSpec
	fs.StringVar(&spec.Name, "name", "", "a name for the token")
	fs.Int64Var(&spec.ProductLock, "product-lock", 0, "restrict the token to this product")
	fs.Int64Var(&spec.KeyLock, "key-lock", 0, "restrict the token to the key with this ID (needs --product-lock); -1 allows auth/KeyLock")
	fs.Int64Var(&spec.FeatureLock, "feature-lock", 0, "FieldsToReturn mask (Activate, GetKey) or trial days (CreateTrialKey)")
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		if err := inv.require("vendor", *vendor != ""); err != nil {
			return err
		}
		if err := inv.require("methods", *methods != ""); err != nil {
			return err
		}
		for _, s := range strings.Split(*methods, ",") {
			m, err := license.ParseMethod(s)
			if err != nil {
				return fmt.Errorf("--methods: %q is not one of %s", strings.TrimSpace(s), methodNames())
			}
			spec.Methods = append(spec.Methods, m)
		}
		if *expires < 0 {
			return errors.New("--expires must not be negative")
		}
		if *expires > 0 {
			spec.ExpiresAt = time.Now().Add(*expires)
		}
		issued, err := l.svc.CreateAPIToken(ctx, *vendor, spec)
		if err != nil {
			return err
		}
		printf(inv.stderr, "created API token %d for %s; it is shown once, store it now:\n", issued.Record.ID, *vendor)
		_, err = printf(inv.stdout, "%s\n", issued.Token)
		return err
	})
}

func apiTokenList(fs *flag.FlagSet) runFunc {
	vendor := vendorFilter(fs)
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		ts, err := l.svc.ListAPITokens(ctx, *vendor)
		if err != nil {
			return err
		}
		now := time.Now()
		return table(inv.stdout, "ID\tVENDOR\tNAME\tMETHODS\tPRODUCT LOCK\tKEY LOCK\tFEATURE LOCK\tSTATE\tCREATED", func(w io.Writer) {
			for _, t := range ts {
				state := "live"
				switch {
				case t.Revoked():
					state = "revoked " + day(t.RevokedAt)
				case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
					state = "expired " + day(t.ExpiresAt)
				case !t.ExpiresAt.IsZero():
					state = "until " + day(t.ExpiresAt)
				}
				if t.ParentID != 0 {
					state += fmt.Sprintf(" (from %d)", t.ParentID)
				}
				printf(w, "%d\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", t.ID, t.Vendor, t.Name, strings.Join(t.Permissions, ","),
					t.ProductLock, t.KeyLock, t.FeatureLock, state, day(t.CreatedAt))
			}
		})
	})
}

func apiTokenRevoke(fs *flag.FlagSet) runFunc {
	vendor := fs.String("vendor", "", "only if the token is this vendor's")
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		id, err := positionalID(inv, 0, "token id")
		if err != nil {
			return err
		}
		if err := l.svc.RevokeAPIToken(ctx, *vendor, id); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("no API token %d", id)
			}
			return err
		}
		printf(inv.stdout, "API token %d revoked\n", id)
		return nil
	})
}
