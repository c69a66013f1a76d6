package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
	licwoo "github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/storage"
)

var wooCommand = &command{
	name:  "woo",
	short: "WooCommerce License Keys stores and SKUs: store add|list|set|delete, sku set|list|remove, key",
	long: `--require-token makes activate, validate and deactivate need "Authorization: Bearer" with a token from
/wp-json/woo-license-keys/v1/token for the same key; --errors-by-code keys errors by number, not by parameter.

example:
  echo "$STORE_CODE" | tokenmanager woo store add acme --code-stdin --name "Acme shop"
  tokenmanager woo store add acme --name "Acme outlet"   # prints a new store code, once
  tokenmanager woo sku set 1 ACME-EDITOR 3
  tokenmanager woo store delete 2 --force`,
	subs: []*command{
		{name: "store", short: "a vendor's stores, each with its own store code: add, list, set, delete", subs: []*command{
			{name: "add", args: "VENDOR [--code-stdin] [--name NAME] [--require-token] [--errors-by-code]", nargs: 1, setup: wooStoreAdd,
				short: "a WooCommerce License Keys store of VENDOR; its store code (what clients send as store_code) is read from standard input, or made and printed once without --code-stdin"},
			{name: "list", args: "[--vendor VENDOR]", setup: wooStoreList, short: "list stores"},
			{name: "set", args: "ID [--name NAME] [--code-stdin] [--require-token=BOOL] [--errors-by-code=BOOL]", nargs: 1, setup: wooStoreSet,
				short: "change a store"},
			{name: "delete", args: "ID [--force]", nargs: 1, setup: wooStoreDelete,
				short: "remove a store (refused while it sells SKUs; --force removes them with it)"},
		}},
		{name: "sku", short: "which product a store sells under which SKU: set, list, remove", subs: []*command{
			{name: "set", args: "STORE SKU PRODUCT [--desktop]", nargs: 3, setup: wooSKUSet,
				short: "the store sells PRODUCT under SKU (--desktop: a desktop product, whose activations need no domain and each take a seat)"},
			{name: "list", args: "STORE", nargs: 1, setup: wooSKUList, short: "list a store's SKUs"},
			{name: "remove", args: "STORE SKU", nargs: 2, setup: wooSKURemove, short: "the store no longer sells SKU"},
		}},
		{name: "key", args: "PRODUCT KEY", nargs: 2, setup: wooKey,
			short: "print a key in the plugin's form (<letters>-<id>) for customers"},
	},
}

// wooRun runs a woo command as the operator.
type wooRun func(ctx context.Context, inv *invocation, woo *licwoo.Service, licenses *license.Service) error

// withWoo is withStore for the WooCommerce service.
func withWoo(fs *flag.FlagSet, run wooRun) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		licenses, err := db.licenses(ctx, inv)
		if err != nil {
			return err
		}
		return run(ctx, inv, licwoo.New(licenses, db, licwoo.Options{}), licenses)
	})
}

// storeSettings are the flags of store add and store set.
type storeSettings struct {
	codeStdin, requireToken, errorsByCode bool
	name                                  string
}

func (f *storeSettings) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.codeStdin, "code-stdin", false, "read the store code from standard input")
	fs.StringVar(&f.name, "name", "", "the store's name")
	fs.BoolVar(&f.requireToken, "require-token", false, "require a Bearer token of the key")
	fs.BoolVar(&f.errorsByCode, "errors-by-code", false, "key errors by numeric code")
}

func (f *storeSettings) readCode(stdin io.Reader) (string, error) {
	if !f.codeStdin {
		return "", errors.New("give the store code on standard input with --code-stdin")
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, license.MaxNameLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%q is not an id", s)
	}
	return id, nil
}

func wooStoreAdd(fs *flag.FlagSet) runFunc {
	var f storeSettings
	f.register(fs)
	return withWoo(fs, func(ctx context.Context, inv *invocation, woo *licwoo.Service, _ *license.Service) error {
		code, made := licwoo.NewStoreCode(), true
		if f.codeStdin {
			var err error
			if code, err = f.readCode(inv.stdin); err != nil {
				return err
			}
			made = false
		}
		st, err := woo.CreateStore(ctx, license.Admin(), inv.args[0], licwoo.StoreSpec{Name: f.name, Code: code,
			RequireToken: f.requireToken, ErrorsByCode: f.errorsByCode})
		if errors.Is(err, storage.ErrConflict) {
			return errors.New("another store has this code; choose another")
		}
		if err != nil {
			return err
		}
		printf(inv.stdout, "created store %d of %s\n", st.ID, st.Vendor)
		if made {
			printf(inv.stdout, "store_code: %s\n", code)
			fmt.Fprintln(inv.stderr, "tokenmanager: the store code is shown only now; only its hash is stored")
		}
		return nil
	})
}

func wooStoreList(fs *flag.FlagSet) runFunc {
	vendor := fs.String("vendor", "", "only this vendor's stores")
	return withWoo(fs, func(ctx context.Context, inv *invocation, woo *licwoo.Service, _ *license.Service) error {
		stores, err := woo.ListStores(ctx, license.Admin())
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(inv.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tVENDOR\tNAME\tREQUIRE-TOKEN\tERRORS\tCREATED")
		for _, st := range stores {
			if *vendor != "" && st.Vendor != *vendor {
				continue
			}
			format := "property"
			if st.ErrorsByCode {
				format = "code"
			}
			printf(tw, "%d\t%s\t%s\t%v\t%s\t%s\n", st.ID, st.Vendor, st.Name, st.RequireToken, format,
				st.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	})
}

func wooStoreSet(fs *flag.FlagSet) runFunc {
	var f storeSettings
	f.register(fs)
	return withWoo(fs, func(ctx context.Context, inv *invocation, woo *licwoo.Service, _ *license.Service) error {
		id, err := parseID(inv.args[0])
		if err != nil {
			return err
		}
		var ch licwoo.StoreChange
		if inv.given("name") {
			ch.Name = &f.name
		}
		if inv.given("require-token") {
			ch.RequireToken = &f.requireToken
		}
		if inv.given("errors-by-code") {
			ch.ErrorsByCode = &f.errorsByCode
		}
		if f.codeStdin {
			code, err := f.readCode(inv.stdin)
			if err != nil {
				return err
			}
			ch.Code = &code
		}
		if _, err := woo.UpdateStore(ctx, license.Admin(), id, ch); err != nil {
			return err
		}
		printf(inv.stdout, "store %d updated\n", id)
		return nil
	})
}

func wooStoreDelete(fs *flag.FlagSet) runFunc {
	force := fs.Bool("force", false, "remove the store's SKUs with it")
	return withWoo(fs, func(ctx context.Context, inv *invocation, woo *licwoo.Service, _ *license.Service) error {
		id, err := parseID(inv.args[0])
		if err != nil {
			return err
		}
		n, err := woo.DeleteStore(ctx, license.Admin(), id, *force)
		if errors.Is(err, storage.ErrInUse) {
			return fmt.Errorf("store %d sells %d SKU(s); remove them first or use --force", id, n)
		}
		if err != nil {
			return err
		}
		printf(inv.stdout, "store %d deleted (%d SKU(s) with it)\n", id, n)
		return nil
	})
}

func wooSKUSet(fs *flag.FlagSet) runFunc {
	desktop := fs.Bool("desktop", false, "a desktop product: its activations need no domain and each take a seat")
	return withWoo(fs, func(ctx context.Context, inv *invocation, woo *licwoo.Service, _ *license.Service) error {
		store, err := parseID(inv.args[0])
		if err != nil {
			return err
		}
		product, err := parseID(inv.args[2])
		if err != nil {
			return err
		}
		sku := inv.args[1]
		if err := woo.SetSKU(ctx, license.Admin(), store, sku, product, *desktop); err != nil {
			return err
		}
		printf(inv.stdout, "store %d sells product %d as %s\n", store, product, sku)
		return nil
	})
}

func wooSKUList(fs *flag.FlagSet) runFunc {
	return withWoo(fs, func(ctx context.Context, inv *invocation, woo *licwoo.Service, _ *license.Service) error {
		id, err := parseID(inv.args[0])
		if err != nil {
			return err
		}
		skus, err := woo.ListSKUs(ctx, license.Admin(), id)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(inv.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SKU\tPRODUCT\tDESKTOP")
		for _, k := range skus {
			printf(tw, "%s\t%d\t%v\n", k.SKU, k.ProductID, k.Desktop)
		}
		return tw.Flush()
	})
}

func wooSKURemove(fs *flag.FlagSet) runFunc {
	return withWoo(fs, func(ctx context.Context, inv *invocation, woo *licwoo.Service, _ *license.Service) error {
		id, err := parseID(inv.args[0])
		if err != nil {
			return err
		}
		if err := woo.RemoveSKU(ctx, license.Admin(), id, inv.args[1]); err != nil {
			return err
		}
		printf(inv.stdout, "store %d no longer sells %s\n", id, inv.args[1])
		return nil
	})
}

func wooKey(fs *flag.FlagSet) runFunc {
	return withWoo(fs, func(ctx context.Context, inv *invocation, _ *licwoo.Service, licenses *license.Service) error {
		id, err := parseID(inv.args[0])
		if err != nil {
			return err
		}
		d, err := licenses.ShowKey(ctx, license.Admin(), id, inv.args[1])
		if err != nil {
			return err
		}
		printf(inv.stdout, "%s\n", licwoo.Key(d.Key))
		return nil
	})
}
