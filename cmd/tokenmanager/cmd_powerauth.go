package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/storage"
)

var powerAuthCommand = &command{
	name:  "powerauth",
	short: "manage PowerAuth activations and MAC tokens",
	long: `Tokens themselves are created by the device: POST /pa/v3/token/create (see docs/powerauth.md).

examples:
  tokenmanager powerauth activation create alice --name "Pixel 9"
  tokenmanager powerauth app add mobile-banking
  tokenmanager powerauth activation init --app mobile-banking --user alice
  tokenmanager powerauth token list --user alice
  tokenmanager powerauth activation block 3f1b8f0e-8c1d-4a57-9a4e-2b7d0c9e1f20`,
	subs: []*command{
		{name: "activation", short: "devices registered for users: create, init, list, block, unblock, remove", subs: []*command{
			{name: "create", args: "USER [--name NAME]", nargs: 1, setup: powerAuthActivationCreate,
				short: "register a device for USER; prints its id"},
			{name: "init", args: "--app ID --user USER [--otp OTP]", setup: powerAuthActivationInit,
				short: "start an activation for the mobile SDK; prints the activation code"},
			{name: "list", args: "[--user USER]", setup: powerAuthActivationList, short: "list activations"},
			{name: "block", args: "ID", nargs: 1, setup: powerAuthActivationChange, short: "suspend an activation; its tokens are deleted"},
			{name: "unblock", args: "ID", nargs: 1, setup: powerAuthActivationChange, short: "make a blocked activation active again"},
			{name: "remove", args: "ID", nargs: 1, setup: powerAuthActivationChange, short: "end an activation for good, with its tokens"},
		}},
		// The mobile SDK's protocol: applications and activations by code (cmd_powerauth_protocol.go).
		{name: "app", short: "applications of Wultra's mobile SDK: add, list, show", subs: []*command{
			{name: "add", args: "ID", nargs: 1, setup: powerAuthAppAdd,
				short: "create an application; prints its application key, secret and master public key"},
			{name: "list", setup: powerAuthAppList, short: "list applications (never their secrets)"},
			{name: "show", args: "ID", nargs: 1, setup: powerAuthAppShow, short: "print an application's SDK configuration again"},
		}},
		{name: "token", short: "MAC tokens: list, remove", subs: []*command{
			{name: "list", args: "[--activation ID] [--user USER]", setup: powerAuthTokenList,
				short: "list MAC tokens (never their secrets)"},
			{name: "remove", args: "TOKEN_ID", nargs: 1, setup: powerAuthTokenRemove, short: "delete a MAC token"},
		}},
	},
}

// withPowerAuth is withStore for the PowerAuth service. It has no sealer: the CLI neither creates nor verifies
// tokens, so it needs no server key.
func withPowerAuth(fs *flag.FlagSet, run func(ctx context.Context, inv *invocation, pa *powerauth.Service) error) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		return run(ctx, inv, powerauth.NewService(db, nil, powerauth.Config{}, nil))
	})
}

func powerAuthActivationCreate(fs *flag.FlagSet) runFunc {
	name := fs.String("name", "", "device name")
	return withPowerAuth(fs, func(ctx context.Context, inv *invocation, pa *powerauth.Service) error {
		a, err := pa.CreateActivation(ctx, inv.args[0], *name)
		if errors.Is(err, powerauth.ErrNoUser) {
			return fmt.Errorf("no user %q", inv.args[0])
		}
		if err != nil {
			return err
		}
		printf(inv.stdout, "%s\n", a.ID)
		return nil
	})
}

func powerAuthActivationList(fs *flag.FlagSet) runFunc {
	user := fs.String("user", "", "only this user's")
	return withPowerAuth(fs, func(ctx context.Context, inv *invocation, pa *powerauth.Service) error {
		list, err := pa.ListActivations(ctx, *user)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(inv.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tSTATUS\tCREATED\tNAME")
		for _, a := range list {
			printf(tw, "%s\t%s\t%s\t%s\t%s\n", a.ID, a.User, a.Status, a.CreatedAt.Format(time.RFC3339), a.Name)
		}
		return tw.Flush()
	})
}

// powerAuthActivationChange runs block, unblock and remove.
func powerAuthActivationChange(fs *flag.FlagSet) runFunc {
	return withPowerAuth(fs, func(ctx context.Context, inv *invocation, pa *powerauth.Service) error {
		ops := map[string]struct {
			do   func(context.Context, string) (storage.PowerAuthActivation, error)
			done string
		}{
			"block":   {pa.BlockActivation, "blocked"},
			"unblock": {pa.UnblockActivation, "unblocked"},
			"remove": {func(ctx context.Context, id string) (storage.PowerAuthActivation, error) {
				return pa.RemoveActivation(ctx, "", id) // as the operator: any activation, active or blocked
			}, "removed"},
		}
		op := ops[strings.TrimPrefix(inv.path, "powerauth activation ")]
		a, err := op.do(ctx, inv.args[0])
		if errors.Is(err, powerauth.ErrNoActivation) {
			return fmt.Errorf("no activation %q", inv.args[0])
		}
		if err != nil {
			return err
		}
		printf(inv.stdout, "activation %s %s\n", a.ID, op.done)
		return nil
	})
}

func powerAuthTokenList(fs *flag.FlagSet) runFunc {
	activation := fs.String("activation", "", "only this activation's tokens")
	user := fs.String("user", "", "only this user's")
	return withPowerAuth(fs, func(ctx context.Context, inv *invocation, pa *powerauth.Service) error {
		return listPowerAuthTokens(ctx, pa, inv.stdout, *activation, *user)
	})
}

func powerAuthTokenRemove(fs *flag.FlagSet) runFunc {
	return withPowerAuth(fs, func(ctx context.Context, inv *invocation, pa *powerauth.Service) error {
		if _, err := pa.RemoveToken(ctx, "", inv.args[0], ""); errors.Is(err, powerauth.ErrNoToken) {
			return fmt.Errorf("no token %q", inv.args[0])
		} else if err != nil {
			return err
		}
		printf(inv.stdout, "token %s removed\n", inv.args[0])
		return nil
	})
}

func listPowerAuthTokens(ctx context.Context, pa *powerauth.Service, stdout io.Writer, activation, user string) error {
	activations, err := pa.ListActivations(ctx, user)
	if err != nil {
		return err
	}
	owner := map[string]string{}
	for _, a := range activations {
		owner[a.ID] = a.User
	}
	tokens, err := pa.ListTokens(ctx, activation)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOKEN\tACTIVATION\tUSER\tCREATED")
	for _, t := range tokens {
		u, ok := owner[t.ActivationID]
		if !ok { // another user's, when --user is given
			continue
		}
		printf(tw, "%s\t%s\t%s\t%s\n", t.ID, t.ActivationID, u, t.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}
