package sqlite

// Every connection this process opens keeps the query plan a statement was prepared with, whatever values are
// bound to it later (SQLite's query planner stability guarantee, SQLITE_DBCONFIG_ENABLE_QPSG).
//
// Why: without it, SQLite marks a statement for re-preparation when one of its parameters might pick a
// better plan, which is the case for any "LIMIT ?" and for any "col = ?" that some candidate plan leaves
// unindexed (every query with an ORDER BY has such a candidate). The driver clears the bindings of a cached
// statement after each use, and clearing them expires a statement so marked, so each call parsed and planned
// the query again: 15–20 µs on top of a 5 µs read, for most of the licensing reads. Our queries are written
// for one plan each, so nothing is lost.
//
// The driver has no hook to set this per connection, so it is set by an auto-extension: SQLite calls it for
// every connection opened in the process, the driver's included, before the connection is used.

/*
typedef struct sqlite3 sqlite3;
typedef struct sqlite3_api_routines sqlite3_api_routines;
extern int sqlite3_auto_extension(void (*xEntryPoint)(void));
extern int sqlite3_db_config(sqlite3*, int op, ...);
extern int sqlite3_open_v2(const char *filename, sqlite3 **ppDb, int flags, const char *zVfs);
extern int sqlite3_close(sqlite3*);

enum { tm_dbconfig_enable_qpsg = 1007, tm_open_readwrite = 0x2, tm_open_create = 0x4, tm_open_memory = 0x80 };

static int tm_stable_plans(sqlite3 *db, char **err, const sqlite3_api_routines *api) {
	return sqlite3_db_config(db, tm_dbconfig_enable_qpsg, 1, (int*)0);
}

static int tm_register_stable_plans(void) {
	return sqlite3_auto_extension((void (*)(void))tm_stable_plans);
}

// tm_new_connection_has_stable_plans opens a connection as the driver would and reports the setting on it.
static int tm_new_connection_has_stable_plans(void) {
	sqlite3 *db = 0;
	int on = -1;
	if (sqlite3_open_v2(":memory:", &db, tm_open_readwrite | tm_open_create | tm_open_memory, 0) == 0) {
		sqlite3_db_config(db, tm_dbconfig_enable_qpsg, -1, &on);
	}
	sqlite3_close(db);
	return on;
}
*/
import "C"

import "strconv"

func init() {
	if rc := C.tm_register_stable_plans(); rc != 0 {
		panic("sqlite: cannot register the connection setup (sqlite3_auto_extension: " + strconv.Itoa(int(rc)) + ")")
	}
}

// stablePlans reports whether a newly opened connection keeps its statements' plans.
func stablePlans() bool { return C.tm_new_connection_has_stable_plans() == 1 }
