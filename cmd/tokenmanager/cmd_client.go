package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/storage"
)

var clientCommand = &command{
	name:  "client",
	short: "manage API clients (OAuth 2.0 client credentials, SkyKick keys): add, list, show, regenerate-key, ...",
	long: `examples:
  tokenmanager client add --scope Partner --scope Distributor --require-subscription-key
  tokenmanager client add billing-api --grant-types "" --introspect --description "billing resource server"
  echo "$OLD_KEY" | tokenmanager client add 4f3d7c7bd74649b9a798ab8f8e8c6b81 --scope Partner --import-keys
  tokenmanager client regenerate-key 4f3d7c7bd74649b9a798ab8f8e8c6b81 secondary
  tokenmanager client add reports-api --scope Reports --token-format jwt --token-lifetime 10m
  tokenmanager client token-format 4f3d7c7bd74649b9a798ab8f8e8c6b81 jwt
  tokenmanager client disable 4f3d7c7bd74649b9a798ab8f8e8c6b81 --data-dir /var/lib/tokenmanager

Rotating a key without downtime: regenerate the key the integrator is not using, hand it over, let them switch,
wait one token lifetime, then regenerate the other.`,
	subs: []*command{
		{name: "add", args: "[ID] [flags]", maxArgs: 1, setup: clientAdd,
			short: "create an API client; prints its id and both subscription keys, which are shown only this once"},
		{name: "list", setup: clientList, short: "list clients"},
		{name: "show", args: "ID", nargs: 1, setup: clientShow, short: "show one client (never its keys: only their hashes are kept)"},
		{name: "regenerate-key", args: "ID primary|secondary", nargs: 2, setup: clientRegenerateKey,
			short: "replace one key and print the new one; tokens obtained with the old key stop working, the other key and its tokens are untouched"},
		{name: "edit", args: "ID [--scope S]... [--description TEXT] [--token-lifetime D] [--require-subscription-key=BOOL] [--introspect=BOOL]",
			nargs: 1, setup: clientEdit,
			short: "change a client's settings; --scope gives the whole set (--scope \"\" for none); issued tokens keep theirs"},
		{name: "disable", args: "ID", nargs: 1, setup: clientSetDisabled, short: "refuse the client's credentials and tokens at once"},
		{name: "enable", args: "ID", nargs: 1, setup: clientSetDisabled, short: "undo disable"},
		{name: "remove", args: "ID", nargs: 1, setup: clientRemove, short: "delete the client and every token issued to it"},
		{name: "token-format", args: "ID jwt|opaque|default", nargs: 2, setup: clientTokenFormat,
			short: "set the format of the client's future access tokens (default: serve's --oauth-token-format); issued tokens keep theirs"},
	},
}

// listFlag collects a repeatable flag whose values may also be space-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error {
	*l = append(*l, strings.Fields(v)...)
	return nil
}

// withClients is withStore for the API client service.
func withClients(fs *flag.FlagSet, run func(ctx context.Context, inv *invocation, svc *apiclient.Service) error) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		return run(ctx, inv, apiclient.New(db, apiclient.Config{}, nil))
	})
}

func clientAdd(fs *flag.FlagSet) runFunc {
	var scopes listFlag
	fs.Var(&scopes, "scope", "a scope the client may request (repeat, or space-separate); requests without a scope get all of them")
	lifetime := fs.Duration("token-lifetime", apiclient.DefaultTokenLifetime, "lifetime of its access tokens (at most 24h)")
	requireKey := fs.Bool("require-subscription-key", false, "demand the Ocp-Apim-Subscription-Key header (SkyKick style) "+
		"at the token endpoint and with every use of its tokens")
	grants := fs.String("grant-types", apiclient.GrantClientCredentials, `grant types it may use, space- or comma-separated; `+
		`"" for a resource server that only introspects`)
	introspect := fs.Bool("introspect", false, "let it introspect every token (resource servers), not only its own")
	description := fs.String("description", "", "a note for operators")
	format := fs.String("token-format", "", "jwt (RFC 9068, verifiable offline) or opaque; default: serve's --oauth-token-format")
	importKeys := fs.Bool("import-keys", false, "read existing keys from standard input instead of generating them: the primary "+
		"on the first line, optionally the secondary on the second (at least 32 characters each)")
	return withClients(fs, func(ctx context.Context, inv *invocation, svc *apiclient.Service) error {
		spec := apiclient.Spec{Scopes: scopes, TokenLifetime: *lifetime, RequireSubscriptionKey: *requireKey,
			Introspect: *introspect, Description: *description, TokenFormat: *format,
			GrantTypes: strings.FieldsFunc(*grants, func(r rune) bool { return r == ',' || r == ' ' })}
		if len(inv.args) == 1 {
			spec.ID = inv.args[0]
		}
		if *importKeys {
			var err error
			if spec.PrimaryKey, spec.SecondaryKey, err = readKeys(inv.stdin); err != nil {
				return err
			}
		}
		c, err := svc.Create(ctx, spec)
		if err != nil {
			return err
		}
		printf(inv.stdout, "client_id: %s\nprimary_key: %s\nsecondary_key: %s\n", c.Client.ID, c.PrimaryKey, c.SecondaryKey)
		fmt.Fprintln(inv.stderr, "tokenmanager: the keys are shown only now; only their hashes are stored")
		return nil
	})
}

func clientList(fs *flag.FlagSet) runFunc {
	return withClients(fs, func(ctx context.Context, inv *invocation, svc *apiclient.Service) error {
		clients, err := svc.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(inv.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLIENT_ID\tSTATE\tSCOPES\tLIFETIME\tSUBSCRIPTION_KEY\tGRANTS\tCREATED")
		for _, c := range clients {
			printf(tw, "%s\t%s\t%s\t%v\t%s\t%s\t%s\n", c.ID, state(c), dash(strings.Join(c.Scopes, " ")), c.TokenLifetime,
				yesNo(c.RequireSubscriptionKey, "required", "-"), dash(strings.Join(c.GrantTypes, " ")), c.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	})
}

func clientShow(fs *flag.FlagSet) runFunc {
	return withClients(fs, func(ctx context.Context, inv *invocation, svc *apiclient.Service) error {
		c, err := svc.Get(ctx, inv.args[0])
		if err != nil {
			return err
		}
		return showClient(inv.stdout, c)
	})
}

func clientRegenerateKey(fs *flag.FlagSet) runFunc {
	return withClients(fs, func(ctx context.Context, inv *invocation, svc *apiclient.Service) error {
		id, slot := inv.args[0], inv.args[1]
		key, err := svc.RegenerateKey(ctx, id, apiclient.Slot(slot))
		if err != nil {
			return err
		}
		printf(inv.stdout, "%s_key: %s\n", slot, key)
		printf(inv.stderr, "tokenmanager: the new %s key of %s is shown only now; tokens obtained with the old one no longer work\n", slot, id)
		return nil
	})
}

func clientEdit(fs *flag.FlagSet) runFunc {
	var scopes listFlag
	fs.Var(&scopes, "scope", "the scopes it may request: the whole set (repeat, or space-separate)")
	description := fs.String("description", "", "a note for operators")
	lifetime := fs.Duration("token-lifetime", apiclient.DefaultTokenLifetime, "lifetime of its access tokens (at most 24h)")
	requireKey := fs.Bool("require-subscription-key", false, "demand the Ocp-Apim-Subscription-Key header")
	introspect := fs.Bool("introspect", false, "let it introspect every token")
	return withClients(fs, func(ctx context.Context, inv *invocation, svc *apiclient.Service) error {
		var ch apiclient.Change
		if inv.given("scope") {
			list := []string(scopes)
			ch.Scopes = &list
		}
		if inv.given("description") {
			ch.Description = description
		}
		if inv.given("token-lifetime") {
			ch.TokenLifetime = lifetime
		}
		if inv.given("require-subscription-key") {
			ch.RequireSubscriptionKey = requireKey
		}
		if inv.given("introspect") {
			ch.Introspect = introspect
		}
		c, err := svc.Update(ctx, inv.args[0], ch)
		if err != nil {
			return err
		}
		return showClient(inv.stdout, c)
	})
}

// clientSetDisabled runs disable and enable.
func clientSetDisabled(fs *flag.FlagSet) runFunc {
	return withClients(fs, func(ctx context.Context, inv *invocation, svc *apiclient.Service) error {
		verb := strings.TrimPrefix(inv.path, "client ")
		if err := svc.SetDisabled(ctx, inv.args[0], verb == "disable"); err != nil {
			return err
		}
		printf(inv.stdout, "client %s %sd\n", inv.args[0], verb)
		return nil
	})
}

func clientRemove(fs *flag.FlagSet) runFunc {
	return withClients(fs, func(ctx context.Context, inv *invocation, svc *apiclient.Service) error {
		if err := svc.Remove(ctx, inv.args[0]); err != nil {
			return err
		}
		printf(inv.stdout, "client %s removed\n", inv.args[0])
		return nil
	})
}

// readKeys reads one or two keys, a line each, from r (bounded).
func readKeys(r io.Reader) (primary, secondary string, err error) {
	sc := bufio.NewScanner(io.LimitReader(r, 2*(apiclient.MaxKeyLen+2)))
	sc.Buffer(make([]byte, 0, 1024), apiclient.MaxKeyLen+2)
	var keys []string
	for sc.Scan() && len(keys) < 2 {
		if k := strings.TrimRight(sc.Text(), "\r"); k != "" {
			keys = append(keys, k)
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", fmt.Errorf("reading keys from standard input: %w", err)
	}
	switch len(keys) {
	case 0:
		return "", "", errors.New("--import-keys: no key on standard input")
	case 1:
		return keys[0], "", nil
	}
	return keys[0], keys[1], nil
}

func showClient(w io.Writer, c storage.APIClient) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	rows := [][2]string{
		{"client_id", c.ID},
		{"description", c.Description},
		{"state", state(c)},
		{"scopes", strings.Join(c.Scopes, " ")},
		{"grant_types", strings.Join(c.GrantTypes, " ")},
		{"introspect", yesNo(c.Introspect, "any token", "own tokens")},
		{"token_lifetime", c.TokenLifetime.String()},
		{"token_format", formatName(c.TokenFormat)},
		{"subscription_key_header", yesNo(c.RequireSubscriptionKey, "required", "not required")},
		{"primary_key_set", c.PrimaryKeySetAt.Format(time.RFC3339)},
		{"secondary_key_set", c.SecondaryKeySetAt.Format(time.RFC3339)},
		{"created", c.CreatedAt.Format(time.RFC3339)},
		{"updated", c.UpdatedAt.Format(time.RFC3339)},
	}
	for _, r := range rows {
		printf(tw, "%s:\t%s\n", r[0], r[1])
	}
	return tw.Flush()
}

func state(c storage.APIClient) string { return yesNo(c.Disabled, "disabled", "enabled") }

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func clientTokenFormat(fs *flag.FlagSet) runFunc {
	return withClients(fs, func(ctx context.Context, inv *invocation, svc *apiclient.Service) error {
		id, format := inv.args[0], inv.args[1]
		if format == "default" {
			format = ""
		}
		if err := svc.SetTokenFormat(ctx, id, format); err != nil {
			return err
		}
		printf(inv.stdout, "client %s: token format %s\n", id, formatName(format))
		return nil
	})
}

// formatName names a client's token format, "" being the server's default.
func formatName(f string) string {
	if f == "" {
		return "default"
	}
	return f
}
