package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/tokenmanager/tokenmanager/license"
)

var resellerCommand = &command{
	name:  "reseller",
	short: "licensing: resellers a vendor's keys may name (key/ChangeReseller, CreateKey's ResellerId)",
	long: `example:
  tokenmanager reseller add --vendor alice --name "Shop Ltd" --email sales@shop.example --url https://shop.example`,
	subs: []*command{
		{name: "add", args: "--vendor USER --name NAME [--email E] [--phone P] [--url U] [--description D]", setup: resellerAdd,
			short: "create a reseller of a vendor"},
		{name: "list", args: "[--vendor USER]", setup: resellerList, short: "list resellers"},
	},
}

func resellerAdd(fs *flag.FlagSet) runFunc {
	vendor := fs.String("vendor", "", "the vendor (user name) whose reseller it is")
	var spec license.ResellerSpec
	fs.StringVar(&spec.Name, "name", "", "the reseller's name")
	fs.StringVar(&spec.Email, "email", "", "the reseller's e-mail")
	fs.StringVar(&spec.Phone, "phone", "", "the reseller's phone number")
	fs.StringVar(&spec.URL, "url", "", "the reseller's web site")
	fs.StringVar(&spec.Description, "description", "", "a description")
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		if err := inv.require("vendor", *vendor != ""); err != nil {
			return err
		}
		if err := inv.require("name", spec.Name != ""); err != nil {
			return err
		}
		r, err := l.svc.CreateReseller(ctx, l.admin, *vendor, spec)
		if err != nil {
			return err
		}
		if err := auditCLI(ctx, l.db, "license.reseller.add", r.Vendor, fmt.Sprintf("reseller=%d", r.ID)); err != nil {
			return err
		}
		printf(inv.stdout, "created reseller %d (%s) of %s\n", r.ID, r.Name, r.Vendor)
		return nil
	})
}

func resellerList(fs *flag.FlagSet) runFunc {
	vendor := vendorFilter(fs)
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		rs, err := l.svc.ListResellers(ctx, l.admin)
		if err != nil {
			return err
		}
		return table(inv.stdout, "ID\tNAME\tEMAIL\tPHONE\tURL\tVENDOR", func(w io.Writer) {
			for _, r := range rs {
				if *vendor == "" || r.Vendor == *vendor {
					printf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Name, r.Email, r.Phone, r.URL, r.Vendor)
				}
			}
		})
	})
}
