package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/tokenmanager/tokenmanager/storage"
)

var vendorCommand = &command{
	name:  "vendor",
	short: "licensing: vendors, the users who own products and API tokens",
	long: `A vendor is an existing user given the vendor role. example:
  echo "$PASSWORD" | tokenmanager user add alice --password-stdin
  tokenmanager vendor add alice`,
	subs: []*command{
		{name: "add", args: "USER", nargs: 1, setup: vendorAdd,
			short: "give an existing user the vendor role (vendors own products and API tokens)"},
		{name: "list", setup: vendorList, short: "list vendors"},
	},
}

func vendorAdd(fs *flag.FlagSet) runFunc {
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		if _, err := l.db.GetUser(ctx, inv.args[0]); errors.Is(err, storage.ErrNotFound) {
			// The vendor role goes to an account that exists: say how to make one, not only that there is none.
			return fmt.Errorf("no user %q: a vendor is a user; create it first with "+
				"'tokenmanager user add %s --password-stdin', then run 'tokenmanager vendor add %s' again", inv.args[0], inv.args[0], inv.args[0])
		}
		if err := l.svc.AddVendor(ctx, inv.args[0]); err != nil {
			return err
		}
		printf(inv.stdout, "%s is a vendor\n", inv.args[0])
		return nil
	})
}

func vendorList(fs *flag.FlagSet) runFunc {
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		vs, err := l.svc.ListVendors(ctx)
		if err != nil {
			return err
		}
		return table(inv.stdout, "VENDOR\tSINCE", func(w io.Writer) {
			for _, v := range vs {
				printf(w, "%s\t%s\n", v.Name, day(v.CreatedAt))
			}
		})
	})
}
