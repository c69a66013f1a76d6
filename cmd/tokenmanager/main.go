// Command tokenmanager is a token service compatible with Precisely Spectrum's TokenManagerService.
//
//	tokenmanager serve                         run the service (127.0.0.1:8080, SQLite in ./data)
//	tokenmanager user add NAME --password-stdin
//	tokenmanager user passwd NAME --password-stdin
//	tokenmanager user disable|enable NAME
//	tokenmanager user list
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
		fmt.Fprintln(os.Stderr, "tokenmanager:", err)
		os.Exit(1)
	}
}

const usage = `usage: tokenmanager <command> [flags]

commands:
  serve     run the token service
  user      manage users: add, passwd, disable, enable, list
  vendor, product, customer, key, activation, apitoken
            licensing: vendors, products and their signing keys, customers, license keys, activated
            machines, API tokens for the Cryptolens-compatible API (/api/)

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
	case "vendor", "product", "customer", "key", "activation", "apitoken":
		return licenseCommand(args[0], args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
