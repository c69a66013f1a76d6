// Command tokenmanager is a token service compatible with Precisely Spectrum's TokenManagerService.
//
//	tokenmanager serve                         run the service (127.0.0.1:8080, SQLite in ./data)
//	tokenmanager user add NAME --password-stdin
//	tokenmanager user passwd NAME --password-stdin
//	tokenmanager user disable|enable NAME
//	tokenmanager user list
//	tokenmanager backup FILE | restore FILE
//	tokenmanager migrate
//	tokenmanager config print
//	tokenmanager audit --since 24h --user NAME
//	tokenmanager token list|show|revoke|revoke-user, session list|end
//	tokenmanager key rotate|retire ID|ring
//	tokenmanager client add|list|show|regenerate-key|disable|enable|remove   API clients (OAuth 2.0, SkyKick keys)
//	tokenmanager powerauth activation create|list|block|unblock|remove ...
//	tokenmanager powerauth token list|remove ...
//	tokenmanager woo store|sku|key ...          WooCommerce License Keys stores (see 'tokenmanager woo')
//	tokenmanager appauth list|show|revoke|devices|remove-device   apps and devices users authorized
//
// Every flag also reads TOKENMANAGER_<FLAG> from the environment (--data-dir: TOKENMANAGER_DATA_DIR).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		printf(os.Stderr, "tokenmanager: %s\n", err)
		os.Exit(1)
	}
}

const usage = `usage: tokenmanager <command> [flags]

commands:
  serve     run the token service
  user      manage users: add, passwd, disable, enable, list
  backup    write a consistent copy of the database to a file, while the service runs
  restore   replace the database with a backup
  migrate   bring the database's schema up to date (serve does it at start too)
  config    print the effective configuration (config print), secrets masked
  audit     list audit events: --since, --user, --action
  token     list, show and revoke any user's tokens (revoke-user: all of a user's)
  session   list sessions, end one
  key rotate|retire|ring
            token encryption keys: rotate without downtime, retire, show the ring
  client    manage API clients: add, list, show, regenerate-key, disable, enable, remove
  powerauth manage PowerAuth activations and MAC tokens
  vendor, product, customer, key, activation, apitoken
            licensing: vendors, products and their signing keys, customers, license keys, activated
            machines, API tokens for the Cryptolens-compatible API (/api/)
  woo       WooCommerce License Keys stores and SKUs: store add/list/set, sku set/list/remove, key
  appauth   apps and devices users authorized (consent page, GetToken flow): list, show, revoke,
            devices, remove-device

Run 'tokenmanager <command> -h' for a command's flags.`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "user":
		return userCommand(args[1:], stdin, stdout, stderr)
	case "backup", "restore":
		return backupCommand(args[0], args[1:], stdout, stderr)
	case "migrate":
		return migrateCommand(args[1:], stdout, stderr)
	case "config":
		return configCommand(args[1:], stdout, stderr)
	case "audit":
		return auditCommand(args[1:], stdout, stderr)
	case "token", "session":
		return tokenCommand(args[0], args[1:], stdout, stderr)
	case "key":
		// Token encryption keys share the word with license keys: rotate, retire and ring are the former's.
		if len(args) > 1 && isTokenKeyCommand(args[1]) {
			return keyCommand(args[1:], stdout, stderr)
		}
		return licenseCommand(args[0], args[1:], stdout, stderr)
	case "client":
		return clientCommand(args[1:], stdin, stdout, stderr)
	case "powerauth":
		return powerAuthCommand(args[1:], stdout, stderr)
	case "appauth":
		return appAuthCommand(args[1:], stdout, stderr)
	case "vendor", "product", "customer", "activation", "apitoken":
		return licenseCommand(args[0], args[1:], stdout, stderr)
	case "woo":
		return wooCommand(args[1:], stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
