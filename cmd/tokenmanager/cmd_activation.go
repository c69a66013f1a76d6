package main

import (
	"context"
	"flag"
	"io"
	"time"
)

var activationCommand = &command{
	name:  "activation",
	short: "licensing: the machines a license key is activated on",
	long: `example:
  tokenmanager activation remove --product 1 ABCDE-FGHIJ-KLMNO-PQRST 9f86d081884c7d65`,
	subs: []*command{
		{name: "list", args: "--product ID KEY", nargs: 1, setup: activationList, short: "list a key's activations"},
		{name: "remove", args: "--product ID KEY MACHINE_CODE [--floating]", nargs: 2, setup: activationRemove,
			short: "free a machine's seat (also on blocked keys)"},
	},
}

func activationList(fs *flag.FlagSet) runFunc {
	product := productFlag(fs)
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		d, err := keyDetails(ctx, inv, l, *product)
		if err != nil {
			return err
		}
		now := time.Now()
		return table(inv.stdout, "MACHINE\tKIND\tFRIENDLY NAME\tIP\tACTIVATED\tFLOATING UNTIL", func(w io.Writer) {
			for _, a := range d.Activations {
				kind, until := "node-locked", "-"
				if a.Floating {
					kind, until = "floating", a.FloatingExpiresAt.UTC().Format(time.RFC3339)
					if a.Overdraft {
						kind = "floating (overdraft)"
					}
					if !a.FloatingExpiresAt.After(now) {
						until += " (ended)"
					}
				}
				printf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", a.MachineCode, kind, a.FriendlyName, a.IP, a.ActivatedAt.UTC().Format(time.RFC3339), until)
			}
		})
	})
}

func activationRemove(fs *flag.FlagSet) runFunc {
	product := productFlag(fs)
	floating := fs.Bool("floating", false, "remove the machine's floating seat instead of its node-locked activation")
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		if err := inv.require("product", *product > 0); err != nil {
			return err
		}
		key, machine := inv.args[0], inv.args[1]
		if err := l.svc.RemoveActivation(ctx, l.admin, *product, key, machine, *floating); err != nil {
			return err
		}
		printf(inv.stdout, "machine %s removed from key %s\n", machine, key)
		return nil
	})
}
