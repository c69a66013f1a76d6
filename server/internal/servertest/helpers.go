package servertest

import (
	"context"
	"net/netip"
	"testing"

	"github.com/beevik/etree"
	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/storage"
)

// WithThrottle throttles sign-ins on the stack's clock, with X-Forwarded-For playing the client address.
func WithThrottle(c auth.ThrottleConfig) Option {
	return func(su *Setup) {
		su.Server.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
		su.Wire = append(su.Wire, func(st *Stack, d *server.Deps) {
			c.Now = st.Clock.Now
			d.Throttle = auth.NewThrottle(c)
		})
	}
}

// WithAdmin adds the administrator root/r00t.
func WithAdmin(t *testing.T) Option {
	return func(su *Setup) {
		su.Wire = append(su.Wire, func(st *Stack, _ *server.Deps) {
			h, _ := auth.HashPassword("r00t", Cheap)
			if err := st.Store.CreateUser(context.Background(), storage.User{Name: "root", PasswordHash: h, Admin: true}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func (s *Stack) AdminCall(t *testing.T, method, path string, auth map[string]string) Response {
	t.Helper()
	return Do(t, method, s.URL+"/admin/v1"+path, "", auth)
}

var RootBasic = map[string]string{"Authorization": Basic("root", "r00t")}

func (s *Stack) AuditLog(t *testing.T) []storage.AuditEvent {
	t.Helper()
	if err := s.Audit.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	events, err := s.Store.ListAudit(context.Background(), storage.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func FaultString(t *testing.T, body string) (code, msg string) {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromString(body); err != nil {
		t.Fatalf("fault body %q: %v", body, err)
	}
	if f := d.FindElement("//faultcode"); f != nil {
		return f.Text(), d.FindElement("//faultstring").Text()
	}
	if v := d.FindElement("//Code/Value"); v != nil {
		return v.Text(), d.FindElement("//Reason/Text").Text()
	}
	t.Fatalf("no fault in %s", body)
	return "", ""
}
