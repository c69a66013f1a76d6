package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/powerauth"
)

// withPowerAuthKeys is withPowerAuth with the server key: applications and activation codes seal secrets.
func withPowerAuthKeys(fs *flag.FlagSet, run func(ctx context.Context, inv *invocation, pa *powerauth.Service, db openDB) error) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		set, err := db.flags.checkedServerKeys(ctx, db.Store, inv.stderr)
		if err != nil {
			return err
		}
		sealer := set.SealerWith(func(master []byte) []byte { return keys.Derive(powerauth.SecretKey(master), keys.PurposeSeal) })
		return run(ctx, inv, powerauth.NewService(db, sealer, powerauth.Config{}, nil), db)
	})
}

func printApp(inv *invocation, a powerauth.App) {
	printf(inv.stdout, "application:        %s\n", a.ID)
	printf(inv.stdout, "application key:    %s\n", a.Key)
	printf(inv.stdout, "application secret: %s\n", a.Secret)
	printf(inv.stdout, "master public key:  %s\n", base64.StdEncoding.EncodeToString(a.MasterPublic))
}

func powerAuthAppAdd(fs *flag.FlagSet) runFunc {
	return withPowerAuthKeys(fs, func(ctx context.Context, inv *invocation, pa *powerauth.Service, db openDB) error {
		a, err := pa.CreateApp(ctx, inv.args[0])
		if err != nil {
			return err
		}
		printApp(inv, a)
		return auditCLI(ctx, db, "powerauth.app.create", "", "app="+a.ID)
	})
}

func powerAuthAppShow(fs *flag.FlagSet) runFunc {
	return withPowerAuthKeys(fs, func(ctx context.Context, inv *invocation, pa *powerauth.Service, db openDB) error {
		a, err := pa.App(ctx, inv.args[0])
		if errors.Is(err, powerauth.ErrNoApp) {
			return fmt.Errorf("no application %q", inv.args[0])
		}
		if err != nil {
			return err
		}
		printApp(inv, a)
		return nil
	})
}

func powerAuthAppList(fs *flag.FlagSet) runFunc {
	return withPowerAuth(fs, func(ctx context.Context, inv *invocation, pa *powerauth.Service) error {
		apps, err := pa.ListApps(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(inv.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tAPPLICATION KEY\tCREATED")
		for _, a := range apps {
			printf(tw, "%s\t%s\t%s\n", a.ID, a.Key, a.CreatedAt.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	})
}

func powerAuthActivationInit(fs *flag.FlagSet) runFunc {
	app := fs.String("app", "", "the application (powerauth app add)")
	user := fs.String("user", "", "the user the device will belong to")
	otp := fs.String("otp", "", "an OTP the device must send with the code (optional)")
	return withPowerAuthKeys(fs, func(ctx context.Context, inv *invocation, pa *powerauth.Service, db openDB) error {
		if err := errors.Join(inv.require("app", *app != ""), inv.require("user", *user != "")); err != nil {
			return err
		}
		p, err := pa.InitActivation(ctx, *app, *user, *otp)
		switch {
		case errors.Is(err, powerauth.ErrNoApp):
			return fmt.Errorf("no application %q", *app)
		case errors.Is(err, powerauth.ErrNoUser):
			return fmt.Errorf("no user %q", *user)
		case err != nil:
			return err
		}
		if err := auditCLI(ctx, db, "powerauth.activation.init", *user, "activation="+p.ID+" app="+*app); err != nil {
			return err
		}
		printf(inv.stdout, "activation code:      %s\n", p.Code)
		printf(inv.stdout, "activation signature: %s\n", p.Signature)
		printf(inv.stdout, "activation id:        %s\n", p.ID)
		printf(inv.stdout, "expires:              %s\n", p.ExpiresAt.UTC().Format(time.RFC3339))
		return nil
	})
}
