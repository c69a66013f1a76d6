package storage

import (
	"context"
	"time"
)

// Licensing activity: what vendors post to their apps, what the apps report back, and what the licensing API
// was asked. Each is kept per vendor and bounded: messages by a count per vendor, events and the web API log by
// a retention and a row cap (PruneLicenseActivity), usage as one running total per key.

// LicenseMessage is a message a vendor posts for its apps to read (message/GetMessages).
type LicenseMessage struct {
	ID      int64 // assigned by the store
	Vendor  string
	Channel string // "" is a channel of its own
	Content string
	Created time.Time
}

// MessageFilter selects a vendor's messages.
type MessageFilter struct {
	Vendor  string
	Channel string    // only this channel; "" every channel
	After   time.Time // only messages created strictly after; zero: all
	Limit   int       // at most this many, newest first (0: 1000)
}

// LicenseEvent is an event an app registered (ai/RegisterEvent).
type LicenseEvent struct {
	ID          int64 // assigned by the store
	Vendor      string
	ProductID   int64  // 0: none
	KeyGlobalID int64  // 0: none
	Key         string // read back from the key's record; not written
	MachineCode string
	FeatureName string
	EventName   string
	Value       int64
	Currency    string
	Metadata    string
	At          time.Time
}

// EventFilter selects a vendor's events.
type EventFilter struct {
	Vendor        string
	ProductID     int64 // 0: every product
	KeyGlobalID   int64 // 0: every key
	StartingAfter int64 // only events with a larger ID
	Limit         int   // at most this many, in ID order (0: 1000)
}

// WebAPILogEntry is one licensing call. A license key is a customer's secret: the entry holds only its first
// block (Key, as the audit log shows keys) and a hash of the product and key (KeyHash) to find a key's entries.
type WebAPILogEntry struct {
	ID           int64 // assigned by the store
	Vendor       string
	Method       string // the lower-case method path, "key/activate"
	ProductID    int64
	Key          string
	KeyHash      []byte // nil without a key
	MachineCode  string
	FriendlyName string
	IP           string
	Result       string // ok, error, denied, not_found, blocked, limit
	State        int
	At           time.Time
}

// WebAPILogFilter selects a vendor's web API log.
type WebAPILogFilter struct {
	Vendor        string
	ProductID     int64  // 0: every product
	KeyHash       []byte // nil: every key
	MachineCode   string // "": every machine
	FriendlyName  string // "": every name
	StartingAfter int64  // only entries with a larger ID (ascending) or a smaller one (descending); 0: none
	EndingBefore  time.Time
	Descending    bool // newest first
	Limit         int  // at most this many (0: 1000)
}

// LicenseActivity stores messages, events, the web API log and metered usage.
type LicenseActivity interface {
	// CreateMessage stores m with a new ID unless the vendor already has max messages (ErrLimitReached),
	// atomically: of callers racing for the last place, one gets it. ErrNotFound if the vendor does not exist.
	CreateMessage(ctx context.Context, m LicenseMessage, max int) (LicenseMessage, error)
	// ListMessages returns the messages f selects, newest first.
	ListMessages(ctx context.Context, f MessageFilter) ([]LicenseMessage, error)
	// DeleteMessage removes the vendor's message; ErrNotFound if the vendor has no such message.
	DeleteMessage(ctx context.Context, vendor string, id int64) error

	// AppendLicenseEvents adds events in one transaction; ErrNotFound if a vendor, product or key does not exist.
	AppendLicenseEvents(ctx context.Context, events []LicenseEvent) error
	// ListLicenseEvents returns the events f selects, in ID order.
	ListLicenseEvents(ctx context.Context, f EventFilter) ([]LicenseEvent, error)

	// AppendWebAPILog adds entries in one transaction.
	AppendWebAPILog(ctx context.Context, entries []WebAPILogEntry) error
	// ListWebAPILog returns the entries f selects.
	ListWebAPILog(ctx context.Context, f WebAPILogFilter) ([]WebAPILogEntry, error)
	// PruneLicenseActivity deletes web API log entries and events made before cutoff, and those older than the
	// newest keep of their table (keep <= 0: no cap), at most limit rows of each table; returns how many.
	PruneLicenseActivity(ctx context.Context, cutoff time.Time, keep, limit int) (int, error)

	// AddKeyUsage adds amount to the key's metered usage and returns the new total, atomically; ErrNotFound if
	// there is no such key, ErrLimitReached if the total would leave the int64 range.
	AddKeyUsage(ctx context.Context, keyGlobalID, amount int64, at time.Time) (int64, error)
	// KeyUsage is the key's metered usage (0 if none was recorded).
	KeyUsage(ctx context.Context, keyGlobalID int64) (int64, error)
}
