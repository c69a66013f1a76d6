package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tokenmanager/tokenmanager/storage"
)

// unavailable reports whether err says the database could not be reached or could not do the work, rather than
// that the statement was wrong: no connection could be made, the connection broke, the server is shutting
// down, starting up or out of resources (disk, memory, connections). Such a call may succeed later.
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false // the caller went away: nothing to tell it
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "53"),  // insufficient resources: disk full, out of memory, too many connections
			strings.HasPrefix(pe.Code, "57P"), // operator intervention: shutdown, crash shutdown, starting up
			strings.HasPrefix(pe.Code, "58"):  // system error: I/O
			return true
		}
		// A connection attempt refused by the server for any other reason (a wrong password, a missing database)
		// is still a database this service cannot reach.
		var ce *pgconn.ConnectError
		return errors.As(err, &ce)
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, context.DeadlineExceeded)
}

// markUnavailable wraps err with storage.ErrUnavailable when it is a connection-level failure.
func markUnavailable(err error) error {
	if err == nil || errors.Is(err, storage.ErrUnavailable) || !unavailable(err) {
		return err
	}
	return fmt.Errorf("%w: postgres: %w", storage.ErrUnavailable, err)
}
