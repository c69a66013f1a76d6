package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

const tokenUsage = `usage:
  tokenmanager token list [--user U] [--kind session|expiring|open] [--client HOST] [--older-than D] [--live] [--limit N]
  tokenmanager token show ID
  tokenmanager token revoke ID            revoke one token (it stops working at once)
  tokenmanager token revoke-user USER     revoke every token of USER (PowerAuth MAC tokens too) and end all of
                                          USER's sessions
  tokenmanager session list [--user U] [--client HOST] [--live] [--limit N]
  tokenmanager session end ID             end a session and every token bound to it

IDs are the server-side record ids the listings show (never the tokens themselves, which are not stored).
The same operations are served to administrators over HTTP under /admin/v1 (see README).

examples:
  tokenmanager token list --user alice --live
  tokenmanager token list --kind open --older-than 720h
  tokenmanager token revoke-user alice`

func tokenCommand(kind string, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, tokenUsage)
		return fmt.Errorf("%s: no subcommand", kind)
	}
	sub := args[0]
	var sf storeFlags
	fs := flag.NewFlagSet(kind+" "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, tokenUsage); fs.PrintDefaults() }
	sf.register(fs)
	user := fs.String("user", "", "only this user's")
	tokenKind := fs.String("kind", "", "only tokens of this kind: session, expiring or open")
	client := fs.String("client", "", "only those obtained from this client host")
	olderThan := fs.Duration("older-than", 0, "only tokens created longer ago than this")
	live := fs.Bool("live", false, "only live ones (not revoked, expired, ended or idle)")
	limit := fs.Int("limit", 1000, "at most this many")
	idle := fs.Duration("idle-timeout", 30*time.Minute, "the server's --idle-timeout, to tell idle sessions with --live")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	want := map[string]int{"list": 0, "show": 1, "revoke": 1, "revoke-user": 1, "end": 1}
	n, known := want[sub]
	if !known || (kind == "session" && sub != "list" && sub != "end") || (kind == "token" && sub == "end") {
		fmt.Fprintln(stderr, tokenUsage)
		return fmt.Errorf("%s: unknown subcommand %q", kind, sub)
	}
	if len(pos) != n {
		fmt.Fprintln(stderr, tokenUsage)
		return fmt.Errorf("%s %s: expected %d argument(s)", kind, sub, n)
	}
	ctx := context.Background()
	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	now := time.Now()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	defer tw.Flush()

	switch kind + " " + sub {
	case "token list":
		f := storage.TokenFilter{User: *user, Kind: storage.TokenKind(*tokenKind), ClientHost: *client, Limit: *limit}
		if *olderThan > 0 {
			f.CreatedBefore = now.Add(-*olderThan)
		}
		if *live {
			f.LiveAt = now
		}
		list, err := store.ListTokens(ctx, f)
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "ID\tUSER\tKIND\tCLIENT\tCREATED\tEXPIRES\tSTATE")
		for _, t := range list {
			printf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.User, t.Kind, dash(t.ClientHost),
				t.CreatedAt.Format(time.RFC3339), timeOrDash(t.ExpiresAt), tokenState(t, now))
		}
	case "token show":
		t, err := store.GetToken(ctx, pos[0])
		if err != nil {
			return notFound("token", pos[0], err)
		}
		for _, row := range [][2]string{{"id", t.ID}, {"user", t.User}, {"kind", string(t.Kind)}, {"session", dash(t.SessionID)},
			{"client", dash(t.ClientHost)}, {"created", t.CreatedAt.Format(time.RFC3339)}, {"expires", timeOrDash(t.ExpiresAt)},
			{"last used", t.LastUsedAt.Format(time.RFC3339)}, {"revoked", timeOrDash(t.RevokedAt)}, {"state", tokenState(t, now)}} {
			printf(tw, "%s\t%s\n", row[0], row[1])
		}
	case "token revoke":
		t, err := store.GetToken(ctx, pos[0])
		if err == nil {
			err = store.RevokeToken(ctx, t.ID, now)
		}
		if err != nil {
			return notFound("token", pos[0], err)
		}
		if err := auditCLI(ctx, store, "admin.token.revoke", t.User, "kind="+string(t.Kind)+" id="+t.ID); err != nil {
			return err
		}
		printf(tw, "revoked token %s of %s\n", t.ID, t.User)
	case "token revoke-user":
		if _, err := store.GetUser(ctx, pos[0]); err != nil {
			return userErr(pos[0], err)
		}
		n, err := store.RevokeUserTokens(ctx, pos[0], now)
		if err != nil {
			return err
		}
		pa, err := store.DeletePowerAuthUserTokens(ctx, pos[0])
		if err != nil {
			return err
		}
		if err := auditCLI(ctx, store, "admin.user.revoke", pos[0], fmt.Sprintf("tokens=%d powerauth_tokens=%d", n, pa)); err != nil {
			return err
		}
		printf(tw, "revoked %d token(s) of %s, ended their sessions and removed %d PowerAuth token(s)\n", n, pos[0], pa)
	case "session list":
		f := storage.SessionFilter{User: *user, ClientHost: *client, Limit: *limit}
		if *live {
			f.SeenSince = now.Add(-*idle)
		}
		list, err := store.ListSessions(ctx, f)
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "ID\tUSER\tCLIENT\tCREATED\tLAST SEEN\tENDED")
		for _, s := range list {
			printf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.User, dash(s.ClientHost), s.CreatedAt.Format(time.RFC3339),
				s.LastSeenAt.Format(time.RFC3339), timeOrDash(s.EndedAt))
		}
	case "session end":
		if err := store.EndSession(ctx, pos[0], now); err != nil {
			return notFound("session", pos[0], err)
		}
		if err := auditCLI(ctx, store, "admin.session.end", "", "session="+pos[0]); err != nil {
			return err
		}
		printf(tw, "ended session %s and its tokens\n", pos[0])
	}
	return nil
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
