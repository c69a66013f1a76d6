// Package hooks holds the callbacks a backend runs after each commit that revokes a token, ends a session or
// changes a user (storage.Changes.OnChange), the same way in every backend.
package hooks

import "context"

// Changes are the registered callbacks.
type Changes []func(context.Context)

// Add registers fn. Call before the store is used; not safe concurrently with Run.
func (h *Changes) Add(fn func(context.Context)) { *h = append(*h, fn) }

// Run calls each callback when err is nil: call it last in every method whose commit writes cache_changes
// (through the triggers of migrations 0010, 0023 and 0025). The callbacks outlive a cancelled request: the change
// is committed.
func (h Changes) Run(ctx context.Context, err error) {
	if err != nil {
		return
	}
	for _, fn := range h {
		fn(context.WithoutCancel(ctx))
	}
}
