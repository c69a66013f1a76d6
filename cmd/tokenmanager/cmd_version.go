package main

import (
	"context"
	"flag"
	"runtime"
	"runtime/debug"
)

var versionCommand = &command{
	name:  "version",
	short: "print the version: the module's, the commit it was built from, and Go's",
	setup: func(fs *flag.FlagSet) runFunc {
		return func(ctx context.Context, inv *invocation) error {
			_, err := printf(inv.stdout, "%s\n", versionLine())
			return err
		}
	},
}

// versionLine is "tokenmanager VERSION (revision REV, TIME, modified) GOVERSION OS/ARCH", with what the build
// recorded: a build outside a Git checkout has no revision, one of a checkout with changes is "modified".
func versionLine() string {
	version, revision, at, modified := "(devel)", "", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	line := "tokenmanager " + version
	if revision != "" {
		line += " (revision " + revision
		if at != "" {
			line += ", " + at
		}
		if modified {
			line += ", modified"
		}
		line += ")"
	}
	return line + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}
