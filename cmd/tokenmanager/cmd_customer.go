package main

import (
	"context"
	"flag"
	"io"

	"github.com/tokenmanager/tokenmanager/license"
)

var customerCommand = &command{
	name:  "customer",
	short: "licensing: a vendor's customers",
	long: `example:
  tokenmanager customer add --vendor alice --name "Carol" --email carol@example.com --company "Example Ltd"`,
	subs: []*command{
		{name: "add", args: "--vendor USER --name NAME [--email E] [--company C] [--max-devices N] [--user U]", setup: customerAdd,
			short: "create a customer of a vendor"},
		{name: "list", args: "[--vendor USER]", setup: customerList, short: "list customers"},
	},
}

func customerAdd(fs *flag.FlagSet) runFunc {
	vendor := fs.String("vendor", "", "the vendor (user name) whose customer it is")
	name := fs.String("name", "", "the customer's name")
	email := fs.String("email", "", "the customer's e-mail")
	company := fs.String("company", "", "the customer's company")
	user := fs.String("user", "", "user account to link the customer to")
	maxDevices := fs.Int("max-devices", 0, "devices the customer's own login may use (0: unlimited)")
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		if err := inv.require("vendor", *vendor != ""); err != nil {
			return err
		}
		if err := inv.require("name", *name != ""); err != nil {
			return err
		}
		cu, err := l.svc.CreateCustomer(ctx, l.admin, *vendor, license.CustomerSpec{Name: *name, Email: *email,
			Company: *company, MaxNoOfDevices: *maxDevices, User: *user})
		if err != nil {
			return err
		}
		printf(inv.stdout, "created customer %d (%s) of %s\n", cu.ID, cu.Name, cu.Vendor)
		return nil
	})
}

func customerList(fs *flag.FlagSet) runFunc {
	vendor := vendorFilter(fs)
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		cs, err := l.svc.ListCustomers(ctx, l.admin)
		if err != nil {
			return err
		}
		return table(inv.stdout, "ID\tNAME\tEMAIL\tCOMPANY\tMAX DEVICES\tUSER\tVENDOR", func(w io.Writer) {
			for _, cu := range cs {
				if *vendor == "" || cu.Vendor == *vendor {
					printf(w, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", cu.ID, cu.Name, cu.Email, cu.Company, cu.MaxNoOfDevices, cu.User, cu.Vendor)
				}
			}
		})
	})
}
