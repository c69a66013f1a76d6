package license

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Licensing activity: the messages a vendor posts for its apps, the events apps register, the web API log of
// licensing calls and the usage metered on keys.

var (
	// ErrMessageNotFound: the vendor has no such message.
	ErrMessageNotFound = errors.New("license: message not found")
	// ErrUsageLimit: the vendor has as many messages as it may keep, or a key's metered usage would overflow.
	ErrUsageLimit = errors.New("license: limit reached")
)

// Bounds on activity records.
const (
	MaxMessageLen        = 10_000 // bytes of a message's content
	MaxChannelLen        = 256
	MaxMessagesPerVendor = 10_000
	MaxEventsPerCall     = 100 // RegisterEvents
	MaxEventNameLen      = 256 // FeatureName, EventName
	MaxCurrencyLen       = 16
	MaxEventMetadataLen  = 4096
	MaxListLimit         = 1000 // GetEvents, GetWebAPILog
	DefaultListLimit     = 10
	// maxEventAge and maxEventAhead bound an event's own time (RegisterEvents sends one per event): an app
	// that buffered events offline reports them late, not a year late.
	maxEventAge   = 366 * 24 * time.Hour
	maxEventAhead = 24 * time.Hour
)

// CallLogger receives the web API log; audit.Batcher writes it in batches, off the request path.
type CallLogger interface {
	Record(storage.WebAPILogEntry)
}

// scope is what a call naming a product and a key reaches under the access's locks. A token locked to a
// product reaches only it (its product is implied when none is named); one locked to a key must name that key.
type scope struct {
	vendor  string
	product storage.Product // zero: no product named
	key     storage.LicenseKey
}

func (s *Service) scope(ctx context.Context, a *Access, productID int64, key string) (scope, error) {
	var sc scope
	if productID <= 0 && a.token.ProductLock > 0 {
		productID = a.token.ProductLock
	}
	if productID > 0 {
		p, err := s.product(ctx, a, productID)
		if err != nil {
			return sc, err
		}
		sc.product, sc.vendor = p, p.Vendor
	} else {
		v, err := vendorOf(a)
		if err != nil {
			return sc, err
		}
		sc.vendor = v
	}
	switch {
	case strings.TrimSpace(key) != "":
		if sc.product.ID == 0 {
			return sc, invalid("a key needs its product")
		}
		k, err := s.getKey(ctx, sc.product.ID, key)
		if err != nil {
			return sc, err
		}
		if err := a.keyAllowed(k); err != nil {
			return sc, err
		}
		sc.key = k
	case a.keyLock() > 0:
		return sc, fmt.Errorf("%w: token %d is locked to key %d: name the key", ErrAccessDenied, a.tokenID, a.token.KeyLock)
	}
	return sc, nil
}

// --- messages ---

// GetMessages returns the vendor's messages of channel (every channel if empty) created strictly after after
// (every one if zero), newest first, at most MaxListLimit.
func (s *Service) GetMessages(ctx context.Context, a *Access, channel string, after time.Time) ([]storage.LicenseMessage, error) {
	if err := a.allow(MethodGetMessages); err != nil {
		return nil, err
	}
	vendor, err := vendorOf(a)
	if err != nil {
		return nil, err
	}
	if err := CheckText("channel", channel, MaxChannelLen); err != nil {
		return nil, err
	}
	return s.store.ListMessages(ctx, storage.MessageFilter{Vendor: vendor, Channel: channel, After: after, Limit: MaxListLimit})
}

// MessageSpec is a new message; a zero Time is now.
type MessageSpec struct {
	Channel string
	Content string
	Time    time.Time
}

// CreateMessage posts a message for the vendor's apps.
func (s *Service) CreateMessage(ctx context.Context, a *Access, spec MessageSpec) (storage.LicenseMessage, error) {
	if err := a.allow(MethodCreateMessage); err != nil {
		return storage.LicenseMessage{}, err
	}
	vendor, err := vendorOf(a)
	if err != nil {
		return storage.LicenseMessage{}, err
	}
	if err := CheckText("channel", spec.Channel, MaxChannelLen); err != nil {
		return storage.LicenseMessage{}, err
	}
	if err := checkLines("content", spec.Content, MaxMessageLen); err != nil {
		return storage.LicenseMessage{}, err
	}
	if spec.Time.IsZero() {
		spec.Time = s.now()
	}
	if spec.Time.Before(time.Unix(0, 0)) || spec.Time.After(MaxExpiry) {
		return storage.LicenseMessage{}, invalid("message time %d", spec.Time.Unix())
	}
	m, err := s.store.CreateMessage(ctx, storage.LicenseMessage{Vendor: vendor, Channel: spec.Channel, Content: spec.Content,
		Created: spec.Time}, MaxMessagesPerVendor)
	if errors.Is(err, storage.ErrLimitReached) {
		return m, fmt.Errorf("%w: %d messages", ErrUsageLimit, MaxMessagesPerVendor)
	}
	s.record(ctx, a, vendor, "license.message.create", fmt.Sprintf("message=%d channel=%q", m.ID, m.Channel), err)
	return m, err
}

// RemoveMessage deletes one of the vendor's messages.
func (s *Service) RemoveMessage(ctx context.Context, a *Access, id int64) error {
	if err := a.allow(MethodRemoveMessage); err != nil {
		return err
	}
	vendor, err := vendorOf(a)
	if err != nil {
		return err
	}
	err = s.store.DeleteMessage(ctx, vendor, id)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: %d", ErrMessageNotFound, id)
	}
	s.record(ctx, a, vendor, "license.message.remove", fmt.Sprintf("message=%d", id), err)
	return err
}

// --- events ---

// EventTarget is what registered events are about: all optional.
type EventTarget struct {
	ProductID   int64
	Key         string
	MachineCode string
}

// EventSpec is one event; a zero Time is now.
type EventSpec struct {
	FeatureName string
	EventName   string
	Value       int64
	Currency    string
	Metadata    string
	Time        time.Time
}

func (e EventSpec) check() error {
	for _, f := range []struct {
		what, v string
		max     int
	}{{"FeatureName", e.FeatureName, MaxEventNameLen}, {"EventName", e.EventName, MaxEventNameLen},
		{"Currency", e.Currency, MaxCurrencyLen}} {
		if err := CheckText(f.what, f.v, f.max); err != nil {
			return err
		}
	}
	return checkLines("Metadata", e.Metadata, MaxEventMetadataLen)
}

// RegisterEvents stores events about a product, key and machine (any of them may be absent), all or none.
func (s *Service) RegisterEvents(ctx context.Context, a *Access, target EventTarget, events []EventSpec) error {
	if err := a.allow(MethodRegisterEvent); err != nil {
		return err
	}
	if len(events) == 0 || len(events) > MaxEventsPerCall {
		return invalid("%d events: 1 to %d a call", len(events), MaxEventsPerCall)
	}
	if err := CheckText("machine code", target.MachineCode, MaxMachineCodeLen); err != nil {
		return err
	}
	sc, err := s.scope(ctx, a, target.ProductID, target.Key)
	if err != nil {
		return err
	}
	now := s.now()
	out := make([]storage.LicenseEvent, 0, len(events))
	for _, e := range events {
		if err := e.check(); err != nil {
			return err
		}
		at := e.Time
		if at.IsZero() {
			at = now
		} else if at.Before(now.Add(-maxEventAge)) || at.After(now.Add(maxEventAhead)) {
			return invalid("event time %d is not within a year before now", at.Unix())
		}
		out = append(out, storage.LicenseEvent{Vendor: sc.vendor, ProductID: sc.product.ID, KeyGlobalID: sc.key.GlobalID,
			MachineCode: target.MachineCode, FeatureName: e.FeatureName, EventName: e.EventName, Value: e.Value,
			Currency: e.Currency, Metadata: e.Metadata, At: at})
	}
	return s.store.AppendLicenseEvents(ctx, out)
}

// ListQuery pages through events or the web API log.
type ListQuery struct {
	ProductID     int64
	Key           string
	Limit         int   // 0: DefaultListLimit; at most MaxListLimit
	StartingAfter int64 // an ID
}

func (q *ListQuery) check() error {
	if q.Limit < 0 || q.Limit > MaxListLimit {
		return invalid("limit %d: 1 to %d", q.Limit, MaxListLimit)
	}
	if q.Limit == 0 {
		q.Limit = DefaultListLimit
	}
	if q.StartingAfter < 0 {
		return invalid("StartingAfter %d", q.StartingAfter)
	}
	return nil
}

// GetEvents returns the vendor's events, oldest first, narrowed to a product and key.
func (s *Service) GetEvents(ctx context.Context, a *Access, q ListQuery) ([]storage.LicenseEvent, error) {
	if err := a.allow(MethodGetEvents); err != nil {
		return nil, err
	}
	if err := q.check(); err != nil {
		return nil, err
	}
	sc, err := s.scope(ctx, a, q.ProductID, q.Key)
	if err != nil {
		return nil, err
	}
	return s.store.ListLicenseEvents(ctx, storage.EventFilter{Vendor: sc.vendor, ProductID: sc.product.ID,
		KeyGlobalID: sc.key.GlobalID, StartingAfter: q.StartingAfter, Limit: q.Limit})
}

// --- the web API log ---

// CallRecord is one licensing call as the web API log keeps it.
type CallRecord struct {
	Method       string // the lower-case method path, from the transport's fixed table
	ProductID    int64
	Key          string // stored only as KeyHint and a hash
	MachineCode  string
	FriendlyName string
	IP           string
	Err          error // nil: the call succeeded
}

// Web API log states: what came of a call, the State of Cryptolens' WebAPILog model.
const (
	StateOK           = 1
	StateBadInput     = 2
	StateDenied       = 3 // the token may not do this, or was not accepted
	StateNotFound     = 4 // no such product, key, customer or message
	StateBlocked      = 5
	StateLimit        = 6 // a machine, message or usage limit
	StateNotActivated = 7
	StateFailed       = 9 // a failure of the service's own
)

// CallResult is the result name and state of a call that ended with err: the label the metrics count by too.
func CallResult(err error) (string, int) {
	switch {
	case err == nil:
		return "ok", StateOK
	case errors.Is(err, ErrInvalidInput):
		return "bad_input", StateBadInput
	case errors.Is(err, ErrAccessDenied), errors.Is(err, ErrUnauthenticated), errors.Is(err, ErrNotVendor):
		return "denied", StateDenied
	case errors.Is(err, ErrProductNotFound), errors.Is(err, ErrKeyNotFound), errors.Is(err, ErrCustomerNotFound),
		errors.Is(err, ErrMessageNotFound):
		return "not_found", StateNotFound
	case errors.Is(err, ErrKeyBlocked):
		return "blocked", StateBlocked
	case errors.Is(err, ErrMachineLimit), errors.Is(err, ErrUsageLimit):
		return "limit", StateLimit
	case errors.Is(err, ErrNotActivated):
		return "not_activated", StateNotActivated
	}
	return "error", StateFailed
}

// keyHash identifies a product's key in the web API log without storing it; nil without a key.
func keyHash(productID int64, key string) []byte {
	key = strings.ToUpper(strings.TrimSpace(key))
	if key == "" || len(key) > MaxKeyLen {
		return nil
	}
	h := sha256.Sum256([]byte(strconv.FormatInt(productID, 10) + "\x00" + key))
	return h[:]
}

// clip bounds free text recorded from a request.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// LogCall adds a call made with access a to its vendor's web API log. It never blocks (see audit.Batcher); a
// call without a vendor (an unknown token) is not logged: it belongs to no one.
func (s *Service) LogCall(a *Access, c CallRecord) {
	if s.calls == nil || a == nil || a.vendor == "" {
		return
	}
	result, state := CallResult(c.Err)
	s.calls.Record(storage.WebAPILogEntry{Vendor: a.vendor, Method: c.Method, ProductID: c.ProductID,
		Key: clip(KeyHint(c.Key), 16), KeyHash: keyHash(c.ProductID, c.Key), MachineCode: clip(c.MachineCode, MaxMachineCodeLen),
		FriendlyName: clip(c.FriendlyName, MaxFriendlyNameLen), IP: clip(c.IP, 64), Result: result, State: state, At: s.now()})
}

// LogQuery selects web API log entries.
type LogQuery struct {
	ListQuery
	MachineCode  string
	FriendlyName string
	EndingBefore time.Time
	Descending   bool
}

// GetWebAPILog returns the vendor's web API log, narrowed to a product, key, machine or name.
func (s *Service) GetWebAPILog(ctx context.Context, a *Access, q LogQuery) ([]storage.WebAPILogEntry, error) {
	if err := a.allow(MethodGetWebAPILog); err != nil {
		return nil, err
	}
	if err := q.check(); err != nil {
		return nil, err
	}
	if err := CheckText("machine code", q.MachineCode, MaxMachineCodeLen); err != nil {
		return nil, err
	}
	if err := CheckText("friendly name", q.FriendlyName, MaxFriendlyNameLen); err != nil {
		return nil, err
	}
	sc, err := s.scope(ctx, a, q.ProductID, q.Key)
	if err != nil {
		return nil, err
	}
	f := storage.WebAPILogFilter{Vendor: sc.vendor, ProductID: sc.product.ID, MachineCode: q.MachineCode,
		FriendlyName: q.FriendlyName, StartingAfter: q.StartingAfter, EndingBefore: q.EndingBefore, Descending: q.Descending,
		Limit: q.Limit}
	if sc.key.GlobalID != 0 {
		f.KeyHash = keyHash(sc.product.ID, sc.key.Key)
	}
	return s.store.ListWebAPILog(ctx, f)
}

// PruneActivity deletes, in batches, web API log entries and events older than retention (none if <= 0), and
// those beyond the newest keep of each (no cap if <= 0); returns how many.
func (s *Service) PruneActivity(ctx context.Context, retention time.Duration, keep int) (int, error) {
	cutoff := time.Time{}
	if retention > 0 {
		cutoff = s.now().Add(-retention)
	}
	const batch = 1000
	total := 0
	for ctx.Err() == nil {
		n, err := s.store.PruneLicenseActivity(ctx, cutoff, keep, batch)
		if total += n; err != nil || n < batch {
			return total, err
		}
	}
	return total, ctx.Err()
}

// --- metered usage ---

// RecordUsage adds amount to the key's metered usage and returns the new total. No payment provider is
// called: the total is for the vendor's own billing.
func (s *Service) RecordUsage(ctx context.Context, a *Access, productID int64, key string, amount int64) (int64, error) {
	if err := a.allow(MethodRecordUsage); err != nil {
		return 0, err
	}
	if amount < 0 || amount > 1<<31-1 {
		return 0, invalid("Amount %d", amount)
	}
	p, err := s.product(ctx, a, productID)
	if err != nil {
		return 0, err
	}
	k, err := s.getKey(ctx, p.ID, key)
	if err != nil {
		return 0, err
	}
	if err := a.keyAllowed(k); err != nil {
		s.record(ctx, a, p.Vendor, "license.usage.record", keyDetail(p.ID, key), err)
		return 0, err
	}
	total, err := s.store.AddKeyUsage(ctx, k.GlobalID, amount, s.now())
	switch {
	case errors.Is(err, storage.ErrLimitReached):
		err = fmt.Errorf("%w: metered usage of key %d", ErrUsageLimit, k.ID)
	case errors.Is(err, storage.ErrNotFound):
		err = ErrKeyNotFound
	}
	s.record(ctx, a, p.Vendor, "license.usage.record", fmt.Sprintf("%s amount=%d total=%d", keyDetail(p.ID, key), amount, total), err)
	return total, err
}

// KeyUsage is a key's metered usage, for vendors' tools.
func (s *Service) KeyUsage(ctx context.Context, a *Access, productID int64, key string) (int64, error) {
	p, err := s.product(ctx, a, productID)
	if err != nil {
		return 0, err
	}
	k, err := s.getKey(ctx, p.ID, key)
	if err != nil {
		return 0, err
	}
	if err := a.keyAllowed(k); err != nil {
		return 0, err
	}
	return s.store.KeyUsage(ctx, k.GlobalID)
}
