package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/tokenmanager/tokenmanager/admin"
	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/powerauth"
)

// init --demo fills an empty database with one of everything, so that a newcomer can try each surface at once.
// It is a command of its own, not a serve flag: a flag could be left in a config file or the environment of a
// production node, where a known user and known secrets must never appear by themselves.
var initCommand = &command{
	name:  "init",
	args:  "--demo [--url URL]",
	short: "fill an empty database with demo data (a user, vendor, product, key, API tokens, a PowerAuth device) and print commands to try",
	long: `init --demo works only on an empty database: one with no users but the admin that serve creates on first
start, and no vendor, product, API client or PowerAuth application. It creates, through the same code as the
commands that make each of them:
  the user demo (a generated password), who is a vendor;
  the product "Demo App" of demo, and a license key for it (365 days, 2 machines);
  a licensing API token for that product (Activate, Deactivate, GetKey);
  the API client demo-client (scope demo) and its keys;
  the PowerAuth application demo-app and an active device of demo,
then prints every secret once, with a command that uses each against --url. Run it while serve runs, or before.

example:
  tokenmanager init --demo --data-dir ./data`,
	setup: initSetup,
}

func initSetup(fs *flag.FlagSet) runFunc {
	demo := fs.Bool("demo", false, "create the demo data (required: init does nothing else)")
	url := fs.String("url", "http://127.0.0.1:8080", "where serve listens, for the printed commands")
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		if !*demo {
			return inv.usageError("init needs --demo (the data directory, key and admin are created by 'tokenmanager serve')")
		}
		if err := demoRefuseNonEmpty(ctx, inv, db); err != nil {
			return err
		}
		d, err := createDemo(ctx, inv, db)
		if err != nil {
			return fmt.Errorf("demo data: %w", explainLicenseErr(err))
		}
		d.print(inv, strings.TrimRight(*url, "/"))
		return nil
	})
}

// demoRefuseNonEmpty refuses a database that holds anything an operator made: demo data must never mix with real.
func demoRefuseNonEmpty(ctx context.Context, inv *invocation, db openDB) error {
	var found []string
	users, err := adminService(db).ListUsers(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.Name != "admin" {
			found = append(found, fmt.Sprintf("user %q", u.Name))
		}
	}
	lic, err := db.licenses(ctx, inv)
	if err != nil {
		return err
	}
	products, err := lic.ListProducts(ctx, license.Admin())
	if err != nil {
		return err
	}
	if len(products) > 0 {
		found = append(found, fmt.Sprintf("%d product(s)", len(products)))
	}
	clients, err := apiclient.New(db, apiclient.Config{}, nil).List(ctx)
	if err != nil {
		return err
	}
	if len(clients) > 0 {
		found = append(found, fmt.Sprintf("%d API client(s)", len(clients)))
	}
	apps, err := powerauth.NewService(db, nil, powerauth.Config{}, nil).ListApps(ctx)
	if err != nil {
		return err
	}
	if len(apps) > 0 {
		found = append(found, fmt.Sprintf("%d PowerAuth application(s)", len(apps)))
	}
	if len(found) > 0 {
		return fmt.Errorf("refusing to add demo data: the database is not empty (%s); init --demo works only on a "+
			"new one: start serve with another --data-dir (or --db) and run init --demo there", strings.Join(found, ", "))
	}
	return nil
}

type demoData struct {
	user, password      string
	productID           int64
	key                 string
	apiToken            string
	clientID, clientKey string
	app, activation     string
}

const (
	demoUser    = "demo"
	demoClient  = "demo-client"
	demoApp     = "demo-app"
	demoProduct = "Demo App"
)

func createDemo(ctx context.Context, inv *invocation, db openDB) (demoData, error) {
	d := demoData{user: demoUser, password: rand.Text(), clientID: demoClient, app: demoApp}
	if _, err := adminService(db).CreateUser(ctx, cliAdmin(), admin.UserSpec{Name: d.user, Password: d.password}); err != nil {
		return d, cliAdminErr(err)
	}
	lic, err := db.licenses(ctx, inv)
	if err != nil {
		return d, err
	}
	if err := lic.AddVendor(ctx, d.user); err != nil {
		return d, err
	}
	p, err := lic.CreateProduct(ctx, license.Admin(), d.user, license.ProductSpec{Name: demoProduct})
	if err != nil {
		return d, err
	}
	d.productID = p.ID
	k, err := lic.CreateKey(ctx, license.Admin(), p.ID, license.KeySpec{Period: 365, MaxNoOfMachines: 2})
	if err != nil {
		return d, err
	}
	d.key = k.Key.Key
	var methods []license.Method
	for _, name := range []string{"Activate", "Deactivate", "GetKey"} {
		m, err := license.ParseMethod(name)
		if err != nil {
			return d, err
		}
		methods = append(methods, m)
	}
	tok, err := lic.CreateAPIToken(ctx, d.user, license.TokenSpec{Name: "demo app", Methods: methods, ProductLock: p.ID})
	if err != nil {
		return d, err
	}
	d.apiToken = tok.Token
	c, err := apiclient.New(db, apiclient.Config{}, nil).Create(ctx, apiclient.Spec{ID: demoClient, Scopes: []string{"demo"},
		TokenLifetime: apiclient.DefaultTokenLifetime, GrantTypes: []string{apiclient.GrantClientCredentials}, Description: "demo"})
	if err != nil {
		return d, err
	}
	d.clientKey = c.PrimaryKey
	set, err := db.flags.checkedServerKeys(ctx, db.Store, inv.stderr)
	if err != nil {
		return d, err
	}
	sealer := set.SealerWith(func(master []byte) []byte { return keys.Derive(powerauth.SecretKey(master), keys.PurposeSeal) })
	pa := powerauth.NewService(db, sealer, powerauth.Config{}, nil)
	if _, err := pa.CreateApp(ctx, demoApp); err != nil {
		return d, err
	}
	if err := auditCLI(ctx, db, "powerauth.app.create", "", "app="+demoApp); err != nil {
		return d, err
	}
	a, err := pa.CreateActivation(ctx, d.user, "demo device")
	if errors.Is(err, powerauth.ErrNoUser) {
		return d, fmt.Errorf("no user %q", d.user)
	}
	if err != nil {
		return d, err
	}
	d.activation = a.ID
	return d, nil
}

// print shows every secret once, each beside a command that uses it.
func (d demoData) print(inv *invocation, url string) {
	w := inv.stdout
	printf(w, "demo data created; the secrets below are shown only now.\n\n")
	printf(w, "user %s (a vendor), password %s\n", d.user, d.password)
	printf(w, "product %d (%s), license key %s\n", d.productID, demoProduct, d.key)
	printf(w, "licensing API token %s\n", d.apiToken)
	printf(w, "API client %s, key %s\n", d.clientID, d.clientKey)
	printf(w, "PowerAuth application %s, device (activation) %s of %s\n\n", d.app, d.activation, d.user)
	printf(w, "# a Spectrum session token (SOAP and REST: docs/spectrum.md)\n")
	printf(w, "curl -s -u '%s:%s' %s/security/rest/token/access/session/60\n\n", d.user, d.password, url)
	printf(w, "# activate the license key on a machine, with a signed license (docs/licensing.md)\n")
	printf(w, "curl -s -d 'token=%s' -d 'ProductId=%d' -d 'Key=%s' -d 'MachineCode=demo-machine' -d 'Sign=true' -d 'SignMethod=1' %s/api/key/Activate\n\n",
		d.apiToken, d.productID, d.key, url)
	printf(w, "# an OAuth 2.0 access token, then its check (docs/oauth.md)\n")
	printf(w, "curl -s -u '%s:%s' -d grant_type=client_credentials %s/oauth2/token\n\n", d.clientID, d.clientKey, url)
	printf(w, "# a PowerAuth MAC token for the demo device (docs/powerauth.md)\n")
	printf(w, "curl -s -u '%s:%s' -H 'Content-Type: application/json' -d '{\"activationId\":\"%s\"}' %s/pa/v3/token/create\n",
		d.user, d.password, d.activation, url)
}
