package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tokenmanager/tokenmanager/license"
)

var templateCommand = &command{
	name:  "template",
	short: "licensing: license templates, the stored key parameters key/CreateKeyFromTemplate issues keys from",
	long: `examples:
  tokenmanager template add --product 1 --name "Pro, 1 year" --period 365 --features 1,2 --max-machines 3
  tokenmanager template list --product 1`,
	subs: []*command{
		{name: "add", args: "--product ID --name NAME [--period DAYS] [--features 1,3] [--notes TEXT] [--block] " +
			"[--reseller ID] [--trial-activation] [--max-machines N] [--allowed-machines A,B]", setup: templateAdd,
			short: "store a license template of a product; prints its id (the LicenseTemplateId)"},
		{name: "list", args: "--product ID", setup: templateList, short: "list a product's templates"},
		{name: "remove", args: "ID", nargs: 1, setup: templateRemove, short: "remove a template (keys made from it stay)"},
	},
}

func templateAdd(fs *flag.FlagSet) runFunc {
	product := productFlag(fs)
	name := fs.String("name", "", "what the template is called")
	spec := keySpecFlags(fs)
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		if err := inv.require("product", *product > 0); err != nil {
			return err
		}
		if err := inv.require("name", *name != ""); err != nil {
			return err
		}
		ks, err := spec.parse()
		if err != nil {
			return err
		}
		t, err := l.svc.CreateTemplate(ctx, l.admin, *product, license.TemplateSpec{Name: *name, Key: ks})
		if err != nil {
			return err
		}
		p, err := l.svc.Product(ctx, l.admin, t.ProductID)
		if err != nil {
			return err
		}
		if err := auditCLI(ctx, l.db, "license.template.add", p.Vendor, fmt.Sprintf("product=%d template=%d", p.ID, t.ID)); err != nil {
			return err
		}
		printf(inv.stdout, "created template %d (%s) of product %d\n", t.ID, t.Name, t.ProductID)
		return nil
	})
}

func templateList(fs *flag.FlagSet) runFunc {
	product := productFlag(fs)
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		if err := inv.require("product", *product > 0); err != nil {
			return err
		}
		ts, err := l.svc.ListTemplates(ctx, l.admin, *product)
		if err != nil {
			return err
		}
		return table(inv.stdout, "ID\tNAME\tPERIOD\tFEATURES\tMAX MACHINES\tTRIAL ACTIVATION\tBLOCK\tRESELLER\tNOTES", func(w io.Writer) {
			for _, t := range ts {
				var fs []string
				for i, on := range t.Features {
					if on {
						fs = append(fs, "F"+strconv.Itoa(i+1))
					}
				}
				printf(w, "%d\t%s\t%d\t%s\t%d\t%t\t%t\t%d\t%s\n", t.ID, t.Name, t.Period, strings.Join(fs, ","), t.MaxNoOfMachines,
					t.TrialActivation, t.Blocked, t.ResellerID, t.Notes)
			}
		})
	})
}

func templateRemove(fs *flag.FlagSet) runFunc {
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		id, err := strconv.ParseInt(inv.args[0], 10, 64)
		if err != nil || id <= 0 {
			return inv.usageError("%q is not a template id", inv.args[0])
		}
		if err := l.svc.RemoveTemplate(ctx, l.admin, id); err != nil {
			return err
		}
		if err := auditCLI(ctx, l.db, "license.template.remove", "", fmt.Sprintf("template=%d", id)); err != nil {
			return err
		}
		printf(inv.stdout, "removed template %d\n", id)
		return nil
	})
}
