package main

import (
	"errors"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// dsnMask replaces a secret in a shown connection string.
const dsnMask = "…"

// secretDSNKeys are the connection parameters that hold secrets: the password and the passphrase of the TLS
// client key, in libpq's and pgx's spelling.
var secretDSNKeys = map[string]bool{"password": true, "sslpassword": true}

// maskDSN returns dsn fit to show: a sqlite: value as it is; a PostgreSQL URL (postgres://) or key/value
// connection string (host=db password=…) with its user information and every secret parameter masked. A
// string pgx cannot parse is not shown at all, since what in it is a secret cannot be known.
func maskDSN(dsn string) string {
	if dsn == "" || strings.HasPrefix(dsn, "sqlite:") {
		return dsn
	}
	// pgx's parser decides whether the string is well formed. With no key allowed it stops, before reading
	// any file or the environment, at the first key: an error without a cause is that refusal, so the syntax
	// was fine.
	_, err := pgconn.ParseConfigWithOptions(dsn, pgconn.ParseConfigOptions{ConnStringAllowedKeys: []string{}})
	var pe *pgconn.ParseConfigError
	if err != nil && (!errors.As(err, &pe) || pe.Unwrap() != nil) {
		return "(a connection string that does not parse; not shown)"
	}
	var masked string
	var ok bool
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		masked, ok = maskURLDSN(dsn)
	} else {
		masked, ok = maskKeywordValueDSN(dsn)
	}
	if !ok {
		return "(a connection string that does not parse; not shown)"
	}
	return masked
}

// maskURLDSN follows pgconn's URL parser: the user information ends at the first '@' before any '/', and the
// query at the first '?' after it; query keys are percent-decoded before they are compared.
func maskURLDSN(dsn string) (string, bool) {
	scheme, rest, _ := strings.Cut(dsn, "://")
	if i := strings.IndexAny(rest, "@/"); i >= 0 && rest[i] == '@' {
		rest = dsnMask + rest[i:]
	}
	base, query, hasQuery := strings.Cut(rest, "?")
	if !hasQuery {
		return scheme + "://" + base, true
	}
	params := strings.Split(query, "&")
	for i, p := range params {
		k, _, _ := strings.Cut(p, "=")
		key, err := url.PathUnescape(k)
		if err != nil {
			return "", false
		}
		if secretDSNKeys[key] {
			params[i] = k + "=" + dsnMask
		}
	}
	return scheme + "://" + base + "?" + strings.Join(params, "&"), true
}

// maskKeywordValueDSN rewrites a key/value connection string with its secret values masked. The tokenizer is
// libpq's (as pgconn implements it): values are bare up to white space, or single-quoted; a backslash escapes
// the next character in both.
func maskKeywordValueDSN(dsn string) (string, bool) {
	const space = " \t\n\r\v\f"
	var out []string
	s := strings.TrimLeft(dsn, space)
	for len(s) > 0 {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return "", false
		}
		key := strings.Trim(s[:eq], space)
		if key == "" || strings.ContainsAny(key, space) {
			return "", false
		}
		s = strings.TrimLeft(s[eq+1:], space)
		end, quoted := 0, len(s) > 0 && s[0] == '\''
		if quoted {
			end = 1
		}
		for ; end < len(s); end++ {
			c := s[end]
			if c == '\\' {
				end++
				continue
			}
			if (quoted && c == '\'') || (!quoted && strings.IndexByte(space, c) >= 0) {
				break
			}
		}
		if quoted {
			if end >= len(s) {
				return "", false
			}
			end++ // the closing quote
		}
		end = min(end, len(s))
		val := s[:end]
		if secretDSNKeys[key] {
			val = dsnMask
		}
		out = append(out, key+"="+val)
		s = strings.TrimLeft(s[end:], space)
	}
	return strings.Join(out, " "), true
}
