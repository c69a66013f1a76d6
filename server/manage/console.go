package manage

import (
	"net/http"
)

// The web console (package console) calls this API from its pages with its session cookie, TM_CONSOLE_SESSION
// (SameSite=Strict, HttpOnly, host-bound like every session). A cookie is sent by the browser whoever made the
// request, so anything but a read must also carry the session's anti-forgery token in X-CSRF-Token, which only
// a script of the console's own origin can read.

// csrfHeader carries the console session's anti-forgery token.
const csrfHeader = "X-CSRF-Token"

// consoleUser is the user of the request's console session, or answers the refusal: 401 for a session that
// is unknown, ended, expired or used from another host; 403 for a change without the session's token.
func (a *API) consoleUser(w http.ResponseWriter, r *http.Request) (string, bool) {
	rec, value, ok := a.deps.Console.Session(r)
	if !ok {
		Problem(w, http.StatusUnauthorized, "the console session has ended or is not valid here; sign in again")
		return "", false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !a.deps.Console.ValidCSRF(value, r.Header.Get(csrfHeader)) {
		Problem(w, http.StatusForbidden, "a change with the console session needs the session's X-CSRF-Token header")
		return "", false
	}
	return rec.User, true
}

// basicChallenge asks for HTTP Basic credentials, except of the console's own scripts (they send X-CSRF-Token
// with every call): a browser would answer the challenge with its own password dialog over the console.
func (a *API) basicChallenge(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(csrfHeader) == "" {
		w.Header().Set("WWW-Authenticate", a.env.BasicChallenge())
	}
}
