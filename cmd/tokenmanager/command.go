package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// A command is one word of the command line. A group (subs set) only leads to its subcommands; any other
// command declares its own flags and runs. The whole command line is the tree under root (main.go).
type command struct {
	name  string
	args  string // what follows the command's words in its usage line: "NAME --password-stdin"
	short string // one line, in its group's list
	long  string // shown by -h under the usage line, before the flags

	// nargs is the number of positional arguments the command takes; maxArgs, when larger, allows up to that.
	nargs, maxArgs int

	// setup declares the command's flags into fs, a new set for every run, and returns what runs with their
	// values.
	setup func(fs *flag.FlagSet) runFunc

	subs []*command

	// movedTo is where a word that used to mean something else went: running it only says so (and fails). Such
	// a command is not listed.
	movedTo string
}

// runFunc runs a command once its flags are parsed.
type runFunc func(ctx context.Context, inv *invocation) error

// invocation is one run of a command: its words, positional arguments, streams, and where each flag came from.
type invocation struct {
	path    string   // the command's words: "user add"
	args    []string // the positional arguments
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	sources map[string]string // flag name -> fromFlag, fromEnv, fromFile or fromDefault
}

// given reports whether the flag was given at all: on the command line, in the environment or in the config file.
func (inv *invocation) given(name string) bool { return inv.sources[name] != fromDefault }

// usageError is a mistake in the command line: one line, and where to read how to do it right.
func (inv *invocation) usageError(format string, args ...any) error {
	return usageError(inv.path, fmt.Sprintf(format, args...))
}

// require fails unless the flag's value is usable (ok).
func (inv *invocation) require(flagName string, ok bool) error {
	if ok {
		return nil
	}
	return inv.usageError("--%s is required for '%s'", flagName, inv.path)
}

func usageError(path, msg string) error {
	return fmt.Errorf("%s; see '%s -h'", msg, strings.TrimSpace("tokenmanager "+path))
}

// flagError is an error of flag.FlagSet.Parse: a mistake on the command line, not in the environment or a file.
type flagError struct{ err error }

func (e flagError) Error() string { return e.err.Error() }
func (e flagError) Unwrap() error { return e.err }

// execute runs the command at path with args, the words after path.
func (c *command) execute(ctx context.Context, path string, args []string, inv invocation) error {
	if c.movedTo != "" {
		return fmt.Errorf("'%s' is now 'tokenmanager %s' ('%s' means license keys)", path, c.movedTo, strings.Fields(path)[0])
	}
	if c.subs != nil {
		return c.executeGroup(ctx, path, args, inv)
	}
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, help is printed by printUsage
	fs.Usage = func() {}
	run := c.setup(fs)
	pos, sources, err := parseWithSources(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return c.printUsage(inv.stderr, path)
	}
	if fe := (flagError{}); errors.As(err, &fe) {
		msg := fe.err.Error()
		if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
			msg = "unknown flag --" + name
		}
		return usageError(path, fmt.Sprintf("%s for '%s'", msg, path))
	}
	if err != nil {
		return err
	}
	if most := max(c.nargs, c.maxArgs); len(pos) < c.nargs || len(pos) > most {
		want := fmt.Sprint(c.nargs)
		if most > c.nargs {
			want = fmt.Sprintf("%d to %d", c.nargs, most)
		}
		return usageError(path, fmt.Sprintf("'%s' takes %s argument(s), got %d", path, want, len(pos)))
	}
	inv.path, inv.args, inv.sources = path, pos, sources
	return run(ctx, &inv)
}

func (c *command) executeGroup(ctx context.Context, path string, args []string, inv invocation) error {
	if len(args) == 0 && path == "" {
		return usageError(path, "no command given")
	}
	if len(args) == 0 {
		return usageError(path, fmt.Sprintf("'%s' needs a command: %s", path, c.subNames()))
	}
	switch args[0] {
	case "-h", "-help", "--help":
		return c.printUsage(inv.stderr, path)
	case "help":
		// Asked for: the usage goes to standard output, where a pager can read it.
		sub, subPath, err := c.find(path, args[1:])
		if err != nil {
			return err
		}
		return sub.printUsage(inv.stdout, subPath)
	}
	sub := c.sub(args[0])
	if sub == nil {
		return usageError(path, fmt.Sprintf("unknown command '%s'", strings.TrimSpace(path+" "+args[0])))
	}
	return sub.execute(ctx, strings.TrimSpace(path+" "+args[0]), args[1:], inv)
}

// find follows words down from c.
func (c *command) find(path string, words []string) (*command, string, error) {
	for _, w := range words {
		sub := c.sub(w)
		if sub == nil {
			return nil, "", usageError(path, fmt.Sprintf("unknown command '%s'", strings.TrimSpace(path+" "+w)))
		}
		c, path = sub, strings.TrimSpace(path+" "+w)
	}
	return c, path, nil
}

func (c *command) sub(name string) *command {
	for _, s := range c.subs {
		if s.name == name {
			return s
		}
	}
	return nil
}

func (c *command) subNames() string {
	var names []string
	for _, s := range c.subs {
		if s.movedTo == "" {
			names = append(names, s.name)
		}
	}
	return strings.Join(names, ", ")
}

// printUsage writes the command's help: its usage line, its text, and its flags or its commands.
func (c *command) printUsage(w io.Writer, path string) error {
	line := strings.TrimSpace("tokenmanager " + path)
	if c.subs != nil {
		line += " <command>"
	}
	if c.args != "" {
		line += " " + c.args
	}
	text := "usage: " + line + "\n\n" + c.short + "\n"
	if c.long != "" {
		text += "\n" + c.long + "\n"
	}
	if _, err := io.WriteString(w, text); err != nil {
		return err
	}
	if c.subs != nil {
		width := 0
		for _, s := range c.subs {
			width = max(width, len(s.name))
		}
		var b strings.Builder
		b.WriteString("\ncommands:\n")
		for _, s := range c.subs {
			if s.movedTo == "" {
				b.WriteString("  " + s.name + strings.Repeat(" ", width-len(s.name)) + "  " + s.short + "\n")
			}
		}
		b.WriteString("\nRun '" + strings.TrimSpace("tokenmanager "+path) + " <command> -h' for a command's usage and flags.\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	c.setup(fs)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return nil
	}
	if _, err := io.WriteString(w, "\nflags:\n"); err != nil {
		return err
	}
	fs.SetOutput(w)
	fs.PrintDefaults()
	return nil
}
