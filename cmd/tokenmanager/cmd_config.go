package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
)

var configCommand = &command{
	name:  "config",
	short: "print the effective configuration (config print), secrets masked",
	subs: []*command{{
		name: "print", args: "[--config FILE] [serve flags]", setup: configPrint,
		short: "print the configuration 'tokenmanager serve' would run with, and where each value came from",
		long: `Takes the same flags, TOKENMANAGER_* variables and config file as serve. Secrets are masked: the user
information and the password and sslpassword parameters of --db (a URL or a key/value connection string), and
the TOKENMANAGER_KEY and TOKENMANAGER_ADMIN_PASSWORD variables, shown only as set or not.

The output is itself a valid config file:
  tokenmanager config print --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem > /etc/tokenmanager.conf
  tokenmanager serve --config /etc/tokenmanager.conf`,
	}},
}

// secretEnv are settings that exist only as environment variables, because they are secrets.
var secretEnv = []string{envPrefix + "KEY", envPrefix + "ADMIN_PASSWORD"}

func configPrint(fs *flag.FlagSet) runFunc {
	new(serveFlags).register(fs)
	return func(ctx context.Context, inv *invocation) error {
		tw := tabwriter.NewWriter(inv.stdout, 0, 4, 1, ' ', 0)
		fmt.Fprintln(tw, "# effective configuration of tokenmanager serve")
		fs.VisitAll(func(fl *flag.Flag) {
			if fl.Name == "config" {
				return
			}
			v := fl.Value.String()
			if fl.Name == "db" {
				v = maskDSN(v)
			}
			printf(tw, "%s\t= %s\t# %s\n", fl.Name, strconv.Quote(v), inv.sources[fl.Name])
		})
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, env := range secretEnv {
			state := "not set"
			if _, ok := os.LookupEnv(env); ok {
				state = "set (masked)"
			}
			printf(inv.stdout, "# %s: %s\n", env, state)
		}
		return nil
	}
}
