package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/admin"
	"github.com/tokenmanager/tokenmanager/storage"
)

var adminTokenCommand = &command{
	name:  "admintoken",
	short: "personal tokens for the management API (/admin/v1): create, list, revoke",
	long: `A token acts as its user (an administrator, or a vendor for its own objects), narrowed to its scope: --read-only
allows GET only, --vendor only that vendor's objects. It is shown once; only its SHA-256 is stored. Send it as
"Authorization: Bearer tmat_…".

examples:
  tokenmanager admintoken create admin --name ci --ttl 720h
  tokenmanager admintoken create alice --read-only --vendor alice
  tokenmanager admintoken list --user alice
  tokenmanager admintoken revoke 1f0c9a8b7e6d5c4b`,
	subs: []*command{
		{name: "create", args: "USER [--name TEXT] [--read-only] [--vendor VENDOR] [--ttl DURATION]", nargs: 1, setup: adminTokenCreate,
			short: "issue a token for USER and print it (once)"},
		{name: "list", args: "[--user USER]", setup: adminTokenList, short: "list tokens, newest first (never the secrets)"},
		{name: "revoke", args: "ID", nargs: 1, setup: adminTokenRevoke, short: "refuse the token from now on"},
	},
}

// adminService is the core of users, admin API tokens and token keys, auditing each change at once.
func adminService(db openDB) *admin.Service {
	return admin.New(db, func(ctx context.Context, e storage.AuditEvent) error {
		return db.AppendAudit(ctx, []storage.AuditEvent{e})
	}, nil)
}

// cliAdmin is the command line's operator, as the audit log names them.
func cliAdmin() admin.Actor { return admin.Actor{Name: cliActor()} }

// cliAdminErr turns the core's errors into messages: their text already says what is wrong.
func cliAdminErr(err error) error {
	for _, e := range []error{admin.ErrInvalid, admin.ErrConflict, admin.ErrInUse, admin.ErrNotFound} {
		if errors.Is(err, e) {
			return errors.New(strings.TrimPrefix(err.Error(), e.Error()+": "))
		}
	}
	return err
}

func adminTokenCreate(fs *flag.FlagSet) runFunc {
	name := fs.String("name", "", "what the token is for")
	readOnly := fs.Bool("read-only", false, "allow reading only (GET)")
	vendor := fs.String("vendor", "", "allow only this vendor's objects")
	ttl := fs.Duration("ttl", admin.DefaultTokenLifetime, "how long the token lives (at most 8784h)")
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		user := inv.args[0]
		u, err := db.GetUser(ctx, user)
		if err != nil {
			return userErr(user, err)
		}
		if *vendor != "" {
			if _, err := db.GetVendor(ctx, *vendor); err != nil {
				return notFound("vendor", *vendor, err)
			}
			if !u.Admin && *vendor != user {
				return fmt.Errorf("%s is not an administrator and may reach only its own vendor", user)
			}
		}
		tok, t, err := adminService(db).CreateToken(ctx, cliAdmin(), user, admin.TokenSpec{Name: *name, ReadOnly: *readOnly, Vendor: *vendor, Lifetime: *ttl})
		if err != nil {
			return cliAdminErr(err)
		}
		printf(inv.stderr, "admin API token %s for %s, expires %s; it is shown only now:\n", t.ID, user, t.ExpiresAt.Format(time.RFC3339))
		printf(inv.stdout, "%s\n", tok)
		return nil
	})
}

func adminTokenList(fs *flag.FlagSet) runFunc {
	user := fs.String("user", "", "only this user's tokens")
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		list, err := adminService(db).ListTokens(ctx, *user, 0)
		if err != nil {
			return err
		}
		now := time.Now()
		return table(inv.stdout, "ID\tUSER\tNAME\tSCOPE\tVENDOR\tSTATE\tEXPIRES\tLAST USED", func(w io.Writer) {
			for _, t := range list {
				scope, state := "read-write", "live"
				if t.ReadOnly {
					scope = "read-only"
				}
				if !t.RevokedAt.IsZero() {
					state = "revoked"
				} else if !t.Live(now) {
					state = "expired"
				}
				vendor := t.Vendor
				if vendor == "" {
					vendor = "-"
				}
				printf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.User, t.Name, scope, vendor, state,
					timeOrDash(t.ExpiresAt), timeOrDash(t.LastUsedAt))
			}
		})
	})
}

func adminTokenRevoke(fs *flag.FlagSet) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		id := inv.args[0]
		if err := adminService(db).RevokeToken(ctx, cliAdmin(), "", id); err != nil {
			if errors.Is(err, admin.ErrNotFound) {
				return fmt.Errorf("no admin API token %q", id)
			}
			return err
		}
		printf(inv.stdout, "admin API token %s revoked\n", id)
		return nil
	})
}
