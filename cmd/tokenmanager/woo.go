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

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/license"
	licwoo "github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/storage"
)

const wooUsage = `usage:
  tokenmanager woo store add VENDOR --code-stdin [--name NAME] [--require-token] [--errors-by-code]
                                        a WooCommerce License Keys store of VENDOR; its store code (what
                                        clients send as store_code) is read from standard input
  tokenmanager woo store list [--vendor VENDOR]
  tokenmanager woo store set ID [--name NAME] [--code-stdin] [--require-token=BOOL] [--errors-by-code=BOOL]
  tokenmanager woo sku set STORE SKU PRODUCT [--desktop]
                                        the store sells PRODUCT under SKU (--desktop: a desktop product,
                                        whose activations need no domain and each take a seat)
  tokenmanager woo sku list STORE
  tokenmanager woo sku remove STORE SKU
  tokenmanager woo key PRODUCT KEY      print a key in the plugin's form (<letters>-<id>) for customers

--require-token makes activate, validate and deactivate need "Authorization: Bearer" with a token from
/wp-json/woo-license-keys/v1/token for the same key; --errors-by-code keys errors by number, not by parameter.

example:
  echo "$STORE_CODE" | tokenmanager woo store add acme --code-stdin --name "Acme shop"
  tokenmanager woo sku set 1 ACME-EDITOR 3`

func wooCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, wooUsage)
		return errors.New("woo: no subcommand")
	}
	what := args[0]
	args = args[1:]
	sub := ""
	if what != "key" {
		if len(args) == 0 {
			fmt.Fprintln(stderr, wooUsage)
			return fmt.Errorf("woo %s: no subcommand", what)
		}
		sub, args = args[0], args[1:]
	}
	var sf storeFlags
	fs := flag.NewFlagSet(strings.TrimSpace("woo "+what+" "+sub), flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, wooUsage); fs.PrintDefaults() }
	sf.register(fs)
	codeStdin := fs.Bool("code-stdin", false, "read the store code from standard input (store add, store set)")
	name := fs.String("name", "", "the store's name (store add, store set)")
	requireToken := fs.Bool("require-token", false, "require a Bearer token of the key (store add, store set)")
	byCode := fs.Bool("errors-by-code", false, "key errors by numeric code (store add, store set)")
	desktop := fs.Bool("desktop", false, "a desktop product (sku set)")
	vendor := fs.String("vendor", "", "only this vendor's stores (store list)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	want := map[string]int{"store add": 1, "store list": 0, "store set": 1, "sku set": 3, "sku list": 1, "sku remove": 2, "key ": 2}
	n, known := want[what+" "+sub]
	if !known {
		fmt.Fprintln(stderr, wooUsage)
		return fmt.Errorf("woo: unknown subcommand %q", strings.TrimSpace(what+" "+sub))
	}
	if len(pos) != n {
		fmt.Fprintln(stderr, wooUsage)
		return fmt.Errorf("woo %s: expected %d argument(s), got %d", strings.TrimSpace(what+" "+sub), n, len(pos))
	}
	ids := make([]int64, 0, 2)
	parseID := func(s string) (int64, error) {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return 0, fmt.Errorf("%q is not an id", s)
		}
		return id, nil
	}
	ctx := context.Background()
	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	master, err := sf.checkedServerKey(ctx, store, stderr)
	if err != nil {
		return err
	}
	svc := license.New(store, keys.NewSealerFor(master, keys.PurposeLicenseSigningKeys), license.Options{})
	woo := licwoo.New(svc, store, licwoo.Options{})
	admin := license.Admin()
	readCode := func() (string, error) {
		if !*codeStdin {
			return "", errors.New("give the store code on standard input with --code-stdin")
		}
		line, err := bufio.NewReader(io.LimitReader(stdin, license.MaxNameLen+2)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		return strings.TrimRight(line, "\r\n"), nil
	}

	switch what + " " + sub {
	case "store add":
		code, err := readCode()
		if err != nil {
			return err
		}
		st, err := woo.CreateStore(ctx, admin, pos[0], licwoo.StoreSpec{Name: *name, Code: code,
			RequireToken: *requireToken, ErrorsByCode: *byCode})
		if errors.Is(err, storage.ErrConflict) {
			return errors.New("another store has this code; choose another")
		}
		if err != nil {
			return err
		}
		printf(stdout, "created store %d of %s\n", st.ID, st.Vendor)
	case "store list":
		stores, err := woo.ListStores(ctx, admin)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
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
	case "store set":
		id, err := parseID(pos[0])
		if err != nil {
			return err
		}
		var ch licwoo.StoreChange
		if set["name"] {
			ch.Name = name
		}
		if set["require-token"] {
			ch.RequireToken = requireToken
		}
		if set["errors-by-code"] {
			ch.ErrorsByCode = byCode
		}
		if *codeStdin {
			code, err := readCode()
			if err != nil {
				return err
			}
			ch.Code = &code
		}
		if _, err := woo.UpdateStore(ctx, admin, id, ch); err != nil {
			return err
		}
		printf(stdout, "store %d updated\n", id)
	case "sku set":
		for _, s := range []string{pos[0], pos[2]} {
			id, err := parseID(s)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		if err := woo.SetSKU(ctx, admin, ids[0], pos[1], ids[1], *desktop); err != nil {
			return err
		}
		printf(stdout, "store %d sells product %d as %s\n", ids[0], ids[1], pos[1])
	case "sku list":
		id, err := parseID(pos[0])
		if err != nil {
			return err
		}
		skus, err := woo.ListSKUs(ctx, admin, id)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SKU\tPRODUCT\tDESKTOP")
		for _, k := range skus {
			printf(tw, "%s\t%d\t%v\n", k.SKU, k.ProductID, k.Desktop)
		}
		return tw.Flush()
	case "sku remove":
		id, err := parseID(pos[0])
		if err != nil {
			return err
		}
		if err := woo.RemoveSKU(ctx, admin, id, pos[1]); err != nil {
			return err
		}
		printf(stdout, "store %d no longer sells %s\n", id, pos[1])
	case "key ":
		id, err := parseID(pos[0])
		if err != nil {
			return err
		}
		d, err := svc.ShowKey(ctx, admin, id, pos[1])
		if err != nil {
			return err
		}
		printf(stdout, "%s\n", licwoo.Key(d.Key))
	}
	return nil
}
