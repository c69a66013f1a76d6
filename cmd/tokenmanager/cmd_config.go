package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
)

const configUsage = `usage:
  tokenmanager config print [--config FILE] [serve flags]

Prints the configuration 'tokenmanager serve' would run with, given the same flags, TOKENMANAGER_* variables
and config file, with where each value came from. Secrets are masked: the user information and the password
and sslpassword parameters of --db (a URL or a key/value connection string), and the
TOKENMANAGER_KEY and TOKENMANAGER_ADMIN_PASSWORD variables, shown only as set or not.

The output is itself a valid config file:
  tokenmanager config print --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem > /etc/tokenmanager.conf
  tokenmanager serve --config /etc/tokenmanager.conf`

// secretEnv are settings that exist only as environment variables, because they are secrets.
var secretEnv = []string{envPrefix + "KEY", envPrefix + "ADMIN_PASSWORD"}

func configCommand(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "print" {
		fmt.Fprintln(stderr, configUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return flag.ErrHelp
		}
		return errors.New("config: want 'config print'")
	}
	var f serveFlags
	fs := serveFlagSet(&f, stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, configUsage); fs.PrintDefaults() }
	pos, sources, err := parseWithSources(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("config print: unexpected argument %q", pos[0])
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 1, ' ', 0)
	fmt.Fprintln(tw, "# effective configuration of tokenmanager serve")
	fs.VisitAll(func(fl *flag.Flag) {
		if fl.Name == "config" {
			return
		}
		v := fl.Value.String()
		if fl.Name == "db" {
			v = maskDSN(v)
		}
		printf(tw, "%s\t= %s\t# %s\n", fl.Name, strconv.Quote(v), sources[fl.Name])
	})
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, env := range secretEnv {
		state := "not set"
		if _, ok := os.LookupEnv(env); ok {
			state = "set (masked)"
		}
		printf(stdout, "# %s: %s\n", env, state)
	}
	return nil
}
