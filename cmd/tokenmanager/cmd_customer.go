package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"strings"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

var customerCommand = &command{
	name:  "customer",
	short: "licensing: a vendor's customers",
	long: `example:
  tokenmanager customer add --vendor alice --name "Carol" --email carol@example.com --company "Example Ltd"
  tokenmanager customer edit 7 --max-devices 3 --association=true
  tokenmanager customer delete 7 --force`,
	subs: []*command{
		{name: "add", args: "--vendor USER --name NAME [--email E] [--company C] [--max-devices N] [--user U]", setup: customerAdd,
			short: "create a customer of a vendor"},
		{name: "list", args: "[--vendor USER]", setup: customerList, short: "list customers"},
		{name: "edit", args: "ID [--name N] [--email E] [--company C] [--notes TEXT] [--max-devices N] [--association=true|false] " +
			"[--activation-management=true|false] [--multiple-users=true|false]", nargs: 1, setup: customerEdit,
			short: "change a customer's settings"},
		{name: "delete", args: "ID [--force]", nargs: 1, setup: customerDelete,
			short: "delete a customer; --force unlinks its license keys (they stay in their products)"},
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

func customerEdit(fs *flag.FlagSet) runFunc {
	var e license.CustomerEdit
	name := fs.String("name", "", "the customer's name")
	email := fs.String("email", "", "the customer's e-mail")
	company := fs.String("company", "", "the customer's company")
	notes := fs.String("notes", "", "notes about the customer")
	maxDevices := fs.Int("max-devices", 0, "devices the customer's own login may use (0: unlimited)")
	flags := []struct {
		name string
		flag int
		v    *bool
	}{
		{"association", storage.CustomerAssociation, fs.Bool("association", false, "Cryptolens' EnableCustomerAssociation")},
		{"activation-management", storage.CustomerActivationManagement, fs.Bool("activation-management", false, "Cryptolens' AllowActivationManagement")},
		{"multiple-users", storage.CustomerMultipleUsers, fs.Bool("multiple-users", false, "Cryptolens' AllowMultipleUserAssociation")},
	}
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		id, err := positionalID(inv, 0, "customer id")
		if err != nil {
			return err
		}
		for _, f := range []struct {
			name string
			dst  **string
			v    *string
		}{{"name", &e.Name, name}, {"email", &e.Email, email}, {"company", &e.Company, company}, {"notes", &e.Notes, notes}} {
			if inv.given(f.name) {
				*f.dst = f.v
			}
		}
		if inv.given("max-devices") {
			e.MaxNoOfDevices = maxDevices
		}
		for _, f := range flags {
			if inv.given(f.name) {
				e.FlagMask |= f.flag
				if *f.v {
					e.Flags |= f.flag
				}
			}
		}
		if e.Name == nil && e.Email == nil && e.Company == nil && e.Notes == nil && e.MaxNoOfDevices == nil && e.FlagMask == 0 {
			return inv.usageError("give at least one setting to change")
		}
		if e.Name != nil && strings.TrimSpace(*e.Name) == "" {
			return errors.New("--name: a customer needs a name")
		}
		ic, err := l.svc.UpdateCustomer(ctx, l.admin, id, e, nil)
		if err != nil {
			return err
		}
		cu := ic.Customer
		printf(inv.stdout, "customer %d (%s) of %s: e-mail %q, company %q, max devices %d\n", cu.ID, cu.Name, cu.Vendor, cu.Email, cu.Company, cu.MaxNoOfDevices)
		return nil
	})
}

func customerDelete(fs *flag.FlagSet) runFunc {
	force := fs.Bool("force", false, "also unlink the customer's license keys (they stay in their products)")
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		id, err := positionalID(inv, 0, "customer id")
		if err != nil {
			return err
		}
		r, err := l.svc.DeleteCustomer(ctx, l.admin, id, *force)
		if err != nil {
			return err
		}
		printf(inv.stdout, "customer %d deleted: %d license key(s) unlinked, %d end user(s) dissociated, %d device(s) removed\n",
			id, r.Keys, r.EndUsers, r.Devices)
		return nil
	})
}
