package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tokenmanager/tokenmanager/appauth"
	"github.com/tokenmanager/tokenmanager/storage"
)

var appAuthCommand = &command{
	name:  "appauth",
	short: "apps and devices users authorized (consent page, GetToken flow): list, show, revoke, devices, remove-device",
	long: `Users do the same for their own apps and devices at /User/AuthorizedApps/; administrators over HTTP under
/admin/v1/app-authorizations and /admin/v1/app-devices (see docs/operations.md, "Administration").

examples:
  tokenmanager appauth list --user alice
  tokenmanager appauth revoke 12
  tokenmanager appauth remove-device --customer 3 9f86d081884c7d65`,
	subs: []*command{
		{name: "list", args: "[--user U] [--vendor V] [--limit N]", setup: appAuthList,
			short: "the apps users authorized on the consent page (/User/AuthorizeApp/) or with userauth/Login, and the state of each child token"},
		{name: "show", args: "ID", nargs: 1, setup: appAuthShow, short: "show one authorization"},
		{name: "revoke", args: "ID", nargs: 1, setup: appAuthRevoke, short: "revoke an authorization: its child token stops working at once"},
		{name: "devices", args: "[--user U]", setup: appAuthDevices, short: "the devices registered with customers through User Login Auth"},
		{name: "remove-device", args: "--customer ID MACHINE_CODE", nargs: 1, setup: appAuthRemoveDevice,
			short: "free a device's place under the customer's MaxNoOfDevices; every app authorized on it is revoked"},
	},
}

// withAppAuth is withStore for the app authorization service.
func withAppAuth(fs *flag.FlagSet, run func(ctx context.Context, inv *invocation, db openDB, svc *appauth.Service) error) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		licenses, err := db.licenses(ctx, inv)
		if err != nil {
			return err
		}
		return run(ctx, inv, db, appauth.New(db, licenses, appauth.Options{}))
	})
}

// authorizationID is the command's first argument, an authorization id.
func authorizationID(inv *invocation) (int64, error) {
	n, err := strconv.ParseInt(inv.args[0], 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s: %q is not an authorization id", inv.path, inv.args[0])
	}
	return n, nil
}

func appAuthList(fs *flag.FlagSet) runFunc {
	user := fs.String("user", "", "only this user's")
	vendor := fs.String("vendor", "", "only apps of this vendor's tokens")
	limit := fs.Int("limit", 1000, "at most this many, newest first")
	return withAppAuth(fs, func(ctx context.Context, inv *invocation, _ openDB, svc *appauth.Service) error {
		list, err := svc.List(ctx, storage.AppAuthorizationFilter{User: *user, Vendor: *vendor, Limit: *limit})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(inv.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tVENDOR\tAPP\tDEVICE\tPERMISSIONS\tDECIDED\tEXPIRES\tSTATE")
		for _, a := range list {
			printf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.User, a.Vendor, oneLine(a.AppName), dash(oneLine(a.DeviceName)),
				dash(strings.Join(a.Permissions, ",")), a.DecidedAt.Format(time.RFC3339), timeOrDash(a.TokenExpiresAt), svc.State(a))
		}
		return tw.Flush()
	})
}

func appAuthShow(fs *flag.FlagSet) runFunc {
	return withAppAuth(fs, func(ctx context.Context, inv *invocation, _ openDB, svc *appauth.Service) error {
		n, err := authorizationID(inv)
		if err != nil {
			return err
		}
		a, err := svc.Get(ctx, n, "")
		if err != nil {
			return appAuthErr(err)
		}
		tw := tabwriter.NewWriter(inv.stdout, 0, 4, 2, ' ', 0)
		for _, row := range [][2]string{{"id", strconv.FormatInt(a.ID, 10)}, {"user", a.User}, {"vendor", a.Vendor},
			{"parent token", strconv.FormatInt(a.ParentTokenID, 10)}, {"app", oneLine(a.AppName)}, {"device", dash(oneLine(a.DeviceName))},
			{"machine code", dash(a.MachineCode)}, {"permissions", dash(strings.Join(a.Permissions, ","))},
			{"locks", fmt.Sprintf("product %d, key %d, feature %d", a.ProductLock, a.KeyLock, a.FeatureLock)},
			{"lifetime", a.Lifetime.String()}, {"decided", string(a.State) + " " + a.DecidedAt.Format(time.RFC3339)},
			{"child token", idOrDash(a.ChildTokenID)}, {"issued", timeOrDash(a.IssuedAt)}, {"expires", timeOrDash(a.TokenExpiresAt)},
			{"revoked", timeOrDash(a.RevokedAt)}, {"state", svc.State(a)}} {
			printf(tw, "%s:\t%s\n", row[0], row[1])
		}
		return tw.Flush()
	})
}

func appAuthRevoke(fs *flag.FlagSet) runFunc {
	return withAppAuth(fs, func(ctx context.Context, inv *invocation, db openDB, svc *appauth.Service) error {
		n, err := authorizationID(inv)
		if err != nil {
			return err
		}
		a, err := svc.Revoke(ctx, n, "")
		if err != nil {
			return appAuthErr(err)
		}
		if err := auditCLI(ctx, db, "admin.appauth.revoke", a.User, fmt.Sprintf("authorization=%d api_token=%d app=%q", a.ID, a.ChildTokenID, a.AppName)); err != nil {
			return err
		}
		printf(inv.stdout, "revoked authorization %d (%s for %s); its token stops working at once\n", a.ID, oneLine(a.AppName), a.User)
		return nil
	})
}

func appAuthDevices(fs *flag.FlagSet) runFunc {
	user := fs.String("user", "", "only this user's")
	return withAppAuth(fs, func(ctx context.Context, inv *invocation, _ openDB, svc *appauth.Service) error {
		devs, err := svc.Devices(ctx, *user)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(inv.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CUSTOMER\tVENDOR\tUSER\tMACHINE CODE\tDEVICE\tREGISTERED")
		for _, d := range devs {
			printf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", d.CustomerID, d.Vendor, d.User, d.MachineCode, dash(oneLine(d.DeviceName)),
				d.RegisteredAt.Format(time.RFC3339))
		}
		return tw.Flush()
	})
}

func appAuthRemoveDevice(fs *flag.FlagSet) runFunc {
	customer := fs.Int64("customer", 0, "the customer id the device is registered with")
	return withAppAuth(fs, func(ctx context.Context, inv *invocation, db openDB, svc *appauth.Service) error {
		if err := inv.require("customer", *customer > 0); err != nil {
			return err
		}
		machine := inv.args[0]
		n, err := svc.RemoveDevice(ctx, *customer, machine, "")
		if err != nil {
			return appAuthErr(err)
		}
		if err := auditCLI(ctx, db, "admin.appauth.device.remove", "", fmt.Sprintf("customer=%d machine=%q authorizations_revoked=%d", *customer, machine, n)); err != nil {
			return err
		}
		printf(inv.stdout, "removed device %s from customer %d; %d authorization(s) revoked\n", machine, *customer, n)
		return nil
	})
}

func appAuthErr(err error) error {
	if errors.Is(err, appauth.ErrNotFound) {
		return errors.New(strings.TrimPrefix(err.Error(), "appauth: "))
	}
	return err
}
