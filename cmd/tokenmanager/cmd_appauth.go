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

	"github.com/tokenmanager/tokenmanager/appauth"
	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

const appAuthUsage = `usage:
  tokenmanager appauth list [--user U] [--vendor V] [--limit N]
                                     the apps users authorized on the consent page (/User/AuthorizeApp/) or
                                     with userauth/Login, and the state of each child token
  tokenmanager appauth show ID
  tokenmanager appauth revoke ID     revoke an authorization: its child token stops working at once
  tokenmanager appauth devices [--user U]
                                     the devices registered with customers through User Login Auth
  tokenmanager appauth remove-device --customer ID MACHINE_CODE
                                     free a device's place under the customer's MaxNoOfDevices; every app
                                     authorized on it is revoked

Users do the same for their own apps and devices at /User/AuthorizedApps/; administrators over HTTP under
/admin/v1/app-authorizations and /admin/v1/app-devices (see README).

examples:
  tokenmanager appauth list --user alice
  tokenmanager appauth revoke 12
  tokenmanager appauth remove-device --customer 3 9f86d081884c7d65`

func appAuthCommand(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, appAuthUsage)
		if len(args) == 0 {
			return errors.New("appauth: no subcommand")
		}
		return nil
	}
	sub := args[0]
	var sf storeFlags
	fs := flag.NewFlagSet("appauth "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, appAuthUsage+"\n\nflags:"); fs.PrintDefaults() }
	sf.register(fs)
	user := fs.String("user", "", "only this user's")
	vendor := fs.String("vendor", "", "only apps of this vendor's tokens")
	limit := fs.Int("limit", 1000, "at most this many, newest first")
	customer := fs.Int64("customer", 0, "the customer id the device is registered with")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	want, known := map[string]int{"list": 0, "show": 1, "revoke": 1, "devices": 0, "remove-device": 1}[sub]
	if !known {
		fmt.Fprintln(stderr, appAuthUsage)
		return fmt.Errorf("appauth: unknown subcommand %q", sub)
	}
	if len(pos) != want {
		fmt.Fprintln(stderr, appAuthUsage)
		return fmt.Errorf("appauth %s: expected %d argument(s), got %d", sub, want, len(pos))
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
	svc := appauth.New(store, license.New(store, keys.NewSealerFor(master, keys.PurposeLicenseSigningKeys), license.Options{}), appauth.Options{})
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	id := func() (int64, error) {
		n, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("appauth %s: %q is not an authorization id", sub, pos[0])
		}
		return n, nil
	}

	switch sub {
	case "list":
		list, err := svc.List(ctx, storage.AppAuthorizationFilter{User: *user, Vendor: *vendor, Limit: *limit})
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "ID\tUSER\tVENDOR\tAPP\tDEVICE\tPERMISSIONS\tDECIDED\tEXPIRES\tSTATE")
		for _, a := range list {
			printf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.User, a.Vendor, oneLine(a.AppName), dash(oneLine(a.DeviceName)),
				dash(strings.Join(a.Permissions, ",")), a.DecidedAt.Format(time.RFC3339), timeOrDash(a.TokenExpiresAt), svc.State(a))
		}
	case "show":
		n, err := id()
		if err != nil {
			return err
		}
		a, err := svc.Get(ctx, n, "")
		if err != nil {
			return appAuthErr(err)
		}
		for _, row := range [][2]string{{"id", strconv.FormatInt(a.ID, 10)}, {"user", a.User}, {"vendor", a.Vendor},
			{"parent token", strconv.FormatInt(a.ParentTokenID, 10)}, {"app", oneLine(a.AppName)}, {"device", dash(oneLine(a.DeviceName))},
			{"machine code", dash(a.MachineCode)}, {"permissions", dash(strings.Join(a.Permissions, ","))},
			{"locks", fmt.Sprintf("product %d, key %d, feature %d", a.ProductLock, a.KeyLock, a.FeatureLock)},
			{"lifetime", a.Lifetime.String()}, {"decided", string(a.State) + " " + a.DecidedAt.Format(time.RFC3339)},
			{"child token", idOrDash(a.ChildTokenID)}, {"issued", timeOrDash(a.IssuedAt)}, {"expires", timeOrDash(a.TokenExpiresAt)},
			{"revoked", timeOrDash(a.RevokedAt)}, {"state", svc.State(a)}} {
			printf(tw, "%s:\t%s\n", row[0], row[1])
		}
	case "revoke":
		n, err := id()
		if err != nil {
			return err
		}
		a, err := svc.Revoke(ctx, n, "")
		if err != nil {
			return appAuthErr(err)
		}
		if err := auditCLI(ctx, store, "admin.appauth.revoke", a.User, fmt.Sprintf("authorization=%d api_token=%d app=%q", a.ID, a.ChildTokenID, a.AppName)); err != nil {
			return err
		}
		printf(tw, "revoked authorization %d (%s for %s); its token stops working at once\n", a.ID, oneLine(a.AppName), a.User)
	case "devices":
		devs, err := svc.Devices(ctx, *user)
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "CUSTOMER\tVENDOR\tUSER\tMACHINE CODE\tDEVICE\tREGISTERED")
		for _, d := range devs {
			printf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", d.CustomerID, d.Vendor, d.User, d.MachineCode, dash(oneLine(d.DeviceName)),
				d.RegisteredAt.Format(time.RFC3339))
		}
	case "remove-device":
		if *customer <= 0 {
			return errors.New("appauth remove-device: --customer is required")
		}
		n, err := svc.RemoveDevice(ctx, *customer, pos[0], "")
		if err != nil {
			return appAuthErr(err)
		}
		if err := auditCLI(ctx, store, "admin.appauth.device.remove", "", fmt.Sprintf("customer=%d machine=%q authorizations_revoked=%d", *customer, pos[0], n)); err != nil {
			return err
		}
		printf(tw, "removed device %s from customer %d; %d authorization(s) revoked\n", pos[0], *customer, n)
	}
	return nil
}

func appAuthErr(err error) error {
	if errors.Is(err, appauth.ErrNotFound) {
		return errors.New(strings.TrimPrefix(err.Error(), "appauth: "))
	}
	return err
}
