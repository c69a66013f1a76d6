package dbstore_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/sessions"

	"github.com/tokenmanager/tokenmanager/session"
	"github.com/tokenmanager/tokenmanager/session/dbstore"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

type fixture struct {
	url   string
	tls   *httptest.Server
	store *sqlite.Store
	now   time.Time
}

// newFixture serves a tiny app over the Store: /login?user=U signs U in, /whoami tells whose session the
// cookie names, /logout ends it the gorilla way (MaxAge -1 and Save).
func newFixture(t *testing.T, opts sessions.Options) *fixture {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, u := range []string{"alice", "bob"} {
		if err := db.CreateUser(context.Background(), storage.User{Name: u, PasswordHash: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{store: db, now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	m := session.NewManager(db, session.Config{IdleTimeout: 30 * time.Minute, TouchInterval: time.Minute}, func() time.Time { return f.now })
	store := dbstore.New(m, opts, func(r *http.Request) string { return "192.0.2.1" })
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		sess, err := store.Login(r, w, r.URL.Query().Get("user"))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprint(w, sess.ID)
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		sess, err := store.Get(r, session.CookieName)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		if sess.IsNew {
			fmt.Fprint(w, "-")
			return
		}
		fmt.Fprintf(w, "%s@%s", sess.Values[dbstore.KeyUser], sess.Values[dbstore.KeyClientHost])
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		sess, _ := store.Get(r, session.CookieName)
		sess.Options.MaxAge = -1
		if err := sess.Save(r, w); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	f.url = ts.URL
	f.tls = httptest.NewTLSServer(mux)
	t.Cleanup(f.tls.Close)
	return f
}

// get requests path with SESSION=cookie (none if empty) and returns the body and the SESSION cookie set.
func (f *fixture) get(t *testing.T, client *http.Client, base, path, cookie string) (string, *http.Cookie) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", session.CookieName+"="+cookie)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == session.CookieName {
			return string(body), c
		}
	}
	return string(body), nil
}

var laxOptions = sessions.Options{Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode}

func TestLoginSetsCookieAndStoresTheSession(t *testing.T) {
	f := newFixture(t, laxOptions)
	id, c := f.get(t, http.DefaultClient, f.url, "/login?user=alice", "")
	if c == nil || c.Value != id || c.Path != "/" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.MaxAge != 0 {
		t.Fatalf("cookie %+v for session %q: want SESSION=<id>; Path=/; HttpOnly; SameSite=Lax, no Secure on plain HTTP, no Max-Age", c, id)
	}
	stored, err := f.store.GetSession(context.Background(), session.ID(id))
	if err != nil || stored.User != "alice" || stored.ClientHost != "192.0.2.1" || !stored.CreatedAt.Equal(f.now) {
		t.Fatalf("stored session %+v, %v", stored, err)
	}
	if _, err := f.store.GetSession(context.Background(), id); err == nil {
		t.Fatal("the cookie value itself is a database key; only its hash should be")
	}
	if who, _ := f.get(t, http.DefaultClient, f.url, "/whoami", id); who != "alice@192.0.2.1" {
		t.Fatalf("whoami = %q", who)
	}
}

func TestSecureUnderTLS(t *testing.T) {
	f := newFixture(t, laxOptions)
	_, c := f.get(t, f.tls.Client(), f.tls.URL, "/login?user=alice", "")
	if c == nil || !c.Secure {
		t.Fatalf("cookie over TLS: %+v, want Secure", c)
	}
}

func TestNoFixation(t *testing.T) {
	f := newFixture(t, laxOptions)
	// A value the attacker made up is never adopted.
	planted := "11111111-2222-4333-8444-555555555555"
	id, c := f.get(t, http.DefaultClient, f.url, "/login?user=alice", planted)
	if id == planted || c == nil || c.Value == planted {
		t.Fatalf("login adopted the planted id %q", planted)
	}
	if who, _ := f.get(t, http.DefaultClient, f.url, "/whoami", planted); who != "-" {
		t.Fatalf("the planted id names a session: %q", who)
	}
	// The attacker's own live session is not adopted by the victim's sign-in either.
	mallory, _ := f.get(t, http.DefaultClient, f.url, "/login?user=bob", "")
	id, _ = f.get(t, http.DefaultClient, f.url, "/login?user=alice", mallory)
	if id == mallory {
		t.Fatal("alice signed in to bob's session")
	}
	if who, _ := f.get(t, http.DefaultClient, f.url, "/whoami", mallory); who != "bob@192.0.2.1" {
		t.Fatalf("bob's session now says %q", who)
	}
}

func TestLoginReusesTheSameUsersLiveSession(t *testing.T) {
	f := newFixture(t, laxOptions)
	first, _ := f.get(t, http.DefaultClient, f.url, "/login?user=alice", "")
	again, c := f.get(t, http.DefaultClient, f.url, "/login?user=alice", first)
	if again != first || c == nil || c.Value != first {
		t.Fatalf("second sign-in with a live session of the same user: %q, want %q", again, first)
	}
	// Once idle, the old id is not reused.
	f.now = f.now.Add(31 * time.Minute)
	later, _ := f.get(t, http.DefaultClient, f.url, "/login?user=alice", first)
	if later == first {
		t.Fatal("an idle session was reused")
	}
}

func TestSaveWithNegativeMaxAgeEndsTheSession(t *testing.T) {
	f := newFixture(t, laxOptions)
	id, _ := f.get(t, http.DefaultClient, f.url, "/login?user=alice", "")
	_, c := f.get(t, http.DefaultClient, f.url, "/logout", id)
	if c == nil || c.Value != "" || c.MaxAge >= 0 {
		t.Fatalf("logout cookie %+v: want an empty, expired SESSION", c)
	}
	stored, err := f.store.GetSession(context.Background(), session.ID(id))
	if err != nil || !stored.Ended() {
		t.Fatalf("stored session after logout: %+v, %v", stored, err)
	}
	if who, _ := f.get(t, http.DefaultClient, f.url, "/whoami", id); who != "-" {
		t.Fatalf("ended session still loads: %q", who)
	}
}

func TestSameSiteNoneCookie(t *testing.T) {
	f := newFixture(t, sessions.Options{Path: "/", HttpOnly: true, SameSite: http.SameSiteNoneMode, Secure: true})
	_, c := f.get(t, f.tls.Client(), f.tls.URL, "/login?user=alice", "")
	if c == nil || c.SameSite != http.SameSiteNoneMode || !c.Secure {
		t.Fatalf("cookie %+v: want SameSite=None; Secure", c)
	}
	if raw := c.Raw; !strings.Contains(raw, "SameSite=None") || !strings.Contains(raw, "Secure") {
		t.Fatalf("Set-Cookie %q", raw)
	}
}
