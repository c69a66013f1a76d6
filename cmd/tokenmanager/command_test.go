package main

import (
	"bytes"
	"flag"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// walk calls fn for every command under c that is listed (not a word that moved), with its words.
func walk(c *command, path string, fn func(c *command, path string)) {
	fn(c, path)
	for _, s := range c.subs {
		if s.movedTo == "" {
			walk(s, strings.TrimSpace(path+" "+s.name), fn)
		}
	}
}

func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

var helpFlagLine = regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`)

// TestEveryCommandHelp: -h, --help and 'help X' at every level succeed and print that command's usage alone:
// one usage line, its own, and for a command that runs, exactly its own flags.
func TestEveryCommandHelp(t *testing.T) {
	t.Setenv("TOKENMANAGER_DATA_DIR", t.TempDir())
	n := 0
	walk(root, "", func(c *command, path string) {
		n++
		words := strings.Fields(path)
		for _, args := range [][]string{append(slices.Clone(words), "-h"), append(slices.Clone(words), "--help"), append([]string{"help"}, words...)} {
			stdout, stderr, err := runCLI(t, args...)
			if err != nil {
				t.Errorf("%q: %v", args, err)
				continue
			}
			help := stderr
			if args[0] == "help" {
				help, stderr = stdout, ""
			}
			if stdout != "" && args[0] != "help" || stderr != "" && args[0] == "help" {
				t.Errorf("%q: help on both streams:\nstdout %q\nstderr %q", args, stdout, stderr)
			}
			wantLine := "usage: " + strings.TrimSpace("tokenmanager "+path)
			if !strings.HasPrefix(help, wantLine+" ") && !strings.HasPrefix(help, wantLine+"\n") || strings.Count(help, "usage:") != 1 {
				t.Errorf("%q printed another usage than its own:\n%s", args, help)
			}
			if c.subs != nil {
				for _, s := range c.subs {
					if s.movedTo == "" && !strings.Contains(help, "\n  "+s.name+" ") {
						t.Errorf("%q does not list %s:\n%s", args, s.name, help)
					}
				}
				continue
			}
			fs := flag.NewFlagSet(path, flag.ContinueOnError)
			c.setup(fs)
			var want []string
			fs.VisitAll(func(f *flag.Flag) { want = append(want, f.Name) })
			var got []string
			for _, m := range helpFlagLine.FindAllStringSubmatch(help, -1) {
				got = append(got, m[1])
			}
			if !slices.Equal(got, want) {
				t.Errorf("%q lists the flags %v, want its own %v", args, got, want)
			}
		}
	})
	if n < 60 {
		t.Errorf("walked %d commands: is the tree all there?", n)
	}
}

// TestUnknownFlagNamed: every command that runs refuses a flag it does not have, in one line that names the
// flag and points to the command's -h, and runs nothing.
func TestUnknownFlagNamed(t *testing.T) {
	t.Setenv("TOKENMANAGER_DATA_DIR", t.TempDir())
	walk(root, "", func(c *command, path string) {
		if c.subs != nil {
			return
		}
		args := append(strings.Fields(path), "--no-such-flag")
		stdout, stderr, err := runCLI(t, args...)
		want := "unknown flag --no-such-flag for '" + path + "'; see 'tokenmanager " + path + " -h'"
		if err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %q", args, err, want)
		}
		if stdout != "" || stderr != "" {
			t.Errorf("%q printed more than the error:\nstdout %q\nstderr %q", args, stdout, stderr)
		}
	})
}

// TestCommandLineMistakes: a subcommand takes only its own flags, and each mistake is one line with a pointer
// to -h.
func TestCommandLineMistakes(t *testing.T) {
	t.Setenv("TOKENMANAGER_DATA_DIR", t.TempDir())
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"vendor", "list", "--pem", "--floating", "--count", "7"}, "unknown flag --pem for 'vendor list'; see 'tokenmanager vendor list -h'"},
		{[]string{"product", "add", "-h", "--pem"}, ""}, // help wins
		{[]string{}, "no command given; see 'tokenmanager -h'"},
		{[]string{"frob"}, "unknown command 'frob'; see 'tokenmanager -h'"},
		{[]string{"user"}, "'user' needs a command: add, passwd, disable, enable, promote, demote, list, delete; see 'tokenmanager user -h'"},
		{[]string{"user", "frob"}, "unknown command 'user frob'; see 'tokenmanager user -h'"},
		{[]string{"help", "user", "frob"}, "unknown command 'user frob'; see 'tokenmanager user -h'"},
		{[]string{"user", "add"}, "'user add' takes 1 argument(s), got 0; see 'tokenmanager user add -h'"},
		{[]string{"client", "add", "a", "b"}, "'client add' takes 0 to 1 argument(s), got 2; see 'tokenmanager client add -h'"},
		{[]string{"key", "create", "--count"}, "flag needs an argument: -count for 'key create'; see 'tokenmanager key create -h'"},
		{[]string{"key", "rotate"}, "'key rotate' is now 'tokenmanager tokenkey rotate' ('key' means license keys)"},
		{[]string{"key", "retire", "original"}, "'key retire' is now 'tokenmanager tokenkey retire' ('key' means license keys)"},
		{[]string{"key", "ring"}, "'key ring' is now 'tokenmanager tokenkey list' ('key' means license keys)"},
	} {
		stdout, stderr, err := runCLI(t, c.args...)
		switch {
		case err == nil && c.want != "":
			t.Errorf("%q succeeded, want %q", c.args, c.want)
		case err != nil && err.Error() != c.want:
			t.Errorf("%q: %q, want %q", c.args, err, c.want)
		}
		if c.want != "" && (stdout != "" || stderr != "") {
			t.Errorf("%q printed more than the error:\nstdout %q\nstderr %q", c.args, stdout, stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	stdout, _, err := runCLI(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^tokenmanager \S+( \(revision [0-9a-f]+.*\))? go\d\S* \w+/\w+\n$`).MatchString(stdout) {
		t.Errorf("version printed %q", stdout)
	}
}
