package license

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Auditor receives the licensing changes the service makes: audit.Recorder in the server (batched, off the
// request path), a writer that appends at once at the command line.
type Auditor interface {
	Record(storage.AuditEvent)
}

type clientKey struct{}

type actorKey struct{}

type adminTokenKey struct{}

// WithActor returns ctx carrying the account that acts (a management API user), which the audit events of calls
// made with it name as their actor in place of the access's vendor.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// WithAdminToken returns ctx carrying the id of the admin API token the acting account used, which the audit
// events of calls made with it name as "admintoken=<id>" at the end of their detail, as the management API's
// own events do: the log then tells which of an account's tokens made a change (and what a leaked one did).
func WithAdminToken(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, adminTokenKey{}, id)
}

// WithClient returns ctx carrying the caller's address, which the audit events of calls made with it name.
func WithClient(ctx context.Context, host string) context.Context {
	return context.WithValue(ctx, clientKey{}, host)
}

// KeyHint is how a license key is shown where the whole key must not be (the audit log, the web API log): its
// first block, at most five characters, then "-…". A license key is a secret of the customer's.
func KeyHint(key string) string {
	if key == "" {
		return ""
	}
	prefix, _, _ := strings.Cut(strings.TrimSpace(key), "-")
	if len(prefix) > 5 {
		prefix = prefix[:5]
	}
	return prefix + "-…"
}

// keyDetail names a key of a product (by its hint) in an audit event's detail.
func keyDetail(productID int64, key string) string {
	return fmt.Sprintf("product=%d key=%s", productID, KeyHint(key))
}

// refusals are the errors an audit event names when a change was refused, in place of the error's text (which
// may quote the caller's input).
var refusals = []error{ErrUnauthenticated, ErrAccessDenied, ErrInvalidInput, ErrProductNotFound, ErrKeyNotFound,
	ErrCustomerNotFound, ErrKeyBlocked, ErrMachineLimit, ErrNotActivated, ErrNotVendor, ErrMessageNotFound, ErrUsageLimit}

// record writes an audit event of a change made with access a to what vendor owns: done (err nil) or refused for lack of
// authority. Other failures (bad input, a missing record) change nothing and are the caller's to see.
func (s *Service) record(ctx context.Context, a *Access, vendor, action, detail string, err error) {
	if err != nil && !errors.Is(err, ErrAccessDenied) {
		return
	}
	s.recordAny(ctx, a, vendor, action, detail, err)
}

// recordAny writes an audit event of a change made with access a, whatever its outcome: for the calls whose
// refusals matter to the vendor (an activation over the limit).
func (s *Service) recordAny(ctx context.Context, a *Access, vendor, action, detail string, err error) {
	if s.audit == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = "refused"
		for _, r := range refusals {
			if errors.Is(err, r) {
				outcome = "refused: " + r.Error()
				break
			}
		}
	}
	host, _ := ctx.Value(clientKey{}).(string)
	if a != nil && a.tokenID != 0 {
		detail = fmt.Sprintf("token=%d %s", a.tokenID, detail)
	}
	if id, _ := ctx.Value(adminTokenKey{}).(string); id != "" {
		detail += " admintoken=" + id
	}
	actor, _ := ctx.Value(actorKey{}).(string)
	if actor == "" && a != nil {
		actor = a.vendor
	}
	s.audit.Record(storage.AuditEvent{Action: action, Outcome: outcome, Actor: actor, Subject: vendor, ClientHost: host,
		Detail: strings.TrimSpace(detail)})
}

// Record writes an audit event of a licensing change to what vendor owns, made elsewhere with access a (the
// WooCommerce store settings), as the service's own changes are.
func (s *Service) Record(ctx context.Context, a *Access, vendor, action, detail string) {
	s.recordAny(ctx, a, vendor, action, detail, nil)
}
