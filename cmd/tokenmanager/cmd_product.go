package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/tokenmanager/tokenmanager/license"
)

var productCommand = &command{
	name:  "product",
	short: "licensing: products, each with its own signing key",
	long: `examples:
  tokenmanager product add "Photo Editor" --vendor alice
  tokenmanager product pubkey 1 > pubkey.xml`,
	subs: []*command{
		{name: "add", args: "NAME --vendor USER [--block-expired]", nargs: 1, setup: productAdd,
			short: "create a product with its own RSA-2048 signing key (sealed with the server key)"},
		{name: "list", args: "[--vendor USER]", setup: productList, short: "list products"},
		{name: "pubkey", args: "ID [--pem]", nargs: 1, setup: productPubkey,
			short: "print the product's public key as Cryptolens' <RSAKeyValue> XML (what the Cryptolens SDKs take as RSAPubKey), or as PEM"},
		{name: "set", args: "ID --block-expired=true|false", nargs: 1, setup: productSet,
			short: `treat expired keys as blocked (Cryptolens' "Block Expired Licenses")`},
		{name: "edit", args: "ID [--name NAME] [--block-expired=true|false] [--allow-activation-management=true|false]", nargs: 1, setup: productEdit,
			short: "rename the product, switch whether expired keys count as blocked, or whether customers may free machines on /account/"},
		{name: "delete", args: "ID [--force]", nargs: 1, setup: productDelete,
			short: "remove a product without keys; --force removes its keys, their activations and its WooCommerce SKUs with it"},
		{name: "rotate-key", args: "ID --yes", nargs: 1, setup: productRotateKey,
			short: "give the product a new signing key; only for a compromised key",
			long: `Cryptolens SDKs verify licenses against the public key built into the app: apps reject every license signed
after this until they ship the new key (product pubkey).`},
	},
}

func productAdd(fs *flag.FlagSet) runFunc {
	vendor := fs.String("vendor", "", "the vendor (user name) who owns the product")
	blockExpired := fs.Bool("block-expired", false, "treat expired keys as blocked")
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		if err := inv.require("vendor", *vendor != ""); err != nil {
			return err
		}
		p, err := l.svc.CreateProduct(ctx, l.admin, *vendor, license.ProductSpec{Name: inv.args[0], BlockExpired: *blockExpired})
		if err != nil {
			return err
		}
		printf(inv.stdout, "created product %d (%s) of %s\n", p.ID, p.Name, p.Vendor)
		return nil
	})
}

func productList(fs *flag.FlagSet) runFunc {
	vendor := vendorFilter(fs)
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		ps, err := l.svc.ListProducts(ctx, l.admin)
		if err != nil {
			return err
		}
		return table(inv.stdout, "ID\tNAME\tVENDOR\tBLOCK EXPIRED\tCREATED", func(w io.Writer) {
			for _, p := range ps {
				if *vendor == "" || p.Vendor == *vendor {
					printf(w, "%d\t%s\t%s\t%v\t%s\n", p.ID, p.Name, p.Vendor, p.BlockExpired, day(p.CreatedAt))
				}
			}
		})
	})
}

func productPubkey(fs *flag.FlagSet) runFunc {
	pem := fs.Bool("pem", false, "print the public key as PEM instead of <RSAKeyValue>")
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		id, err := positionalID(inv, 0, "product id")
		if err != nil {
			return err
		}
		p, err := l.svc.Product(ctx, l.admin, id)
		if err != nil {
			return err
		}
		pub, err := license.PublicKey(p)
		if err != nil {
			return err
		}
		if *pem {
			text, err := license.PublicKeyPEM(pub)
			if err != nil {
				return err
			}
			_, err = io.WriteString(inv.stdout, text)
			return err
		}
		_, err = printf(inv.stdout, "%s\n", license.PublicKeyXML(pub))
		return err
	})
}

func productSet(fs *flag.FlagSet) runFunc {
	blockExpired := fs.Bool("block-expired", false, "treat expired keys as blocked")
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		id, err := positionalID(inv, 0, "product id")
		if err != nil {
			return err
		}
		if err := inv.require("block-expired", inv.given("block-expired")); err != nil {
			return err
		}
		p, err := l.svc.SetBlockExpired(ctx, l.admin, id, *blockExpired)
		if err != nil {
			return err
		}
		printf(inv.stdout, "product %d: block expired keys %v\n", p.ID, p.BlockExpired)
		return nil
	})
}

func productRotateKey(fs *flag.FlagSet) runFunc {
	yes := fs.Bool("yes", false, "yes, apps that pin the old public key will reject new licenses")
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		id, err := positionalID(inv, 0, "product id")
		if err != nil {
			return err
		}
		if !*yes {
			return errors.New("apps that pin the product's public key (every Cryptolens SDK does) will reject every license " +
				"signed after the rotation until they ship the new key; give --yes to rotate anyway")
		}
		p, err := l.svc.RotateProductKey(ctx, l.admin, id)
		if err != nil {
			return err
		}
		pub, err := license.PublicKey(p)
		if err != nil {
			return err
		}
		printf(inv.stderr, "product %d has a new signing key; ship this public key with your apps:\n", p.ID)
		_, err = printf(inv.stdout, "%s\n", license.PublicKeyXML(pub))
		return err
	})
}

func productEdit(fs *flag.FlagSet) runFunc {
	name := fs.String("name", "", "the new name")
	blockExpired := fs.Bool("block-expired", false, "treat expired keys as blocked")
	manage := fs.Bool("allow-activation-management", false, "let the customers of the product's keys free machines themselves on /account/")
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		id, err := positionalID(inv, 0, "product id")
		if err != nil {
			return err
		}
		var e license.ProductEdit
		if inv.given("name") {
			e.Name = name
		}
		if inv.given("block-expired") {
			e.BlockExpired = blockExpired
		}
		if inv.given("allow-activation-management") {
			e.AllowActivationManagement = manage
		}
		if e.Name == nil && e.BlockExpired == nil && e.AllowActivationManagement == nil {
			return inv.usageError("give --name, --block-expired or --allow-activation-management")
		}
		p, err := l.svc.EditProduct(ctx, l.admin, id, e, nil)
		if err != nil {
			return err
		}
		if err := auditCLI(ctx, l.db, "license.product.edit", p.Vendor, fmt.Sprintf("product=%d name=%q block_expired=%v allow_activation_management=%v", p.ID, p.Name, p.BlockExpired, p.AllowActivationManagement)); err != nil {
			return err
		}
		printf(inv.stdout, "product %d: name %q, block expired keys %v, customers manage activations %v\n", p.ID, p.Name, p.BlockExpired,
			p.AllowActivationManagement)
		return nil
	})
}

func productDelete(fs *flag.FlagSet) runFunc {
	force := fs.Bool("force", false, "also remove the product's license keys, their activations and its WooCommerce SKUs")
	return withLicensing(fs, func(ctx context.Context, inv *invocation, l licensing) error {
		id, err := positionalID(inv, 0, "product id")
		if err != nil {
			return err
		}
		p, err := l.svc.Product(ctx, l.admin, id)
		if err != nil {
			return err
		}
		r, err := l.svc.DeleteProduct(ctx, l.admin, id, *force)
		if err != nil {
			return err
		}
		if err := auditCLI(ctx, l.db, "license.product.delete", p.Vendor, fmt.Sprintf("product=%d keys=%d activations=%d skus=%d",
			id, r.Keys, r.Activations, r.SKUs)); err != nil {
			return err
		}
		printf(inv.stdout, "product %d deleted with %d key(s), %d activation(s) and %d SKU(s)\n", id, r.Keys, r.Activations, r.SKUs)
		return nil
	})
}
