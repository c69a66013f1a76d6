package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

var sessionCommand = &command{
	name:  "session",
	short: "list sessions, end one",
	long: `IDs are the server-side record ids the listing shows. The same operations are served to administrators over
HTTP under /admin/v1 (see docs/operations.md, "Administration").

examples:
  tokenmanager session list --user alice --live
  tokenmanager session end ID`,
	subs: []*command{
		{name: "list", args: "[--user U] [--client HOST] [--live] [--limit N]", setup: sessionList, short: "list sessions"},
		{name: "end", args: "ID", nargs: 1, setup: sessionEnd, short: "end a session and every token bound to it"},
	},
}

func sessionList(fs *flag.FlagSet) runFunc {
	user := fs.String("user", "", "only this user's")
	client := fs.String("client", "", "only those from this client host")
	live := fs.Bool("live", false, "only live ones (not ended or idle)")
	limit := fs.Int("limit", 1000, "at most this many")
	idle := fs.Duration("idle-timeout", 30*time.Minute, "the server's --idle-timeout, to tell idle sessions with --live")
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		f := storage.SessionFilter{User: *user, ClientHost: *client, Limit: *limit}
		if *live {
			f.SeenSince = time.Now().Add(-*idle)
		}
		list, err := db.ListSessions(ctx, f)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(inv.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tCLIENT\tCREATED\tLAST SEEN\tENDED")
		for _, s := range list {
			printf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.User, dash(s.ClientHost), s.CreatedAt.Format(time.RFC3339),
				s.LastSeenAt.Format(time.RFC3339), timeOrDash(s.EndedAt))
		}
		return tw.Flush()
	})
}

func sessionEnd(fs *flag.FlagSet) runFunc {
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		id := inv.args[0]
		if err := db.EndSession(ctx, id, time.Now()); err != nil {
			return notFound("session", id, err)
		}
		if err := auditCLI(ctx, db, "admin.session.end", "", "session="+id); err != nil {
			return err
		}
		printf(inv.stdout, "ended session %s and its tokens\n", id)
		return nil
	})
}
