package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/tokenmanager/tokenmanager/license"
)

var keyCommand = &command{
	name:  "key",
	short: "licensing: license keys of a product (token encryption keys are 'tokenkey')",
	long: `examples:
  tokenmanager key create --product 1 --period 365 --max-machines 2
  tokenmanager key create --product 1 --count 1000 --period 30 > keys.txt
  tokenmanager key edit --product 1 ABCDE-FGHIJ-KLMNO-PQRST --features 1,3 --expires 2030-12-31T23:59:59Z
  tokenmanager key delete --product 1 ABCDE-FGHIJ-KLMNO-PQRST --force`,
	subs: []*command{
		{name: "create", args: "--product ID [--count N] [--period DAYS] [--features 1,3] [--notes TEXT] [--block] " +
			"[--customer ID] [--reseller ID] [--trial-activation] [--max-machines N] [--allowed-machines A,B]", setup: keyCreate,
			short: "create license keys, printed one a line (a progress bar on stderr for --count > 1)"},
		{name: "list", args: "--product ID", setup: keyList, short: "list a product's keys"},
		{name: "show", args: "--product ID KEY", nargs: 1, setup: keyShow, short: "show a key"},
		{name: "block", args: "--product ID KEY", nargs: 1, setup: keyBlock, short: "block a key: it no longer activates or validates"},
		{name: "unblock", args: "--product ID KEY", nargs: 1, setup: keyBlock, short: "undo block"},
		{name: "edit", args: "--product ID KEY [--features 1,2] [--notes TEXT] [--max-machines N] [--customer ID] " +
			"[--expires RFC3339] [--block|--unblock]", nargs: 1, setup: keyEdit,
			short: "change a key: all the changes given, in one transaction, or none (--features is the whole set; '' for none)"},
		{name: "delete", args: "--product ID KEY [--force]", nargs: 1, setup: keyDelete,
			short: "remove a key without activations; --force removes its activations with it"},
		// The token encryption keys had these words once.
		{name: "rotate", movedTo: "tokenkey rotate"},
		{name: "retire", movedTo: "tokenkey retire"},
		{name: "ring", movedTo: "tokenkey list"},
	},
}

// maxKeysPerRun bounds one `key create --count`.
const maxKeysPerRun = 1_000_000

func keyCreate(fs *flag.FlagSet) runFunc {
	product := productFlag(fs)
	count := fs.Int("count", 1, "how many keys to create")
	spec := keySpecFlags(fs)
	fs.Int64Var(&spec.spec.CustomerID, "customer", 0, "customer id")
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		if err := inv.require("product", *product > 0); err != nil {
			return err
		}
		if *count < 1 || *count > maxKeysPerRun {
			return fmt.Errorf("--count must be 1..%d", maxKeysPerRun)
		}
		ks, err := spec.parse()
		if err != nil {
			return err
		}
		return createKeys(ctx, inv, l, *product, *count, ks)
	})
}

// keySpecFlags declares the flags of a key's parameters that `key create` and `template add` share.
func keySpecFlags(fs *flag.FlagSet) *keySpecFlagValues {
	v := &keySpecFlagValues{}
	fs.IntVar(&v.spec.Period, "period", 0, "days the key is valid (from creation, or from the first activation with --trial-activation)")
	fs.StringVar(&v.spec.Notes, "notes", "", "key notes (at most 500 characters)")
	fs.BoolVar(&v.spec.Blocked, "block", false, "create the keys blocked")
	fs.BoolVar(&v.spec.TrialActivation, "trial-activation", false, "start the period at the first activation")
	fs.IntVar(&v.spec.MaxNoOfMachines, "max-machines", 0, "machines that may activate the key (0: not recorded, any number)")
	fs.Int64Var(&v.spec.ResellerID, "reseller", 0, "reseller id (tokenmanager reseller list)")
	v.features = fs.String("features", "", "features to switch on, e.g. 1,3 for F1 and F3")
	v.allowed = fs.String("allowed-machines", "", "comma-separated machine codes that may activate even at the limit")
	return v
}

type keySpecFlagValues struct {
	spec              license.KeySpec
	features, allowed *string
}

// parse completes the spec with --features and --allowed-machines.
func (v *keySpecFlagValues) parse() (license.KeySpec, error) {
	spec := v.spec
	for _, s := range strings.Split(*v.features, ",") {
		if s = strings.TrimPrefix(strings.TrimSpace(s), "F"); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 8 {
			return license.KeySpec{}, fmt.Errorf("--features: %q is not a feature number 1..8", s)
		}
		spec.Features[n-1] = true
	}
	var machines []string
	for _, m := range strings.Split(*v.allowed, ",") {
		if m = strings.TrimSpace(m); m != "" {
			machines = append(machines, m)
		}
	}
	spec.AllowedMachines = strings.Join(machines, "\n")
	return spec, nil
}

// createKeys creates count keys of spec, printing each, with a progress bar on stderr for more than one.
func createKeys(ctx context.Context, inv *invocation, l licensing, product int64, count int, spec license.KeySpec) error {
	var bar *progressbar.ProgressBar
	if count > 1 {
		bar = progressbar.NewOptions(count, progressbar.OptionSetWriter(inv.stderr), progressbar.OptionSetDescription("creating keys"),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("keys"),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionOnCompletion(func() { fmt.Fprintln(inv.stderr) }))
	}
	for i := range count {
		k, err := l.svc.CreateKey(ctx, l.admin, product, spec)
		if err != nil {
			if i > 0 {
				return fmt.Errorf("after %d keys: %w", i, err)
			}
			return err
		}
		if _, err := printf(inv.stdout, "%s\n", k.Key.Key); err != nil {
			return err
		}
		if bar != nil {
			bar.Add(1)
		}
	}
	return nil
}

func keyList(fs *flag.FlagSet) runFunc {
	product := productFlag(fs)
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		if err := inv.require("product", *product > 0); err != nil {
			return err
		}
		ks, err := l.svc.ListKeys(ctx, l.admin, *product)
		if err != nil {
			return err
		}
		return table(inv.stdout, "ID\tKEY\tCREATED\tEXPIRES\tMAX MACHINES\tBLOCKED\tCUSTOMER\tNOTES", func(w io.Writer) {
			for _, k := range ks {
				printf(w, "%d\t%s\t%s\t%s\t%d\t%v\t%s\t%s\n", k.ID, k.Key, day(k.CreatedAt), day(k.ExpiresAt),
					k.MaxNoOfMachines, k.Blocked, idOrDash(k.CustomerID), oneLine(k.Notes))
			}
		})
	})
}

// keyDetails is the key named by the command's first argument, in the product of --product.
func keyDetails(ctx context.Context, inv *invocation, l licensing, product int64) (license.KeyDetails, error) {
	if err := inv.require("product", product > 0); err != nil {
		return license.KeyDetails{}, err
	}
	return l.svc.ShowKey(ctx, l.admin, product, inv.args[0])
}

func keyShow(fs *flag.FlagSet) runFunc {
	product := productFlag(fs)
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		d, err := keyDetails(ctx, inv, l, *product)
		if err != nil {
			return err
		}
		k := d.Key
		var features []string
		for i, on := range k.Features {
			if on {
				features = append(features, fmt.Sprintf("F%d", i+1))
			}
		}
		tw := tabwriter.NewWriter(inv.stdout, 0, 4, 2, ' ', 0)
		for _, row := range [][2]string{
			{"key", k.Key}, {"product", strconv.FormatInt(k.ProductID, 10)}, {"id", strconv.FormatInt(k.ID, 10)},
			{"global id", strconv.FormatInt(k.GlobalID, 10)}, {"created", k.CreatedAt.UTC().Format(time.RFC3339)},
			{"period", fmt.Sprintf("%d days", k.Period)}, {"expires", day(k.ExpiresAt)}, {"features", strings.Join(features, " ")},
			{"blocked", strconv.FormatBool(k.Blocked)}, {"trial activation", strconv.FormatBool(k.TrialActivation)},
			{"max machines", strconv.Itoa(k.MaxNoOfMachines)}, {"allowed machines", oneLine(k.AllowedMachines)},
			{"notes", oneLine(k.Notes)}, {"activations", strconv.Itoa(len(d.Activations))},
		} {
			printf(tw, "%s:\t%s\n", row[0], row[1])
		}
		if d.Customer != nil {
			printf(tw, "customer:\t%d %s <%s> %s\n", d.Customer.ID, d.Customer.Name, d.Customer.Email, d.Customer.Company)
		}
		return tw.Flush()
	})
}

// keyBlock runs block and unblock.
func keyBlock(fs *flag.FlagSet) runFunc {
	product := productFlag(fs)
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		if err := inv.require("product", *product > 0); err != nil {
			return err
		}
		state := strings.TrimPrefix(inv.path, "key ") + "ed"
		if err := l.svc.BlockKey(ctx, l.admin, *product, inv.args[0], state == "blocked"); err != nil {
			return err
		}
		printf(inv.stdout, "key %s %s\n", inv.args[0], state)
		return nil
	})
}

// keyEdit changes a key through the core the management API's PATCH calls: one transaction, each change audited.
func keyEdit(fs *flag.FlagSet) runFunc {
	product := productFlag(fs)
	feats := fs.String("features", "", "the features to have on, the whole set, e.g. 1,3 ('' for none)")
	notes := fs.String("notes", "", "the key's notes (at most 500 characters)")
	machines := fs.Int("max-machines", 0, "machines that may activate the key (0: not recorded, any number)")
	customer := fs.Int64("customer", 0, "customer id (0 unlinks)")
	expires := fs.String("expires", "", "the new expiry, RFC 3339 (2030-12-31T23:59:59Z), at most 9999-12-31T23:59:59Z")
	block := fs.Bool("block", false, "block the key")
	unblock := fs.Bool("unblock", false, "unblock the key")
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		if err := inv.require("product", *product > 0); err != nil {
			return err
		}
		var e license.KeyEdit
		if inv.given("features") {
			v := keySpecFlagValues{features: feats, allowed: new(string)}
			spec, err := v.parse()
			if err != nil {
				return err
			}
			e.Features = &spec.Features
		}
		if inv.given("notes") {
			e.Notes = notes
		}
		if inv.given("max-machines") {
			e.MaxMachines = machines
		}
		if inv.given("customer") {
			e.CustomerID = customer
		}
		if inv.given("expires") {
			t, err := time.Parse(time.RFC3339, *expires)
			if err != nil {
				return inv.usageError("--expires: want an RFC 3339 time such as 2030-12-31T23:59:59Z")
			}
			e.ExpiresAt = &t
		}
		switch {
		case *block && *unblock:
			return inv.usageError("give --block or --unblock, not both")
		case *block || *unblock:
			e.Blocked = block
		}
		if e == (license.KeyEdit{}) {
			return inv.usageError("give at least one of --features, --notes, --max-machines, --customer, --expires, --block, --unblock")
		}
		k, err := l.svc.EditKey(ctx, l.admin, *product, inv.args[0], e, nil)
		if err != nil {
			return err
		}
		var on []string
		for i, f := range k.Features {
			if f {
				on = append(on, strconv.Itoa(i+1))
			}
		}
		printf(inv.stdout, "key %s: features %s, max machines %d, customer %s, expires %s, blocked %v, notes %q\n", k.Key,
			orDash(strings.Join(on, ",")), k.MaxNoOfMachines, idOrDash(k.CustomerID), expiry(k.ExpiresAt), k.Blocked, oneLine(k.Notes))
		return nil
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// expiry is a key's expiry to the second, or "-" for none.
func expiry(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// keyDelete removes a key through the core the management API's DELETE calls.
func keyDelete(fs *flag.FlagSet) runFunc {
	product := productFlag(fs)
	force := fs.Bool("force", false, "also remove the key's activations")
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		if err := inv.require("product", *product > 0); err != nil {
			return err
		}
		n, err := l.svc.DeleteKey(ctx, l.admin, *product, inv.args[0], *force)
		if err != nil {
			return err
		}
		printf(inv.stdout, "key %s deleted with %d activation(s)\n", inv.args[0], n)
		return nil
	})
}
