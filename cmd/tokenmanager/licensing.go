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

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

// The vendor-facing licensing commands: vendor, product, customer, key, activation, apitoken. They run as the
// operator (license.Admin) against the database directly, like ` + "`user`" + `.

// licensing is what a licensing command runs with.
type licensing struct {
	svc   *license.Service
	db    openDB // administrative changes are audited here
	admin *license.Access
}

// withLicensing is withStore for the licensing service, as the operator; the license package's errors come out
// in plain words.
func withLicensing(fs *flag.FlagSet, run func(ctx context.Context, inv *invocation, l licensing) error) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		svc, err := db.licenses(ctx, inv)
		if err != nil {
			return err
		}
		return explainLicenseErr(run(ctx, inv, licensing{svc: svc, db: db, admin: license.Admin()}))
	})
}

// table writes a header and rows aligned in columns.
func table(w io.Writer, header string, rows func(w io.Writer)) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	printf(tw, "%s\n", header)
	rows(tw)
	return tw.Flush()
}

// positionalID is the command's i-th argument, a positive number.
func positionalID(inv *invocation, i int, what string) (int64, error) {
	id, err := strconv.ParseInt(inv.args[i], 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%s %q is not a positive number", what, inv.args[i])
	}
	return id, nil
}

// vendorFilter is the --vendor flag of the listings.
func vendorFilter(fs *flag.FlagSet) *string {
	return fs.String("vendor", "", "only this vendor's (user name)")
}

// productFlag is the --product flag of the commands on a product's keys.
func productFlag(fs *flag.FlagSet) *int64 { return fs.Int64("product", 0, "product id") }

func methodNames() string {
	names := make([]string, len(license.Methods))
	for i, m := range license.Methods {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
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

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02")
}

func idOrDash(id int64) string {
	if id == 0 {
		return "-"
	}
	return strconv.FormatInt(id, 10)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
