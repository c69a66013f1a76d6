package sqlite

import (
	"errors"

	"github.com/mattn/go-sqlite3"
)

// unavailable reports whether err says the database file cannot take the work now, rather than that the
// statement was wrong: the disk is full (SQLITE_FULL), a read or write of the file failed (SQLITE_IOERR: EIO,
// or EFBIG under a file size limit), the file cannot be opened (SQLITE_CANTOPEN), or another process held the
// write lock past the busy timeout (SQLITE_BUSY). SQLite rolls the failed transaction back whole, so nothing
// was half-written; the same call may succeed once space or the lock returns.
func unavailable(err error) bool {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code {
	case sqlite3.ErrFull, sqlite3.ErrIoErr, sqlite3.ErrCantOpen, sqlite3.ErrBusy:
		return true
	}
	return false
}
