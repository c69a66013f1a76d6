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

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/storage"
)

var userCommand = &command{
	name:  "user",
	short: "manage users: add, passwd, disable, enable, promote, demote, list",
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

// read reads the password from standard input and returns its hash and, with --wsse-digest, its sealed copy.
func (f *passwordFlags) read(ctx context.Context, inv *invocation, db openDB, name string) (hash string, sealed []byte, err error) {
	if !f.stdin {
		return "", nil, errors.New("give the password on standard input with --password-stdin")
	}
	line, err := bufio.NewReader(io.LimitReader(inv.stdin, auth.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", nil, err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", nil, errors.New("empty password")
	}
	if err := auth.CheckPassword(pw); err != nil {
		return "", nil, err
	}
	if hash, err = auth.HashPassword(pw, auth.DefaultParams); err != nil {
		return "", nil, err
	}
	if f.wsseDigest {
		master, err := db.serverKey(ctx, inv)
		if err != nil {
			return "", nil, err
		}
		sealed = auth.SealPassword(keys.NewSealer(master), name, pw)
	}
	return hash, sealed, nil
}

func userAdd(fs *flag.FlagSet) runFunc {
	var pf passwordFlags
	pf.register(fs)
	admin := fs.Bool("admin", false, "make the user an administrator")
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		name := inv.args[0]
		if err := auth.CheckUserName(name); err != nil {
			return err
		}
		hash, sealed, err := pf.read(ctx, inv, db, name)
		if err != nil {
			return err
		}
		now := time.Now()
		err = auth.CreateUser(ctx, db, storage.User{Name: name, PasswordHash: hash, DigestSecret: sealed, Admin: *admin, CreatedAt: now, UpdatedAt: now})
		if errors.Is(err, storage.ErrConflict) {
			if _, gerr := db.GetUser(ctx, name); gerr == nil {
				return fmt.Errorf("user %q already exists", name)
			}
		}
		if err != nil {
			return err
		}
		if err := auditCLI(ctx, db, "user.add", name, fmt.Sprintf("admin=%v", *admin)); err != nil {
			return err
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
		hash, sealed, err := pf.read(ctx, inv, db, name)
		if err != nil {
			return err
		}
		now := time.Now()
		err = db.UpdateUser(ctx, name, func(u *storage.User) error {
			u.PasswordHash, u.DigestSecret, u.UpdatedAt = hash, sealed, now
			return nil
		})
		if err != nil {
			return userErr(name, err)
		}
		ended, err := db.EndUserSessions(ctx, name, now)
		if err != nil {
			return fmt.Errorf("password changed, but ending the old sessions failed: %w", err)
		}
		if err := auditCLI(ctx, db, "user.passwd", name, fmt.Sprintf("sessions_ended=%d", ended)); err != nil {
			return err
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
		err := db.UpdateUser(ctx, name, func(u *storage.User) error {
			u.Disabled, u.UpdatedAt = disable, time.Now()
			return nil
		})
		if err != nil {
			return userErr(name, err)
		}
		if !disable {
			if err := auditCLI(ctx, db, "user.enable", name, ""); err != nil {
				return err
			}
			printf(inv.stdout, "user %s enabled\n", name)
			return nil
		}
		// The store revoked every token and ended every session of the user in the same transaction.
		if err := auditCLI(ctx, db, "user.disable", name, ""); err != nil {
			return err
		}
		printf(inv.stdout, "user %s disabled; every token and session of theirs has ended for good\n", name)
		return nil
	})
}

// userSetAdmin runs promote and demote.
func userSetAdmin(fs *flag.FlagSet) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		name, verb := inv.args[0], strings.TrimPrefix(inv.path, "user ")
		err := db.UpdateUser(ctx, name, func(u *storage.User) error {
			u.Admin, u.UpdatedAt = verb == "promote", time.Now()
			return nil
		})
		if err != nil {
			return userErr(name, err)
		}
		if err := auditCLI(ctx, db, "user."+verb, name, ""); err != nil {
			return err
		}
		printf(inv.stdout, "user %s %sd\n", name, verb)
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
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("no user %q", name)
	}
	return err
}
