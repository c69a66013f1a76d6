package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

var auditCommand = &command{
	name: "audit", args: "[--since D|TIME] [--until TIME] [--user NAME] [--action A] [--limit N] [--json]", setup: auditList,
	short: "list audit events: --since, --user, --action",
	long: `Lists audit events, newest first: token issued, refused and logged out; failed and throttled sign-ins;
administrative changes made with this CLI. No event holds a token, password or secret. Events older than
serve's --audit-retention (90 days) are deleted.

examples:
  tokenmanager audit --since 24h --user alice
  tokenmanager audit --action login.fail --since 2026-11-23T00:00:00Z
  tokenmanager audit --action token. --limit 20 --json`,
}

func auditList(fs *flag.FlagSet) runFunc {
	since := fs.String("since", "", "events at or after this: a duration back from now (24h) or an RFC 3339 time")
	until := fs.String("until", "", "events before this RFC 3339 time")
	user := fs.String("user", "", "events by or about this user")
	action := fs.String("action", "", `this action, or a prefix ending in "." (token.)`)
	limit := fs.Int("limit", 100, "at most this many events")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	return withStore(fs, func(ctx context.Context, inv *invocation, db openDB) error {
		f := storage.AuditFilter{Subject: *user, Action: *action, Limit: *limit}
		var err error
		if f.Since, err = parseSince(*since); err != nil {
			return fmt.Errorf("--since: %w", err)
		}
		if *until != "" {
			if f.Until, err = time.Parse(time.RFC3339, *until); err != nil {
				return fmt.Errorf("--until: %w", err)
			}
		}
		events, err := db.ListAudit(ctx, f)
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(inv.stdout)
			for _, e := range events {
				if err := enc.Encode(e); err != nil {
					return err
				}
			}
			return nil
		}
		tw := tabwriter.NewWriter(inv.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tACTION\tOUTCOME\tACTOR\tSUBJECT\tCLIENT\tDETAIL")
		for _, e := range events {
			printf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.At.Format(time.RFC3339), e.Action, e.Outcome,
				dash(e.Actor), dash(e.Subject), dash(e.ClientHost), e.Detail)
		}
		return tw.Flush()
	})
}

func parseSince(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		return time.Now().Add(-d), nil
	}
	return time.Parse(time.RFC3339, v)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cliActor names whoever runs the CLI in audit events.
func cliActor() string {
	for _, v := range []string{"SUDO_USER", "USER", "LOGNAME"} {
		if u := os.Getenv(v); u != "" {
			return "cli:" + u
		}
	}
	return "cli"
}

// auditCLI records an administrative change made with the CLI, at once (the CLI has no recorder to flush).
func auditCLI(ctx context.Context, store storage.Audit, action, subject, detail string) error {
	return store.AppendAudit(ctx, []storage.AuditEvent{{At: time.Now(), Action: action, Outcome: "ok",
		Actor: cliActor(), Subject: subject, Detail: detail}})
}

// cliAuditor records the licensing changes made with the CLI at once, naming whoever runs it.
type cliAuditor struct {
	store  storage.Audit
	stderr io.Writer
}

func (a cliAuditor) Record(e storage.AuditEvent) {
	if e.Actor == "" {
		e.Actor = cliActor()
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.store.AppendAudit(ctx, []storage.AuditEvent{e}); err != nil {
		printf(a.stderr, "audit: %s not recorded: %v\n", e.Action, err)
	}
}
