package license

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// CheckText reports ErrInvalidInput unless v is text that can be stored and shown back exactly as it was sent:
// valid UTF-8 (PostgreSQL refuses anything else, SQLite would keep the bytes, and JSON answers would replace
// them, so a signed license would name another machine than the one that asked), no NUL or other control
// character (C0, DEL, C1: they end strings in C clients and move terminals' cursors), and at most max bytes.
// Every text field a caller stores goes through it or through checkLines, whatever the wire or the backend.
func CheckText(what, v string, max int) error {
	return checkText(what, v, max, false)
}

// checkLines is CheckText for multi-line fields (notes, allowed machines): line feeds, carriage returns and
// tabs are allowed, other control characters are not.
func checkLines(what, v string, max int) error {
	return checkText(what, v, max, true)
}

func checkText(what, v string, max int, lines bool) error {
	if len(v) > max {
		return invalid("%s is longer than %d bytes", what, max)
	}
	if !utf8.ValidString(v) {
		return invalid("%s is not valid UTF-8", what)
	}
	if i := strings.IndexFunc(v, func(r rune) bool {
		return unicode.IsControl(r) && !(lines && (r == '\n' || r == '\r' || r == '\t'))
	}); i >= 0 {
		return invalid("%s contains a control character at byte %d", what, i)
	}
	return nil
}

// MaxExpiry is the latest expiry a key or token may have: the end of year 9999, the last date every client
// (and RFC 3339) can write.
var MaxExpiry = time.Date(9999, time.December, 31, 23, 59, 59, 0, time.UTC)

// addDays returns from + n days, or ErrInvalidInput when n is negative or above MaxPeriodDays (which keeps
// the arithmetic far from time.Duration's limit) or the result is after MaxExpiry.
func addDays(what string, from time.Time, n int) (time.Time, error) {
	if n < 0 || n > MaxPeriodDays || from.After(MaxExpiry) {
		return time.Time{}, invalid("%s %d days", what, n)
	}
	t := from.Add(days(n))
	if t.After(MaxExpiry) {
		return time.Time{}, invalid("%s of %d days would end after %s", what, n, MaxExpiry.Format(time.DateOnly))
	}
	return t, nil
}
