package consent

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"time"
)

// CSRF protection for the server's HTML forms: a synchronizer token bound to the browser's session. A signed-in
// form carries HMAC(key, SESSION id); the sign-in form, before there is a session, carries HMAC(key, a random
// pre-session cookie). Both are stateless, constant-time compared, and useless to another browser: a page on
// another site can neither read the token nor make one without the server's key. SameSite=Lax cookies are the
// second line: a cross-site POST arrives without them.

// csrfCookie is the pre-session cookie the sign-in form's token is bound to.
const csrfCookie = "TM_CSRF"

// maxCSRFLen bounds a presented token before it is compared.
const maxCSRFLen = 128

type csrfGuard struct {
	key    []byte
	others [][]byte // also accepted: the other server key's during a rotation
}

// token is the form token for binding.
func (g csrfGuard) token(binding string) string { return formToken(g.key, binding) }

func formToken(key []byte, binding string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("tokenmanager form token v1\x00"))
	m.Write([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// valid reports whether presented is the form token for binding; never for an empty binding or key.
func (g csrfGuard) valid(binding, presented string) bool {
	if binding == "" || len(g.key) == 0 || presented == "" || len(presented) > maxCSRFLen {
		return false
	}
	ok := hmac.Equal([]byte(g.token(binding)), []byte(presented))
	for _, k := range g.others {
		ok = hmac.Equal([]byte(formToken(k, binding)), []byte(presented)) || ok
	}
	return ok
}

// sessionBinding binds a form token to a session's storage id.
func sessionBinding(sessionID string) string { return "session:" + sessionID }

// preSession returns the binding of the request's pre-session cookie, setting a new cookie on w if it has none
// (or a malformed one).
func (pg *Pages) preSession(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 43 {
		if _, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil {
			return "pre:" + c.Value
		}
	}
	var b [32]byte
	rand.Read(b[:])
	v := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: pageCookiePath, MaxAge: int(time.Hour / time.Second), HttpOnly: true,
		Secure: pg.SecureCookies || r.TLS != nil, SameSite: http.SameSiteLaxMode})
	return "pre:" + v
}

// presentedPreSession is the binding of the request's pre-session cookie, or "" without one.
func presentedPreSession(r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && c.Value != "" {
		return "pre:" + c.Value
	}
	return ""
}
