package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tokenmanager/tokenmanager/admin"
	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/storage"
)

var userCommand = &command{
	name:  "user",
	short: "manage users: add, passwd, disable, enable, promote, demote, list, delete",
	long: `Names: 1 to 64 printable characters, no ':' and no space at either end; matched exactly, and a name differing
only by case from an existing one is refused. Passwords: at least 8 characters.

examples:
  echo "$PW" | tokenmanager user add alice --password-stdin
  tokenmanager user disable alice --data-dir /var/lib/tokenmanager`,
	subs: []*command{
		{name: "add", args: "NAME --password-stdin [--admin] [--wsse-digest]", nargs: 1, setup: userAdd,
			short: "create a user, with the password read from standard input"},
		{name: "passwd", args: "NAME --password-stdin [--wsse-digest]", nargs: 1, setup: userPasswd,
			short: "set a user's password and end the user's sessions"},
		{name: "disable", args: "NAME", nargs: 1, setup: userSetState,
			short: "refuse the user's credentials and tokens at once, and end the user's sessions"},
		{name: "enable", args: "NAME", nargs: 1, setup: userSetState, short: "undo disable"},
		{name: "promote", args: "NAME", nargs: 1, setup: userSetAdmin, short: "make NAME an administrator (admin API, /admin/v1)"},
		{name: "demote", args: "NAME", nargs: 1, setup: userSetAdmin, short: "take that away"},
		{name: "list", setup: userList, short: "list users"},
		{name: "delete", args: "NAME --yes", nargs: 1, setup: userDelete,
			short: "remove a user with their tokens, sessions, PowerAuth devices and admin API tokens (not a vendor)"},
	},
}

// passwordFlags read a new password for add and passwd.
type passwordFlags struct {
	stdin, wsseDigest bool
}

func (f *passwordFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.stdin, "password-stdin", false, "read the password from standard input")
	fs.BoolVar(&f.wsseDigest, "wsse-digest", false, "also keep the password sealed with the server key, so the user may "+
		"authenticate with WS-Security PasswordDigest, which needs it; without it the sealed copy is removed")
}

// read reads the password from standard input and returns it and, with --wsse-digest, its sealed copy; the core
// (package admin) checks and hashes it.
func (f *passwordFlags) read(ctx context.Context, inv *invocation, db openDB, name string) (pw string, sealed []byte, err error) {
	if !f.stdin {
		return "", nil, errors.New("give the password on standard input with --password-stdin")
	}
	line, err := bufio.NewReader(io.LimitReader(inv.stdin, auth.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", nil, err
	}
	pw = strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", nil, errors.New("empty password")
	}
	if err := auth.CheckPassword(pw); err != nil {
		return "", nil, err
	}
	if f.wsseDigest {
		master, err := db.serverKey(ctx, inv)
		if err != nil {
			return "", nil, err
		}
		sealed = auth.SealPassword(keys.NewSealer(master), name, pw)
	}
	return pw, sealed, nil
}

func userAdd(fs *flag.FlagSet) runFunc {
	var pf passwordFlags
	pf.register(fs)
	isAdmin := fs.Bool("admin", false, "make the user an administrator")
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		name := inv.args[0]
		if err := auth.CheckUserName(name); err != nil {
			return err
		}
		pw, sealed, err := pf.read(ctx, inv, db, name)
		if err != nil {
			return err
		}
		if _, err := adminService(db).CreateUser(ctx, cliAdmin(), admin.UserSpec{Name: name, Password: pw, DigestSecret: sealed, Admin: *isAdmin}); err != nil {
			return cliAdminErr(err)
		}
		printf(inv.stdout, "created user %s\n", name)
		return nil
	})
}

func userPasswd(fs *flag.FlagSet) runFunc {
	var pf passwordFlags
	pf.register(fs)
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		name := inv.args[0]
		pw, sealed, err := pf.read(ctx, inv, db, name)
		if err != nil {
			return err
		}
		ended, err := adminService(db).SetPassword(ctx, cliAdmin(), name, pw, sealed)
		if err != nil {
			return userErr(name, err)
		}
		printf(inv.stdout, "password of %s changed; %d session(s) ended\n", name, ended)
		if name == "admin" {
			// The generated first password is no longer good: do not leave it lying around.
			file := filepath.Join(db.flags.dataDir, adminPasswordFile)
			if err := os.Remove(file); err == nil {
				printf(inv.stdout, "removed %s\n", file)
			}
		}
		return nil
	})
}

// userSetState runs disable and enable.
func userSetState(fs *flag.FlagSet) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		name, disable := inv.args[0], inv.path == "user disable"
		if _, err := adminService(db).UpdateUser(ctx, cliAdmin(), name, admin.UserChange{Disabled: &disable}, nil); err != nil {
			return userErr(name, err)
		}
		if !disable {
			printf(inv.stdout, "user %s enabled\n", name)
			return nil
		}
		// The store revoked every token and ended every session of the user in the same transaction.
		printf(inv.stdout, "user %s disabled; every token and session of theirs has ended for good\n", name)
		return nil
	})
}

// userSetAdmin runs promote and demote.
func userSetAdmin(fs *flag.FlagSet) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		name, verb := inv.args[0], strings.TrimPrefix(inv.path, "user ")
		promote := verb == "promote"
		if _, err := adminService(db).UpdateUser(ctx, cliAdmin(), name, admin.UserChange{Admin: &promote}, nil); err != nil {
			return userErr(name, err)
		}
		printf(inv.stdout, "user %s %sd\n", name, verb)
		return nil
	})
}

// userDelete removes a user with everything that is theirs alone.
func userDelete(fs *flag.FlagSet) runFunc {
	yes := fs.Bool("yes", false, "yes, remove the user with their tokens, sessions, PowerAuth devices and admin API tokens")
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		name := inv.args[0]
		if !*yes {
			return errors.New("deleting a user removes their tokens, sessions, PowerAuth devices and admin API tokens for good; give --yes")
		}
		if err := adminService(db).DeleteUser(ctx, cliAdmin(), name); err != nil {
			return userErr(name, err)
		}
		printf(inv.stdout, "user %s deleted\n", name)
		return nil
	})
}

func userList(fs *flag.FlagSet) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		users, err := db.ListUsers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(inv.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSTATE\tADMIN\tCREATED")
		for _, u := range users {
			state := "enabled"
			if u.Disabled {
				state = "disabled"
			}
			printf(tw, "%s\t%s\t%v\t%s\n", u.Name, state, u.Admin, u.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	})
}

func userErr(name string, err error) error {
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, admin.ErrNotFound):
		return fmt.Errorf("no user %q", name)
	case errors.Is(err, admin.ErrInUse):
		return fmt.Errorf("user %q is a vendor, a licensing customer's account or holds app authorizations: remove those first", name)
	}
	return cliAdminErr(err)
}
