package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

// The vendor-facing licensing commands: vendor, product, customer, key, activation, apitoken. They run as the
// operator (license.Admin) against the database directly, like `user`.

var licenseUsages = map[string]string{
	"vendor": `usage:
  tokenmanager vendor add USER      give an existing user the vendor role (vendors own products and API tokens)
  tokenmanager vendor list          list vendors

example:
  tokenmanager vendor add alice`,

	"product": `usage:
  tokenmanager product add NAME --vendor USER [--block-expired]
                                     create a product with its own RSA-2048 signing key (sealed with the server key)
  tokenmanager product list [--vendor USER]
  tokenmanager product pubkey ID [--pem]
                                     print the product's public key as Cryptolens' <RSAKeyValue> XML (what the
                                     Cryptolens SDKs take as RSAPubKey), or as PEM
  tokenmanager product set ID --block-expired=true|false
                                     treat expired keys as blocked (Cryptolens' "Block Expired Licenses")
  tokenmanager product rotate-key ID --yes
                                     give the product a new signing key. Cryptolens SDKs verify licenses against
                                     the public key built into the app: apps reject every license signed after
                                     this until they ship the new key (product pubkey). Only for a compromised key.

examples:
  tokenmanager product add "Photo Editor" --vendor alice
  tokenmanager product pubkey 1 > pubkey.xml`,

	"customer": `usage:
  tokenmanager customer add --vendor USER --name NAME [--email E] [--company C] [--max-devices N] [--user U]
  tokenmanager customer list [--vendor USER]

example:
  tokenmanager customer add --vendor alice --name "Carol" --email carol@example.com --company "Example Ltd"`,

	"key": `usage:
  tokenmanager key create --product ID [--count N] [--period DAYS] [--features 1,3] [--notes TEXT] [--block]
                          [--customer ID] [--trial-activation] [--max-machines N] [--allowed-machines A,B]
                                     create license keys, printed one a line (a progress bar on stderr for --count > 1)
  tokenmanager key list --product ID
  tokenmanager key show --product ID KEY
  tokenmanager key block --product ID KEY
  tokenmanager key unblock --product ID KEY

examples:
  tokenmanager key create --product 1 --period 365 --max-machines 2
  tokenmanager key create --product 1 --count 1000 --period 30 > keys.txt`,

	"activation": `usage:
  tokenmanager activation list --product ID KEY
  tokenmanager activation remove --product ID KEY MACHINE_CODE [--floating]
                                     free a machine's seat (also on blocked keys)

example:
  tokenmanager activation remove --product 1 ABCDE-FGHIJ-KLMNO-PQRST 9f86d081884c7d65`,

	"apitoken": `usage:
  tokenmanager apitoken create --vendor USER --methods Activate,GetKey [--name NAME] [--product-lock ID]
                               [--key-lock ID|-1] [--feature-lock N] [--expires DURATION]
                                     create an access token for the Cryptolens-compatible API; it is printed
                                     once and only its hash is kept
  tokenmanager apitoken list [--vendor USER]
  tokenmanager apitoken revoke ID    revoke a token and the tokens derived from it (auth/KeyLock)

methods: ` + methodNames() + `
  --key-lock -1 lets the token call auth/KeyLock; --feature-lock is a FieldsToReturn mask on Activate and
  GetKey and the trial length in days on CreateTrialKey. On a token with GetToken (a parent token that apps
  use to ask users for child tokens, see appauth) --key-lock is its child tokens' longest life in days and
  --feature-lock the fields hidden from them; children get only methods the parent has.

examples:
  tokenmanager apitoken create --vendor alice --methods Activate,Deactivate,GetKey --product-lock 1 --name "desktop app"
  tokenmanager apitoken revoke 3`,
}

func methodNames() string {
	names := make([]string, len(license.Methods))
	for i, m := range license.Methods {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}

// licenseFlags are every flag of the licensing commands; each subcommand uses some of them.
type licenseFlags struct {
	storeFlags
	vendor, name, email, company, user, notes, features, allowed, methods string
	product, customer, productLock, keyLock, featureLock                  int64
	count, period, maxMachines, maxDevices                                int
	blockExpired, block, trialActivation, pem, floating, yes              bool
	expires                                                               time.Duration
}

func licenseCommand(group string, args []string, stdout, stderr io.Writer) error {
	usage := licenseUsages[group]
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		io.WriteString(stderr, usage+"\n")
		if len(args) == 0 {
			return fmt.Errorf("%s: no subcommand", group)
		}
		return nil
	}
	sub := args[0]
	var f licenseFlags
	fs := flag.NewFlagSet(group+" "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { io.WriteString(stderr, usage+"\n\nflags:\n"); fs.PrintDefaults() }
	f.register(fs)
	fs.StringVar(&f.vendor, "vendor", "", "vendor (user name)")
	fs.StringVar(&f.name, "name", "", "name")
	fs.StringVar(&f.email, "email", "", "customer e-mail")
	fs.StringVar(&f.company, "company", "", "customer company")
	fs.StringVar(&f.user, "user", "", "user account to link the customer to")
	fs.StringVar(&f.notes, "notes", "", "key notes (at most 500 characters)")
	fs.StringVar(&f.features, "features", "", "features to switch on, e.g. 1,3 for F1 and F3")
	fs.StringVar(&f.allowed, "allowed-machines", "", "comma-separated machine codes that may activate even at the limit")
	fs.StringVar(&f.methods, "methods", "", "comma-separated methods the token may call")
	fs.Int64Var(&f.product, "product", 0, "product id")
	fs.Int64Var(&f.customer, "customer", 0, "customer id")
	fs.Int64Var(&f.productLock, "product-lock", 0, "restrict the token to this product")
	fs.Int64Var(&f.keyLock, "key-lock", 0, "restrict the token to the key with this ID (needs --product-lock); -1 allows auth/KeyLock")
	fs.Int64Var(&f.featureLock, "feature-lock", 0, "FieldsToReturn mask (Activate, GetKey) or trial days (CreateTrialKey)")
	fs.IntVar(&f.count, "count", 1, "how many keys to create")
	fs.IntVar(&f.period, "period", 0, "days the key is valid (from creation, or from the first activation with --trial-activation)")
	fs.IntVar(&f.maxMachines, "max-machines", 0, "machines that may activate the key (0: not recorded, any number)")
	fs.IntVar(&f.maxDevices, "max-devices", 0, "devices the customer's own login may use (0: unlimited)")
	fs.BoolVar(&f.blockExpired, "block-expired", false, "treat expired keys as blocked")
	fs.BoolVar(&f.yes, "yes", false, "product rotate-key: yes, apps that pin the old public key will reject new licenses")
	fs.BoolVar(&f.block, "block", false, "create the keys blocked")
	fs.BoolVar(&f.trialActivation, "trial-activation", false, "start the period at the first activation")
	fs.BoolVar(&f.pem, "pem", false, "print the public key as PEM instead of <RSAKeyValue>")
	fs.BoolVar(&f.floating, "floating", false, "remove the machine's floating seat instead of its node-locked activation")
	fs.DurationVar(&f.expires, "expires", 0, "token lifetime, e.g. 720h (0: no expiry)")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}

	ctx := context.Background()
	store, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	master, err := f.checkedServerKey(ctx, store, stderr)
	if err != nil {
		return err
	}
	c := &licenseCLI{f: &f, fs: fs, pos: pos, svc: license.New(store, keys.NewSealerFor(master, keys.PurposeLicenseSigningKeys), license.Options{}),
		audit: store, admin: license.Admin(), stdout: stdout, stderr: stderr, usage: usage}
	run, ok := map[string]func(context.Context) error{
		"vendor add": c.vendorAdd, "vendor list": c.vendorList,
		"product add": c.productAdd, "product list": c.productList, "product pubkey": c.productPubkey, "product set": c.productSet,
		"product rotate-key": c.productRotateKey,
		"customer add":       c.customerAdd, "customer list": c.customerList,
		"key create": c.keyCreate, "key list": c.keyList, "key show": c.keyShow,
		"key block":       func(ctx context.Context) error { return c.keyBlock(ctx, true) },
		"key unblock":     func(ctx context.Context) error { return c.keyBlock(ctx, false) },
		"activation list": c.activationList, "activation remove": c.activationRemove,
		"apitoken create": c.apitokenCreate, "apitoken list": c.apitokenList, "apitoken revoke": c.apitokenRevoke,
	}[group+" "+sub]
	if !ok {
		io.WriteString(stderr, usage+"\n")
		return fmt.Errorf("%s: unknown subcommand %q", group, sub)
	}
	return explainLicenseErr(run(ctx))
}

type licenseCLI struct {
	f              *licenseFlags
	fs             *flag.FlagSet
	pos            []string
	svc            *license.Service
	audit          storage.Audit // administrative changes are recorded here
	admin          *license.Access
	stdout, stderr io.Writer
	usage          string
}

// args checks the number of positional arguments.
func (c *licenseCLI) args(n int, what string) error {
	if len(c.pos) != n {
		io.WriteString(c.stderr, c.usage+"\n")
		return fmt.Errorf("%s: expected %d argument(s) (%s), got %d", c.fs.Name(), n, what, len(c.pos))
	}
	return nil
}

func (c *licenseCLI) need(name string, ok bool) error {
	if !ok {
		return fmt.Errorf("%s: --%s is required", c.fs.Name(), name)
	}
	return nil
}

// explainLicenseErr turns the license package's errors into plain words for the operator.
func explainLicenseErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, license.ErrProductNotFound):
		return errors.New("no such product")
	case errors.Is(err, license.ErrKeyNotFound):
		return errors.New("no such key in this product")
	case errors.Is(err, license.ErrNotActivated):
		return errors.New("that machine is not activated on this key")
	case errors.Is(err, storage.ErrConflict):
		return fmt.Errorf("already exists (%w)", err)
	}
	return err
}

func (c *licenseCLI) table(header string, rows func(w io.Writer)) error {
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	printf(tw, "%s\n", header)
	rows(tw)
	return tw.Flush()
}

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02")
}

func (c *licenseCLI) vendorAdd(ctx context.Context) error {
	if err := c.args(1, "USER"); err != nil {
		return err
	}
	if err := c.svc.AddVendor(ctx, c.pos[0]); err != nil {
		return err
	}
	printf(c.stdout, "%s is a vendor\n", c.pos[0])
	return nil
}

func (c *licenseCLI) vendorList(ctx context.Context) error {
	vs, err := c.svc.ListVendors(ctx)
	if err != nil {
		return err
	}
	return c.table("VENDOR\tSINCE", func(w io.Writer) {
		for _, v := range vs {
			printf(w, "%s\t%s\n", v.Name, day(v.CreatedAt))
		}
	})
}

func (c *licenseCLI) productAdd(ctx context.Context) error {
	if err := c.args(1, "NAME"); err != nil {
		return err
	}
	if err := c.need("vendor", c.f.vendor != ""); err != nil {
		return err
	}
	p, err := c.svc.CreateProduct(ctx, c.admin, c.f.vendor, license.ProductSpec{Name: c.pos[0], BlockExpired: c.f.blockExpired})
	if err != nil {
		return err
	}
	printf(c.stdout, "created product %d (%s) of %s\n", p.ID, p.Name, p.Vendor)
	return nil
}

func (c *licenseCLI) productList(ctx context.Context) error {
	ps, err := c.svc.ListProducts(ctx, c.admin)
	if err != nil {
		return err
	}
	return c.table("ID\tNAME\tVENDOR\tBLOCK EXPIRED\tCREATED", func(w io.Writer) {
		for _, p := range ps {
			if c.f.vendor == "" || p.Vendor == c.f.vendor {
				printf(w, "%d\t%s\t%s\t%v\t%s\n", p.ID, p.Name, p.Vendor, p.BlockExpired, day(p.CreatedAt))
			}
		}
	})
}

func (c *licenseCLI) positionalID(i int, what string) (int64, error) {
	id, err := strconv.ParseInt(c.pos[i], 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%s %q is not a positive number", what, c.pos[i])
	}
	return id, nil
}

func (c *licenseCLI) productPubkey(ctx context.Context) error {
	if err := c.args(1, "ID"); err != nil {
		return err
	}
	id, err := c.positionalID(0, "product id")
	if err != nil {
		return err
	}
	p, err := c.svc.Product(ctx, c.admin, id)
	if err != nil {
		return err
	}
	pub, err := license.PublicKey(p)
	if err != nil {
		return err
	}
	if c.f.pem {
		text, err := license.PublicKeyPEM(pub)
		if err != nil {
			return err
		}
		_, err = io.WriteString(c.stdout, text)
		return err
	}
	_, err = printf(c.stdout, "%s\n", license.PublicKeyXML(pub))
	return err
}

func (c *licenseCLI) productRotateKey(ctx context.Context) error {
	if err := c.args(1, "ID"); err != nil {
		return err
	}
	id, err := c.positionalID(0, "product id")
	if err != nil {
		return err
	}
	if !c.f.yes {
		return errors.New("apps that pin the product's public key (every Cryptolens SDK does) will reject every license " +
			"signed after the rotation until they ship the new key; give --yes to rotate anyway")
	}
	p, err := c.svc.RotateProductKey(ctx, c.admin, id)
	if err != nil {
		return err
	}
	if err := auditCLI(ctx, c.audit, "license.product.rotate_key", p.Vendor, fmt.Sprintf("product=%d", p.ID)); err != nil {
		return err
	}
	pub, err := license.PublicKey(p)
	if err != nil {
		return err
	}
	printf(c.stderr, "product %d has a new signing key; ship this public key with your apps:\n", p.ID)
	_, err = printf(c.stdout, "%s\n", license.PublicKeyXML(pub))
	return err
}

func (c *licenseCLI) productSet(ctx context.Context) error {
	if err := c.args(1, "ID"); err != nil {
		return err
	}
	id, err := c.positionalID(0, "product id")
	if err != nil {
		return err
	}
	set := false
	c.fs.Visit(func(fl *flag.Flag) { set = set || fl.Name == "block-expired" })
	if err := c.need("block-expired", set); err != nil {
		return err
	}
	p, err := c.svc.SetBlockExpired(ctx, c.admin, id, c.f.blockExpired)
	if err != nil {
		return err
	}
	printf(c.stdout, "product %d: block expired keys %v\n", p.ID, p.BlockExpired)
	return nil
}

func (c *licenseCLI) customerAdd(ctx context.Context) error {
	if err := c.args(0, "none"); err != nil {
		return err
	}
	if err := c.need("vendor", c.f.vendor != ""); err != nil {
		return err
	}
	if err := c.need("name", c.f.name != ""); err != nil {
		return err
	}
	cu, err := c.svc.CreateCustomer(ctx, c.admin, c.f.vendor, license.CustomerSpec{Name: c.f.name, Email: c.f.email,
		Company: c.f.company, MaxNoOfDevices: c.f.maxDevices, User: c.f.user})
	if err != nil {
		return err
	}
	printf(c.stdout, "created customer %d (%s) of %s\n", cu.ID, cu.Name, cu.Vendor)
	return nil
}

func (c *licenseCLI) customerList(ctx context.Context) error {
	cs, err := c.svc.ListCustomers(ctx, c.admin)
	if err != nil {
		return err
	}
	return c.table("ID\tNAME\tEMAIL\tCOMPANY\tMAX DEVICES\tUSER\tVENDOR", func(w io.Writer) {
		for _, cu := range cs {
			if c.f.vendor == "" || cu.Vendor == c.f.vendor {
				printf(w, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", cu.ID, cu.Name, cu.Email, cu.Company, cu.MaxNoOfDevices, cu.User, cu.Vendor)
			}
		}
	})
}

func (c *licenseCLI) keySpec() (license.KeySpec, error) {
	spec := license.KeySpec{Period: c.f.period, Notes: c.f.notes, Blocked: c.f.block, CustomerID: c.f.customer,
		TrialActivation: c.f.trialActivation, MaxNoOfMachines: c.f.maxMachines}
	for _, s := range strings.Split(c.f.features, ",") {
		if s = strings.TrimPrefix(strings.TrimSpace(s), "F"); s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 8 {
			return spec, fmt.Errorf("--features: %q is not a feature number 1..8", s)
		}
		spec.Features[n-1] = true
	}
	var allowed []string
	for _, m := range strings.Split(c.f.allowed, ",") {
		if m = strings.TrimSpace(m); m != "" {
			allowed = append(allowed, m)
		}
	}
	spec.AllowedMachines = strings.Join(allowed, "\n")
	return spec, nil
}

// maxKeysPerRun bounds one `key create --count`.
const maxKeysPerRun = 1_000_000

func (c *licenseCLI) keyCreate(ctx context.Context) error {
	if err := c.args(0, "none"); err != nil {
		return err
	}
	if err := c.need("product", c.f.product > 0); err != nil {
		return err
	}
	if c.f.count < 1 || c.f.count > maxKeysPerRun {
		return fmt.Errorf("--count must be 1..%d", maxKeysPerRun)
	}
	spec, err := c.keySpec()
	if err != nil {
		return err
	}
	var bar *progressbar.ProgressBar
	if c.f.count > 1 {
		bar = progressbar.NewOptions(c.f.count, progressbar.OptionSetWriter(c.stderr), progressbar.OptionSetDescription("creating keys"),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("keys"),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionOnCompletion(func() { fmt.Fprintln(c.stderr) }))
	}
	for i := range c.f.count {
		k, err := c.svc.CreateKey(ctx, c.admin, c.f.product, spec)
		if err != nil {
			if i > 0 {
				return fmt.Errorf("after %d keys: %w", i, err)
			}
			return err
		}
		if _, err := printf(c.stdout, "%s\n", k.Key.Key); err != nil {
			return err
		}
		if bar != nil {
			bar.Add(1)
		}
	}
	return nil
}

func (c *licenseCLI) keyList(ctx context.Context) error {
	if err := c.need("product", c.f.product > 0); err != nil {
		return err
	}
	ks, err := c.svc.ListKeys(ctx, c.admin, c.f.product)
	if err != nil {
		return err
	}
	return c.table("ID\tKEY\tCREATED\tEXPIRES\tMAX MACHINES\tBLOCKED\tCUSTOMER\tNOTES", func(w io.Writer) {
		for _, k := range ks {
			printf(w, "%d\t%s\t%s\t%s\t%d\t%v\t%s\t%s\n", k.ID, k.Key, day(k.CreatedAt), day(k.ExpiresAt),
				k.MaxNoOfMachines, k.Blocked, idOrDash(k.CustomerID), oneLine(k.Notes))
		}
	})
}

func idOrDash(id int64) string {
	if id == 0 {
		return "-"
	}
	return strconv.FormatInt(id, 10)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func (c *licenseCLI) keyDetails(ctx context.Context) (license.KeyDetails, error) {
	if err := c.args(1, "KEY"); err != nil {
		return license.KeyDetails{}, err
	}
	if err := c.need("product", c.f.product > 0); err != nil {
		return license.KeyDetails{}, err
	}
	return c.svc.ShowKey(ctx, c.admin, c.f.product, c.pos[0])
}

func (c *licenseCLI) keyShow(ctx context.Context) error {
	d, err := c.keyDetails(ctx)
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
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
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
}

func (c *licenseCLI) keyBlock(ctx context.Context, blocked bool) error {
	if err := c.args(1, "KEY"); err != nil {
		return err
	}
	if err := c.need("product", c.f.product > 0); err != nil {
		return err
	}
	if err := c.svc.BlockKey(ctx, c.admin, c.f.product, c.pos[0], blocked); err != nil {
		return err
	}
	state := "blocked"
	if !blocked {
		state = "unblocked"
	}
	printf(c.stdout, "key %s %s\n", c.pos[0], state)
	return nil
}

func (c *licenseCLI) activationList(ctx context.Context) error {
	d, err := c.keyDetails(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	return c.table("MACHINE\tKIND\tFRIENDLY NAME\tIP\tACTIVATED\tFLOATING UNTIL", func(w io.Writer) {
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
}

func (c *licenseCLI) activationRemove(ctx context.Context) error {
	if err := c.args(2, "KEY MACHINE_CODE"); err != nil {
		return err
	}
	if err := c.need("product", c.f.product > 0); err != nil {
		return err
	}
	if err := c.svc.RemoveActivation(ctx, c.admin, c.f.product, c.pos[0], c.pos[1], c.f.floating); err != nil {
		return err
	}
	printf(c.stdout, "machine %s removed from key %s\n", c.pos[1], c.pos[0])
	return nil
}

func (c *licenseCLI) apitokenCreate(ctx context.Context) error {
	if err := c.args(0, "none"); err != nil {
		return err
	}
	if err := c.need("vendor", c.f.vendor != ""); err != nil {
		return err
	}
	if err := c.need("methods", c.f.methods != ""); err != nil {
		return err
	}
	spec := license.TokenSpec{Name: c.f.name, ProductLock: c.f.productLock, KeyLock: c.f.keyLock, FeatureLock: c.f.featureLock}
	for _, s := range strings.Split(c.f.methods, ",") {
		m, err := license.ParseMethod(s)
		if err != nil {
			return fmt.Errorf("--methods: %q is not one of %s", strings.TrimSpace(s), methodNames())
		}
		spec.Methods = append(spec.Methods, m)
	}
	if c.f.expires < 0 {
		return errors.New("--expires must not be negative")
	}
	if c.f.expires > 0 {
		spec.ExpiresAt = time.Now().Add(c.f.expires)
	}
	issued, err := c.svc.CreateAPIToken(ctx, c.f.vendor, spec)
	if err != nil {
		return err
	}
	printf(c.stderr, "created API token %d for %s; it is shown once, store it now:\n", issued.Record.ID, c.f.vendor)
	_, err = printf(c.stdout, "%s\n", issued.Token)
	return err
}

func (c *licenseCLI) apitokenList(ctx context.Context) error {
	ts, err := c.svc.ListAPITokens(ctx, c.f.vendor)
	if err != nil {
		return err
	}
	now := time.Now()
	return c.table("ID\tVENDOR\tNAME\tMETHODS\tPRODUCT LOCK\tKEY LOCK\tFEATURE LOCK\tSTATE\tCREATED", func(w io.Writer) {
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
}

func (c *licenseCLI) apitokenRevoke(ctx context.Context) error {
	if err := c.args(1, "ID"); err != nil {
		return err
	}
	id, err := c.positionalID(0, "token id")
	if err != nil {
		return err
	}
	if err := c.svc.RevokeAPIToken(ctx, c.f.vendor, id); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("no API token %d", id)
		}
		return err
	}
	printf(c.stdout, "API token %d revoked\n", id)
	return nil
}
