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

const userUsage = `usage:
  tokenmanager user add NAME --password-stdin     create a user (password read from standard input;
                                                  add --wsse-digest to allow WS-Security PasswordDigest)
  tokenmanager user passwd NAME --password-stdin  set a user's password and end the user's sessions
  tokenmanager user disable NAME                  refuse the user's credentials and tokens at once, and
                                                  end the user's sessions
  tokenmanager user enable NAME                   undo disable
  tokenmanager user promote NAME                  make NAME an administrator (admin API, /admin/v1)
  tokenmanager user demote NAME                   take that away
  tokenmanager user list                          list users

Names: 1 to 64 printable characters, no ':' and no space at either end; matched exactly, and a name differing
only by case from an existing one is refused. Passwords: at least 8 characters.

examples:
  echo "$PW" | tokenmanager user add alice --password-stdin
  tokenmanager user disable alice --data-dir /var/lib/tokenmanager`

func userCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, userUsage)
		return errors.New("user: no subcommand")
	}
	sub := args[0]
	var sf storeFlags
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, userUsage); fs.PrintDefaults() }
	sf.register(fs)
	passwordStdin := fs.Bool("password-stdin", false, "read the password from standard input (add, passwd)")
	admin := fs.Bool("admin", false, "add: make the user an administrator")
	wsseDigest := fs.Bool("wsse-digest", false, "also keep the password sealed with the server key, so the user may "+
		"authenticate with WS-Security PasswordDigest, which needs it (add, passwd); without it the sealed copy is removed")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	wantArgs := 1
	if sub == "list" {
		wantArgs = 0
	}
	if len(pos) != wantArgs {
		fmt.Fprintln(stderr, userUsage)
		return fmt.Errorf("user %s: expected %d argument(s), got %d", sub, wantArgs, len(pos))
	}
	ctx := context.Background()
	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	now := time.Now()

	// digestSecret seals the password for WS-Security PasswordDigest when asked to, else returns nil.
	digestSecret := func(name, pw string) ([]byte, error) {
		if !*wsseDigest {
			return nil, nil
		}
		master, err := sf.checkedServerKey(ctx, store, stderr)
		if err != nil {
			return nil, err
		}
		return auth.SealPassword(keys.NewSealer(master), name, pw), nil
	}

	readPassword := func() (string, error) {
		if !*passwordStdin {
			return "", errors.New("give the password on standard input with --password-stdin")
		}
		line, err := bufio.NewReader(io.LimitReader(stdin, auth.MaxPasswordLen+2)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", errors.New("empty password")
		}
		return pw, auth.CheckPassword(pw)
	}

	switch sub {
	case "add":
		if err := auth.CheckUserName(pos[0]); err != nil {
			return err
		}
		pw, err := readPassword()
		if err != nil {
			return err
		}
		hash, err := auth.HashPassword(pw, auth.DefaultParams)
		if err != nil {
			return err
		}
		sealed, err := digestSecret(pos[0], pw)
		if err != nil {
			return err
		}
		err = auth.CreateUser(ctx, store, storage.User{Name: pos[0], PasswordHash: hash, DigestSecret: sealed, Admin: *admin, CreatedAt: now, UpdatedAt: now})
		if errors.Is(err, storage.ErrConflict) {
			if _, gerr := store.GetUser(ctx, pos[0]); gerr == nil {
				return fmt.Errorf("user %q already exists", pos[0])
			}
		}
		if err != nil {
			return err
		}
		if err := auditCLI(ctx, store, "user.add", pos[0], fmt.Sprintf("admin=%v", *admin)); err != nil {
			return err
		}
		printf(stdout, "created user %s\n", pos[0])
	case "passwd":
		pw, err := readPassword()
		if err != nil {
			return err
		}
		hash, err := auth.HashPassword(pw, auth.DefaultParams)
		if err != nil {
			return err
		}
		sealed, err := digestSecret(pos[0], pw)
		if err != nil {
			return err
		}
		err = store.UpdateUser(ctx, pos[0], func(u *storage.User) error {
			u.PasswordHash, u.DigestSecret, u.UpdatedAt = hash, sealed, now
			return nil
		})
		if err != nil {
			return userErr(pos[0], err)
		}
		ended, err := store.EndUserSessions(ctx, pos[0], now)
		if err != nil {
			return fmt.Errorf("password changed, but ending the old sessions failed: %w", err)
		}
		if err := auditCLI(ctx, store, "user.passwd", pos[0], fmt.Sprintf("sessions_ended=%d", ended)); err != nil {
			return err
		}
		printf(stdout, "password of %s changed; %d session(s) ended\n", pos[0], ended)
		if pos[0] == "admin" {
			// The generated first password is no longer good: do not leave it lying around.
			if err := os.Remove(filepath.Join(sf.dataDir, adminPasswordFile)); err == nil {
				printf(stdout, "removed %s\n", filepath.Join(sf.dataDir, adminPasswordFile))
			}
		}
	case "disable", "enable":
		err := store.UpdateUser(ctx, pos[0], func(u *storage.User) error {
			u.Disabled, u.UpdatedAt = sub == "disable", now
			return nil
		})
		if err != nil {
			return userErr(pos[0], err)
		}
		if sub == "enable" {
			if err := auditCLI(ctx, store, "user.enable", pos[0], ""); err != nil {
				return err
			}
			printf(stdout, "user %s enabled\n", pos[0])
			break
		}
		// The store revoked every token and ended every session of the user in the same transaction.
		if err := auditCLI(ctx, store, "user.disable", pos[0], ""); err != nil {
			return err
		}
		printf(stdout, "user %s disabled; every token and session of theirs has ended for good\n", pos[0])
	case "promote", "demote":
		err := store.UpdateUser(ctx, pos[0], func(u *storage.User) error {
			u.Admin, u.UpdatedAt = sub == "promote", now
			return nil
		})
		if err != nil {
			return userErr(pos[0], err)
		}
		if err := auditCLI(ctx, store, "user."+sub, pos[0], ""); err != nil {
			return err
		}
		printf(stdout, "user %s %sd\n", pos[0], sub)
	case "list":
		users, err := store.ListUsers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSTATE\tADMIN\tCREATED")
		for _, u := range users {
			state := "enabled"
			if u.Disabled {
				state = "disabled"
			}
			printf(tw, "%s\t%s\t%v\t%s\n", u.Name, state, u.Admin, u.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	default:
		fmt.Fprintln(stderr, userUsage)
		return fmt.Errorf("user: unknown subcommand %q", sub)
	}
	return nil
}

func userErr(name string, err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("no user %q", name)
	}
	return err
}
