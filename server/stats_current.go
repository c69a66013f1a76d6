package server

import (
	"context"

	"github.com/tokenmanager/tokenmanager/server/manage"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/usage"
)

// currentHistory is the history the overview reads (GET /admin/v1/stats and its charts, one path for both):
// the usage counts with this node's not yet flushed added (usage.Counter.Current), the sign-ins as stored.
type currentHistory struct {
	manage.History
	counts usage.Reader
}

func (h currentHistory) ListUsageCounts(ctx context.Context, f storage.UsageFilter) ([]storage.UsageCount, error) {
	return h.counts.ListUsageCounts(ctx, f)
}
