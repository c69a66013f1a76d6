package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/storage"
)

const powerAuthUsage = `usage:
  tokenmanager powerauth activation create USER [--name NAME]   register a device for USER; prints its id
  tokenmanager powerauth activation list [--user USER]          list activations
  tokenmanager powerauth activation block ID                    suspend an activation; its tokens are deleted
  tokenmanager powerauth activation unblock ID                  make a blocked activation active again
  tokenmanager powerauth activation remove ID                   end an activation for good, with its tokens
  tokenmanager powerauth token list [--activation ID] [--user USER]
                                                                list MAC tokens (never their secrets)
  tokenmanager powerauth token remove TOKEN_ID                  delete a MAC token

Tokens themselves are created by the device: POST /pa/v3/token/create (see README).

examples:
  tokenmanager powerauth activation create alice --name "Pixel 9"
  tokenmanager powerauth token list --user alice
  tokenmanager powerauth activation block 3f1b8f0e-8c1d-4a57-9a4e-2b7d0c9e1f20`

// powerAuthFlags are serve's PowerAuth settings: the accepted token timestamp window.
type powerAuthFlags struct {
	maxAge, maxFuture, maxFutureV32 time.Duration
}

func (f *powerAuthFlags) register(fs *flag.FlagSet) {
	d := powerauth.DefaultConfig
	fs.DurationVar(&f.maxAge, "powerauth-max-age", d.MaxAge,
		"oldest X-PowerAuth-Token timestamp accepted; every used nonce is remembered this long (PowerAuth: token.timestamp.validity)")
	fs.DurationVar(&f.maxFuture, "powerauth-max-future", d.MaxFuture,
		"how far ahead of our clock a token timestamp may be (PowerAuth: token.timestamp.forward.validity)")
	fs.DurationVar(&f.maxFutureV32, "powerauth-max-future-v32", d.MaxFutureV32,
		"the same for versions 3.2 and 3.3, whose clients synchronize their clock (PowerAuth: requestExpiration)")
}

// service builds the PowerAuth service over store, sealing secrets with a subkey of master.
func (f *powerAuthFlags) service(store storage.Store, master []byte) (*powerauth.Service, error) {
	if f.maxAge <= 0 || f.maxFuture <= 0 || f.maxFutureV32 <= 0 {
		return nil, errors.New("--powerauth-max-age, --powerauth-max-future and --powerauth-max-future-v32 must be positive")
	}
	sealer := keys.NewSealer(keys.Derive(master, keys.PurposePowerAuthTokens))
	cfg := powerauth.Config{MaxAge: f.maxAge, MaxFuture: f.maxFuture, MaxFutureV32: f.maxFutureV32}
	return powerauth.NewService(store, sealer, cfg, nil), nil
}

func powerAuthCommand(args []string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprintln(stderr, powerAuthUsage)
		return errors.New("powerauth: expected 'activation' or 'token' and a subcommand")
	}
	what, sub := args[0], args[1]
	var sf storeFlags
	fs := flag.NewFlagSet("powerauth "+what+" "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, powerAuthUsage); fs.PrintDefaults() }
	sf.register(fs)
	name := fs.String("name", "", "device name (activation create)")
	user := fs.String("user", "", "only this user's (list)")
	activation := fs.String("activation", "", "only this activation's tokens (token list)")
	pos, err := parse(fs, args[2:])
	if err != nil {
		return err
	}
	want := map[string]int{"activation create": 1, "activation list": 0, "activation block": 1, "activation unblock": 1,
		"activation remove": 1, "token list": 0, "token remove": 1}
	n, known := want[what+" "+sub]
	if !known {
		fmt.Fprintln(stderr, powerAuthUsage)
		return fmt.Errorf("powerauth: unknown command %q", what+" "+sub)
	}
	if len(pos) != n {
		fmt.Fprintln(stderr, powerAuthUsage)
		return fmt.Errorf("powerauth %s %s: expected %d argument(s), got %d", what, sub, n, len(pos))
	}
	ctx := context.Background()
	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	// No sealer: the CLI neither creates nor verifies tokens, so it needs no server key.
	pa := powerauth.NewService(store, nil, powerauth.Config{}, nil)

	switch what + " " + sub {
	case "activation create":
		a, err := pa.CreateActivation(ctx, pos[0], *name)
		if errors.Is(err, powerauth.ErrNoUser) {
			return fmt.Errorf("no user %q", pos[0])
		}
		if err != nil {
			return err
		}
		printf(stdout, "%s\n", a.ID)
	case "activation list":
		list, err := pa.ListActivations(ctx, *user)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tSTATUS\tCREATED\tNAME")
		for _, a := range list {
			printf(tw, "%s\t%s\t%s\t%s\t%s\n", a.ID, a.User, a.Status, a.CreatedAt.Format(time.RFC3339), a.Name)
		}
		return tw.Flush()
	case "activation block", "activation unblock", "activation remove":
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
		op := ops[sub]
		a, err := op.do(ctx, pos[0])
		if errors.Is(err, powerauth.ErrNoActivation) {
			return fmt.Errorf("no activation %q", pos[0])
		}
		if err != nil {
			return err
		}
		printf(stdout, "activation %s %s\n", a.ID, op.done)
	case "token list":
		return listPowerAuthTokens(ctx, pa, stdout, *activation, *user)
	case "token remove":
		if _, err := pa.RemoveToken(ctx, "", pos[0], ""); errors.Is(err, powerauth.ErrNoToken) {
			return fmt.Errorf("no token %q", pos[0])
		} else if err != nil {
			return err
		}
		printf(stdout, "token %s removed\n", pos[0])
	}
	return nil
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
