package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

var tokenCommand = &command{
	name:  "token",
	short: "list, show and revoke any user's tokens (revoke-user: all of a user's)",
	long: `IDs are the server-side record ids the listings show (never the tokens themselves, which are not stored).
The same operations are served to administrators over HTTP under /admin/v1 (see docs/operations.md, "Administration").

examples:
  tokenmanager token list --user alice --live
  tokenmanager token list --kind open --older-than 720h
  tokenmanager token revoke-user alice`,
	subs: []*command{
		{name: "list", args: "[--user U] [--kind session|expiring|open] [--client HOST] [--older-than D] [--live] [--limit N]",
			setup: tokenList, short: "list tokens"},
		{name: "show", args: "ID", nargs: 1, setup: tokenShow, short: "show one token"},
		{name: "revoke", args: "ID", nargs: 1, setup: tokenRevoke, short: "revoke one token (it stops working at once)"},
		{name: "revoke-user", args: "USER", nargs: 1, setup: tokenRevokeUser,
			short: "revoke every token of USER (PowerAuth MAC tokens too) and end all of USER's sessions"},
	},
}

func tokenList(fs *flag.FlagSet) runFunc {
	user := fs.String("user", "", "only this user's")
	kind := fs.String("kind", "", "only tokens of this kind: session, expiring or open")
	client := fs.String("client", "", "only those obtained from this client host")
	olderThan := fs.Duration("older-than", 0, "only tokens created longer ago than this")
	live := fs.Bool("live", false, "only live ones (not revoked or expired)")
	limit := fs.Int("limit", 1000, "at most this many")
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		now := time.Now()
		f := storage.TokenFilter{User: *user, Kind: storage.TokenKind(*kind), ClientHost: *client, Limit: *limit}
		if *olderThan > 0 {
			f.CreatedBefore = now.Add(-*olderThan)
		}
		if *live {
			f.LiveAt = now
		}
		list, err := db.ListTokens(ctx, f)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(inv.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tKIND\tCLIENT\tCREATED\tEXPIRES\tSTATE")
		for _, t := range list {
			printf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.User, t.Kind, dash(t.ClientHost),
				t.CreatedAt.Format(time.RFC3339), timeOrDash(t.ExpiresAt), tokenState(t, now))
		}
		return tw.Flush()
	})
}

func tokenShow(fs *flag.FlagSet) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		t, err := db.GetToken(ctx, inv.args[0])
		if err != nil {
			return notFound("token", inv.args[0], err)
		}
		tw := tabwriter.NewWriter(inv.stdout, 0, 4, 2, ' ', 0)
		for _, row := range [][2]string{{"id", t.ID}, {"user", t.User}, {"kind", string(t.Kind)}, {"session", dash(t.SessionID)},
			{"client", dash(t.ClientHost)}, {"created", t.CreatedAt.Format(time.RFC3339)}, {"expires", timeOrDash(t.ExpiresAt)},
			{"last used", t.LastUsedAt.Format(time.RFC3339)}, {"revoked", timeOrDash(t.RevokedAt)}, {"state", tokenState(t, time.Now())}} {
			printf(tw, "%s\t%s\n", row[0], row[1])
		}
		return tw.Flush()
	})
}

func tokenRevoke(fs *flag.FlagSet) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		t, err := db.GetToken(ctx, inv.args[0])
		if err == nil {
			err = db.RevokeToken(ctx, t.ID, time.Now())
		}
		if err != nil {
			return notFound("token", inv.args[0], err)
		}
		if err := auditCLI(ctx, db, "admin.token.revoke", t.User, "kind="+string(t.Kind)+" id="+t.ID); err != nil {
			return err
		}
		printf(inv.stdout, "revoked token %s of %s\n", t.ID, t.User)
		return nil
	})
}

func tokenRevokeUser(fs *flag.FlagSet) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		user := inv.args[0]
		if _, err := db.GetUser(ctx, user); err != nil {
			return userErr(user, err)
		}
		n, err := db.RevokeUserTokens(ctx, user, time.Now())
		if err != nil {
			return err
		}
		pa, err := db.DeletePowerAuthUserTokens(ctx, user)
		if err != nil {
			return err
		}
		if err := auditCLI(ctx, db, "admin.user.revoke", user, fmt.Sprintf("tokens=%d powerauth_tokens=%d", n, pa)); err != nil {
			return err
		}
		printf(inv.stdout, "revoked %d token(s) of %s, ended their sessions and removed %d PowerAuth token(s)\n", n, user, pa)
		return nil
	})
}

func tokenState(t storage.Token, now time.Time) string {
	switch {
	case t.Revoked():
		return "revoked"
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return "expired"
	}
	return "live"
}

func timeOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.RFC3339)
}

func notFound(what, id string, err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("no %s %q", what, id)
	}
	return err
}
