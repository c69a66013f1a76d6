package server_test

import (
	"testing"

	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// stack is servertest's server on loopback, with this package's request helpers as its methods.
type stack struct{ *servertest.Stack }

func newStack(t testing.TB, opts ...servertest.Option) *stack {
	t.Helper()
	return &stack{servertest.NewStack(t, opts...)}
}
