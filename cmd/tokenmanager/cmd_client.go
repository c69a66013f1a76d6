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

const clientUsage = `usage:
  tokenmanager client add [ID] [flags]            create an API client (OAuth 2.0 client credentials); prints its
                                                  id and both subscription keys, which are shown only this once
  tokenmanager client list                        list clients
  tokenmanager client show ID                     show one client (never its keys: only their hashes are kept)
  tokenmanager client regenerate-key ID primary|secondary
                                                  replace one key and print the new one; tokens obtained with the
                                                  old key stop working, the other key and its tokens are untouched
  tokenmanager client disable ID                  refuse the client's credentials and tokens at once
  tokenmanager client enable ID                   undo disable
  tokenmanager client remove ID                   delete the client and every token issued to it

flags for add:
  --scope S                   a scope the client may request (repeat, or space-separate); requests without a
                              scope get all of them
  --token-lifetime D          lifetime of its access tokens (default 1h, at most 24h)
  --require-subscription-key  demand the Ocp-Apim-Subscription-Key header (SkyKick style) at the token endpoint
                              and with every use of its tokens
  --grant-types LIST          grant types it may use (default client_credentials; "" for a resource server that
                              only introspects)
  --introspect                let it introspect every token (resource servers), not only its own
  --description TEXT          a note for operators
  --import-keys               read existing keys from standard input instead of generating them: the primary on
                              the first line, optionally the secondary on the second (at least 32 characters each)

examples:
  tokenmanager client add --scope Partner --scope Distributor --require-subscription-key
  tokenmanager client add billing-api --grant-types "" --introspect --description "billing resource server"
  echo "$OLD_KEY" | tokenmanager client add 4f3d7c7bd74649b9a798ab8f8e8c6b81 --scope Partner --import-keys
  tokenmanager client regenerate-key 4f3d7c7bd74649b9a798ab8f8e8c6b81 secondary
  tokenmanager client disable 4f3d7c7bd74649b9a798ab8f8e8c6b81 --data-dir /var/lib/tokenmanager

Rotating a key without downtime: regenerate the key the integrator is not using, hand it over, let them switch,
wait one token lifetime, then regenerate the other.`

// listFlag collects a repeatable flag whose values may also be space-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error {
	*l = append(*l, strings.Fields(v)...)
	return nil
}

func clientCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, clientUsage)
		if len(args) == 0 {
			return errors.New("client: no subcommand")
		}
		return flag.ErrHelp
	}
	sub := args[0]
	var sf storeFlags
	fs := flag.NewFlagSet("client "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, clientUsage); fs.PrintDefaults() }
	sf.register(fs)
	var scopes listFlag
	fs.Var(&scopes, "scope", "scope the client may request (add; repeatable)")
	lifetime := fs.Duration("token-lifetime", apiclient.DefaultTokenLifetime, "lifetime of the client's access tokens (add)")
	requireKey := fs.Bool("require-subscription-key", false, "demand the Ocp-Apim-Subscription-Key header (add)")
	grants := fs.String("grant-types", apiclient.GrantClientCredentials, `grant types, space- or comma-separated; "" for none (add)`)
	introspect := fs.Bool("introspect", false, "let the client introspect every token (add)")
	description := fs.String("description", "", "a note for operators (add)")
	importKeys := fs.Bool("import-keys", false, "read the keys from standard input instead of generating them (add)")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	want := map[string]int{"add": -1, "list": 0, "show": 1, "regenerate-key": 2, "disable": 1, "enable": 1, "remove": 1}
	n, known := want[sub]
	if !known {
		fmt.Fprintln(stderr, clientUsage)
		return fmt.Errorf("client: unknown subcommand %q", sub)
	}
	if (n >= 0 && len(pos) != n) || (n < 0 && len(pos) > 1) {
		fmt.Fprintln(stderr, clientUsage)
		return fmt.Errorf("client %s: wrong number of arguments", sub)
	}
	ctx := context.Background()
	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	svc := apiclient.New(store, apiclient.Config{}, nil)

	switch sub {
	case "add":
		spec := apiclient.Spec{Scopes: scopes, TokenLifetime: *lifetime, RequireSubscriptionKey: *requireKey,
			Introspect: *introspect, Description: *description,
			GrantTypes: strings.FieldsFunc(*grants, func(r rune) bool { return r == ',' || r == ' ' })}
		if len(pos) == 1 {
			spec.ID = pos[0]
		}
		if *importKeys {
			if spec.PrimaryKey, spec.SecondaryKey, err = readKeys(stdin); err != nil {
				return err
			}
		}
		c, err := svc.Create(ctx, spec)
		if err != nil {
			return err
		}
		printf(stdout, "client_id: %s\nprimary_key: %s\nsecondary_key: %s\n", c.Client.ID, c.PrimaryKey, c.SecondaryKey)
		fmt.Fprintln(stderr, "tokenmanager: the keys are shown only now; only their hashes are stored")
	case "list":
		clients, err := svc.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLIENT_ID\tSTATE\tSCOPES\tLIFETIME\tSUBSCRIPTION_KEY\tGRANTS\tCREATED")
		for _, c := range clients {
			printf(tw, "%s\t%s\t%s\t%v\t%s\t%s\t%s\n", c.ID, state(c), dash(strings.Join(c.Scopes, " ")), c.TokenLifetime,
				yesNo(c.RequireSubscriptionKey, "required", "-"), dash(strings.Join(c.GrantTypes, " ")), c.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	case "show":
		c, err := svc.Get(ctx, pos[0])
		if err != nil {
			return err
		}
		showClient(stdout, c)
	case "regenerate-key":
		key, err := svc.RegenerateKey(ctx, pos[0], apiclient.Slot(pos[1]))
		if err != nil {
			return err
		}
		printf(stdout, "%s_key: %s\n", pos[1], key)
		printf(stderr, "tokenmanager: the new %s key of %s is shown only now; tokens obtained with the old one no longer work\n", pos[1], pos[0])
	case "disable", "enable":
		if err := svc.SetDisabled(ctx, pos[0], sub == "disable"); err != nil {
			return err
		}
		printf(stdout, "client %s %sd\n", pos[0], sub)
	case "remove":
		if err := svc.Remove(ctx, pos[0]); err != nil {
			return err
		}
		printf(stdout, "client %s removed\n", pos[0])
	}
	return nil
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

func showClient(w io.Writer, c storage.APIClient) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	rows := [][2]string{
		{"client_id", c.ID},
		{"description", c.Description},
		{"state", state(c)},
		{"scopes", strings.Join(c.Scopes, " ")},
		{"grant_types", strings.Join(c.GrantTypes, " ")},
		{"introspect", yesNo(c.Introspect, "any token", "own tokens")},
		{"token_lifetime", c.TokenLifetime.String()},
		{"subscription_key_header", yesNo(c.RequireSubscriptionKey, "required", "not required")},
		{"primary_key_set", c.PrimaryKeySetAt.Format(time.RFC3339)},
		{"secondary_key_set", c.SecondaryKeySetAt.Format(time.RFC3339)},
		{"created", c.CreatedAt.Format(time.RFC3339)},
		{"updated", c.UpdatedAt.Format(time.RFC3339)},
	}
	for _, r := range rows {
		printf(tw, "%s:\t%s\n", r[0], r[1])
	}
	tw.Flush()
}

func state(c storage.APIClient) string { return yesNo(c.Disabled, "disabled", "enabled") }

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}
