package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Text the CLI prints for people comes from requests as well as from operators: a user name sent with HTTP
// Basic, a machine code, a device or app name. A terminal acts on control characters (ESC starts sequences
// that move the cursor, clear lines or set the window title; CR and BS overwrite; NUL and BEL are not text),
// so printed as they are they could hide or forge lines of the audit log. printf, the one way every command
// prints text, shows each value through printable instead. JSON output (--json) escapes them already.

// printable returns s with every character that is not printable (control characters, C1 controls, DEL,
// invisible and bidirectional formatting characters, any space but ' ', tabs and newlines included) written
// as a Go escape (\x1b, \r, \n, \u202e), and each byte of invalid UTF-8 as \xNN; the rest is kept as it is.
// It is strconv.Quote without the quotes and without escaping '"' and '\', so that ordinary text reads the
// same; the audit log's details, written with %q, are shown exactly as stored.
func printable(s string) string {
	// A rune error is invalid UTF-8 or U+FFFD itself; looking closer at both is harmless.
	i := strings.IndexFunc(s, func(r rune) bool { return r == utf8.RuneError || (r != ' ' && !strconv.IsPrint(r)) })
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == ' ' || strconv.IsPrint(r):
			b.WriteString(s[i : i+size])
		default:
			q := strconv.QuoteRune(r) // '\x1b', '\n', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

// shown formats a value from the database or a request with printable, whatever the verb (but %q, which
// escapes by itself).
type shown string

func (s shown) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, fmt.FormatString(f, verb), string(s))
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, 's'), printable(string(s)))
}

// printf is fmt.Fprintf with every string, error and Stringer argument shown printable. The format is the
// program's own, so its tabs and newlines lay out tables and lines; a value can no longer add or overwrite
// one. Every command prints through it (TestOutputGoesThroughPrintf keeps it so).
func printf(w io.Writer, format string, args ...any) (int, error) {
	for i, a := range args {
		switch v := a.(type) {
		case string:
			args[i] = shown(v)
		case error:
			args[i] = shownLines(v.Error())
		case fmt.Stringer:
			args[i] = shown(v.String())
		case []byte:
			args[i] = shown(v)
		}
	}
	return fmt.Fprintf(w, format, args...)
}

// shownLines is shown for an error's message, which may be several joined ones, a line each: the newlines
// between them are kept.
type shownLines string

func (s shownLines) Format(f fmt.State, verb rune) {
	lines := strings.Split(string(s), "\n")
	for i, l := range lines {
		lines[i] = printable(l)
	}
	fmt.Fprintf(f, fmt.FormatString(f, 's'), strings.Join(lines, "\n"))
}
