// Command tokenmanager is a token service compatible with Precisely Spectrum's TokenManagerService.
//
//	tokenmanager serve                         run the service (127.0.0.1:8080, SQLite in ./data)
//	tokenmanager config print                  the configuration serve would run with
//	tokenmanager user add|passwd|disable|enable|promote|demote|list
//	tokenmanager backup FILE | restore FILE | migrate
//	tokenmanager audit --since 24h --user NAME
//	tokenmanager token list|show|revoke|revoke-user, session list|end
//	tokenmanager tokenkey rotate|retire ID|list  token encryption keys
//	tokenmanager serverkey generate FILE|rotate|fingerprint   the server key and its rotation
//	tokenmanager client add|list|show|regenerate-key|disable|enable|remove   API clients (OAuth 2.0, SkyKick keys)
//	tokenmanager powerauth activation|token ...
//	tokenmanager vendor|product|customer|key|activation|apitoken ...   licensing (Cryptolens-compatible API)
//	tokenmanager woo store|sku|key ...          WooCommerce License Keys stores
//	tokenmanager appauth list|show|revoke|devices|remove-device   apps and devices users authorized
//	tokenmanager version
//	tokenmanager init --demo                    demo data on an empty database, and commands to try it
//
// Every command's usage: tokenmanager help COMMAND..., or tokenmanager COMMAND... -h. Every flag also reads
// TOKENMANAGER_<FLAG> from the environment (--data-dir: TOKENMANAGER_DATA_DIR).
package main

import (
	"context"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		printf(os.Stderr, "tokenmanager: %s\n", err)
		os.Exit(1)
	}
}

// root is the command line: every command, in the order the help lists them.
var root = &command{
	short: "tokenmanager runs a token service compatible with Precisely Spectrum's TokenManagerService, and manages it.",
	long: `Every flag also reads TOKENMANAGER_<FLAG> from the environment (--data-dir: TOKENMANAGER_DATA_DIR), and with
--config a file of name = value lines; the command line wins over both, the environment over the file.`,
	subs: []*command{
		serveCommand, configCommand, userCommand, backupCommand, restoreCommand, migrateCommand, migrateDBCommand, auditCommand,
		tokenCommand, sessionCommand, tokenKeyCommand, serverKeyCommand, clientCommand, powerAuthCommand,
		vendorCommand, productCommand, customerCommand, keyCommand, activationCommand, apiTokenCommand,
		wooCommand, appAuthCommand, versionCommand,
		oauthKeyCommand,
		// Resellers and license templates.
		resellerCommand, templateCommand,
		adminTokenCommand, // management API
		initCommand,       // demo data for a first try

	},
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return root.execute(context.Background(), "", args, invocation{stdin: stdin, stdout: stdout, stderr: stderr})
}
