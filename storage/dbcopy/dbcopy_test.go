package dbcopy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/postgres"
	"github.com/tokenmanager/tokenmanager/storage/postgres/pgtest"
	"github.com/tokenmanager/tokenmanager/storage/sqlite"
)

// TestTablesCoverSchema fails when a migration adds a table that Tables does not copy (or Tables names one the
// schema no longer has): add the table to Tables, in an order that puts it after the tables it refers to.
func TestTablesCoverSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "schema.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db := rawSQLite(t, path)
	got, err := SQLiteTables(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, tb := range Tables {
		want = append(want, tb.Name)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("tables after all migrations:\n  %v\ndbcopy.Tables:\n  %v", got, want)
	}
	// Every list column is declared with its separator, and nothing else is.
	for _, tb := range Tables {
		for col := range tb.Lists {
			var n int
			if err := db.QueryRow(`SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`, tb.Name, col).Scan(&n); err != nil || n != 1 {
				t.Errorf("Tables: %s.%s is not a column (%v)", tb.Name, col, err)
			}
		}
	}
}

func rawSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var (
	t0     = time.Date(2026, 11, 1, 12, 0, 0, 123456000, time.UTC)
	now    = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	past   = now.Add(-time.Hour)
	future = now.Add(24 * time.Hour)
)

// seed fills every table of a new SQLite database, with what is worth checking in its conversion: unset times,
// NULLs, empty blobs, empty and multi-item lists, booleans, gaps in ids, and rows that are no longer live.
func seed(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tokenmanager.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	us := func(tm time.Time) string { return fmt.Sprint(tm.UnixMicro()) }
	r := strings.NewReplacer("T0", us(t0), "PAST", us(past), "FUTURE", us(future))
	stmts := []string{
		`INSERT INTO users VALUES ('alice','h1',X'0102',0,T0,T0,1), ('bob','h2',NULL,1,T0,T0,0)`,
		`INSERT INTO sessions VALUES ('s1','alice','10.0.0.1',T0,T0,0), ('s2','alice','10.0.0.2',T0,T0,PAST),
			('s3','bob','10.0.0.3',T0,T0,PAST)`,
		`INSERT INTO tokens VALUES ('t1','alice','open',NULL,'10.0.0.1',T0,0,T0,0),
			('t2','alice','session','s1','10.0.0.1',T0,FUTURE,T0,0),
			('t3','bob','session','s3','10.0.0.3',T0,FUTURE,T0,PAST),
			('t4','alice','open',NULL,'10.0.0.1',T0,PAST,T0,0)`,
		`INSERT INTO audit_events VALUES (1,T0,'a','ok','alice','x','h','d'), (2,T0,'b','ok','alice','y','h',''),
			(5,T0,'c','denied','bob','z','h','é')`,
		`INSERT INTO api_clients VALUES ('c1','first',X'aa',X'bb',T0,T0,'read write','client_credentials',1,3600000000,0,0,T0,T0,'jwt'),
			('c2','',X'',X'cc',T0,0,'','',0,1,1,1,T0,T0,'')`,
		`INSERT INTO access_tokens VALUES ('a1','c1','read',X'01',T0,FUTURE,0), ('a2','c1','',X'02',T0,PAST,0)`,
		`INSERT INTO powerauth_activations VALUES ('pa1','alice','phone','ACTIVE',T0,T0)`,
		`INSERT INTO powerauth_tokens VALUES ('pt1','pa1',X'0a0b',T0)`,
		`INSERT INTO powerauth_nonces VALUES ('pt1',X'01',FUTURE), ('pt1',X'02',PAST)`,
		`INSERT INTO token_keys VALUES ('k0',NULL,'verify',T0,0), ('k1',X'05','primary',T0,0)`,
		`INSERT INTO license_vendors VALUES ('alice',T0)`,
		`INSERT INTO license_products VALUES (7,'alice','App',X'01',X'02',1,T0,1), (9,'alice','Other',X'03',X'04',0,T0,0)`,
		`INSERT INTO license_customers VALUES (3,'alice','C','c@example.com','Co',2,'bob',T0,'n','5ecae7',5),
			(4,'alice','D','d@example.com','',0,NULL,T0,'',NULL,0)`,
		`INSERT INTO license_resellers VALUES (5,'alice','Shop','s@example.com','','https://shop.example','',T0)`,
		`INSERT INTO license_templates VALUES (6,7,'Pro',365,3,'tpl',0,1,2,'m1',5,T0), (8,9,'Basic',0,0,'',1,0,0,'',NULL,T0)`,
		`INSERT INTO license_keys VALUES (11,7,1,'AAAAA-BBBBB',T0,30,FUTURE,5,'notes',0,3,1,T0,2,'m1,m2','',5),
			(12,9,1,'CCCCC-DDDDD',T0,0,0,0,'',1,NULL,0,0,0,'','trial-machine',NULL)`,
		`INSERT INTO license_activations VALUES (11,'m1',0,0,'desk','192.0.2.1',T0,0), (11,'m2',1,1,'','',T0,FUTURE)`,
		`INSERT INTO license_api_tokens VALUES (1,'alice','root',X'aa','Activate,GetKey',0,0,0,NULL,T0,0,0),
			(2,'alice','child',X'bb','',7,11,1,1,T0,FUTURE,0)`,
		`INSERT INTO woo_stores VALUES (4,'alice','shop',X'cc',1,0,T0)`,
		`INSERT INTO woo_skus VALUES (4,'sku-1',7,1)`,
		`INSERT INTO woo_tokens VALUES (X'dd',11,T0,FUTURE), (X'de',11,T0,PAST)`,
		`INSERT INTO app_authorizations VALUES (2,X'ee',1,'alice','alice','approved','app','dev','mc',X'ff',
			'Activate,GetKey',7,0,0,3600,T0,NULL,0,2,T0,0)`,
		`INSERT INTO app_devices VALUES (3,'mc','dev','alice',T0)`,
		`INSERT INTO license_end_users VALUES (5,'alice','Eve','eve','eve@example.com','$argon2id$h',3,'7e5e7',FUTURE,T0,T0),
			(6,'alice','frank','frank','','$argon2id$h',NULL,NULL,0,T0,T0)`,
		`INSERT INTO cache_changes VALUES (40,'token','t3',T0)`,
		`INSERT INTO settings VALUES ('server_key_fingerprint','fp-of-the-key')`,
		`INSERT INTO limit_counters VALUES (X'01',2.5,0.1,T0,FUTURE), (X'02',1,1,T0,PAST)`,
		`INSERT INTO wsse_nonces VALUES (X'03',FUTURE), (X'04',PAST)`,
		`INSERT INTO oauth_keys VALUES ('j0','RS256',X'06','verify',T0,FUTURE,0), ('j1','ES256',X'07','primary',T0,0,0)`,
	}
	db := rawSQLite(t, path)
	for _, q := range stmts {
		if _, err := db.Exec(r.Replace(q)); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return path
}

// liveRows is how many rows of each table of seed are copied.
var liveRows = map[string]int64{
	"users": 2, "sessions": 2, "tokens": 3, "audit_events": 3, "api_clients": 2, "access_tokens": 1,
	"powerauth_activations": 1, "powerauth_tokens": 1, "powerauth_nonces": 1, "token_keys": 2,
	"license_vendors": 1, "license_products": 2, "license_customers": 2, "license_keys": 2,
	"license_resellers": 1, "license_templates": 2,
	"license_activations": 2, "license_api_tokens": 2, "woo_stores": 1, "woo_skus": 1, "woo_tokens": 1,
	"app_authorizations": 1, "app_devices": 1, "license_end_users": 2, "settings": 1,
	// The seed's own change, and one for each of its two activations, which the SQLite triggers announced.
	"cache_changes":  3,
	"limit_counters": 1, "wsse_nonces": 1, "oauth_keys": 2,
}

func checkReport(t *testing.T, rep *Report) {
	t.Helper()
	if len(rep.Tables) != len(Tables) {
		t.Fatalf("%d tables in the report, want %d", len(rep.Tables), len(Tables))
	}
	for _, tr := range rep.Tables {
		if tr.Rows != liveRows[tr.Name] || len(tr.SHA256) != 64 {
			t.Errorf("%s: %d rows (sum %q), want %d", tr.Name, tr.Rows, tr.SHA256, liveRows[tr.Name])
		}
	}
}

func TestCopyToPostgres(t *testing.T) {
	ctx := context.Background()
	src := seed(t)
	dsn := pgtest.Schema(t)
	var events []Progress
	rep, err := Copy(ctx, src, dsn, Options{Now: now, Every: 1, Progress: func(p Progress) { events = append(events, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Resumed || rep.Emptied {
		t.Errorf("report %+v on an empty target", rep)
	}
	checkReport(t, rep)
	finished := map[string]bool{}
	for _, p := range events {
		if p.Finished {
			finished[p.Table] = p.Done == p.Total
		}
	}
	if len(finished) != len(Tables) || events[2] != (Progress{Table: "users", Done: 2, Total: 2}) {
		t.Errorf("progress: %v", events)
	}

	// What each backend's own code reads back is the same on both.
	s, err := sqlite.Open(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	same := func(what string, read func(storage.Store) (any, error)) {
		t.Helper()
		a, errA := read(s)
		b, errB := read(p)
		if errA != nil || errB != nil || !reflect.DeepEqual(a, b) {
			t.Errorf("%s:\n sqlite   %+v (%v)\n postgres %+v (%v)", what, a, errA, b, errB)
		}
	}
	for _, id := range []string{"t1", "t2", "t3"} {
		same("token "+id, func(st storage.Store) (any, error) { return st.GetToken(ctx, id) })
	}
	if _, err := p.GetToken(ctx, "t4"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("an expired token was copied: %v", err)
	}
	for _, id := range []string{"s1", "s3"} {
		same("session "+id, func(st storage.Store) (any, error) { return st.GetSession(ctx, id) })
	}
	if _, err := p.GetSession(ctx, "s2"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("an ended session without live tokens was copied: %v", err)
	}
	same("users", func(st storage.Store) (any, error) { return st.ListUsers(ctx) })
	same("audit", func(st storage.Store) (any, error) { return st.ListAudit(ctx, storage.AuditFilter{}) })
	same("clients", func(st storage.Store) (any, error) { return st.ListAPIClients(ctx) })
	same("access tokens", func(st storage.Store) (any, error) {
		return st.ListAccessTokens(ctx, storage.AccessTokenFilter{ClientID: "c1", LiveAt: now})
	})
	same("powerauth", func(st storage.Store) (any, error) { return st.ListPowerAuthTokens(ctx, "pa1") })
	same("token keys", func(st storage.Store) (any, error) { return st.ListTokenKeys(ctx) })
	same("oauth keys", func(st storage.Store) (any, error) { return st.ListOAuthKeys(ctx) })
	same("products", func(st storage.Store) (any, error) { return st.ListProducts(ctx, "") })
	same("customers", func(st storage.Store) (any, error) { return st.ListCustomers(ctx, "") })
	same("keys", func(st storage.Store) (any, error) { return st.ListLicenseKeys(ctx, 7) })
	same("trial key", func(st storage.Store) (any, error) { return st.FindTrialKey(ctx, 9, "trial-machine") })
	same("activations", func(st storage.Store) (any, error) { return st.ListActivations(ctx, 11) })
	same("api tokens", func(st storage.Store) (any, error) { return st.ListAPITokens(ctx, "") })
	same("woo store", func(st storage.Store) (any, error) { return st.ListWooSKUs(ctx, 4) })
	same("woo token", func(st storage.Store) (any, error) { return st.GetWooToken(ctx, []byte{0xdd}) })
	same("app authorization", func(st storage.Store) (any, error) { return st.GetAppAuthorization(ctx, 2) })
	same("app devices", func(st storage.Store) (any, error) { return st.ListAppDevices(ctx, "alice") })
	same("changes", func(st storage.Store) (any, error) {
		c, _, err := st.ReadChanges(ctx, 0, 10)
		return c, err
	})
	if fp, err := p.InitSetting(ctx, "server_key_fingerprint", "another"); err != nil || fp != "fp-of-the-key" {
		t.Errorf("fingerprint %q, %v", fp, err)
	}
	// The nonce still refuses its replay.
	if err := p.UsePowerAuthNonce(ctx, "pt1", []byte{1}, future, now); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("replayed nonce: %v", err)
	}

	// Identities continue after the copied ids.
	prod, err := p.CreateProduct(ctx, storage.Product{Vendor: "alice", Name: "New", PublicKey: []byte{1}},
		func(int64) ([]byte, error) { return []byte{2}, nil })
	if err != nil || prod.ID != 10 {
		t.Errorf("new product id %d, %v; want 10", prod.ID, err)
	}
	if err := p.AppendAudit(ctx, []storage.AuditEvent{{At: now, Action: "new", Outcome: "ok"}}); err != nil {
		t.Fatal(err)
	}
	if ev, err := p.ListAudit(ctx, storage.AuditFilter{}); err != nil || !slices.ContainsFunc(ev, func(e storage.AuditEvent) bool { return e.ID == 6 }) {
		t.Errorf("new audit event not id 6: %+v, %v", ev, err)
	}
	if err := p.RevokeToken(ctx, "t1", now); err != nil {
		t.Fatal(err)
	}
	// The feed may hand out recent changes again (the seed's, copied just now); the new one must come after.
	if c, _, err := p.ReadChanges(ctx, 40, 10); err != nil ||
		!slices.ContainsFunc(c, func(ch storage.Change) bool { return ch.Seq == 41 && ch.Kind == storage.ChangedToken && ch.Key == "t1" }) {
		t.Errorf("change after the copied ones: %+v, %v", c, err)
	}

	// Now the target holds data: refused, unless forced.
	if _, err := Copy(ctx, src, dsn, Options{Now: now}); !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), "rows in users") {
		t.Fatalf("copy into a target with data: %v", err)
	}
	rep, err = Copy(ctx, src, dsn, Options{Now: now, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Emptied {
		t.Errorf("forced copy did not say it emptied the target")
	}
	checkReport(t, rep)
	if _, err := p.GetProduct(ctx, 10); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("product written after the first copy survived a forced one: %v", err)
	}
}

func TestCopyRerunAfterFailure(t *testing.T) {
	ctx := context.Background()
	src := seed(t)
	dsn := pgtest.Schema(t)
	failDuring = "license_keys"
	_, err := Copy(ctx, src, dsn, Options{Now: now})
	failDuring = ""
	if err == nil || !strings.Contains(err.Error(), "copying license_keys") {
		t.Fatalf("failing copy: %v", err)
	}
	conn := pgConn(t, dsn)
	count := func(table string) (n int) {
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// The tables before the failure are in, the failed one rolled back, and the marker says so.
	if count("users") != 2 || count("license_customers") != 2 || count("license_keys") != 0 || count("license_activations") != 0 {
		t.Fatalf("after the failure: users %d, customers %d, keys %d", count("users"), count("license_customers"), count("license_keys"))
	}
	if count("settings WHERE name = '"+MarkerSetting+"'") != 1 {
		t.Fatal("no marker after a failed copy")
	}
	// A row of another table half-copied by hand does not get in the way either: the run starts over.
	if _, err := conn.Exec(ctx, `INSERT INTO license_keys (global_id, product_id, id, key, created_at) OVERRIDING SYSTEM VALUE
		VALUES (11, 7, 1, 'AAAAA-BBBBB', now())`); err != nil {
		t.Fatal(err)
	}
	rep, err := Copy(ctx, src, dsn, Options{Now: now})
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if !rep.Resumed {
		t.Error("second run did not say it resumed")
	}
	checkReport(t, rep)
	if count("settings WHERE name = '"+MarkerSetting+"'") != 0 {
		t.Error("marker left after a finished copy")
	}
	// A finished copy is not redone without --force.
	if _, err := Copy(ctx, src, dsn, Options{Now: now}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("third run: %v", err)
	}
}

func TestCopyRefusesUnknownTable(t *testing.T) {
	ctx := context.Background()
	src := seed(t)
	dsn := pgtest.Schema(t)
	if _, err := rawSQLite(t, src).Exec(`CREATE TABLE forgotten (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	_, err := Copy(ctx, src, dsn, Options{Now: now})
	if err == nil || !strings.Contains(err.Error(), "forgotten") {
		t.Fatalf("copy of a schema with a table not in Tables: %v", err)
	}
	if n := countRows(t, pgConn(t, dsn), "users"); n != 0 {
		t.Errorf("%d users copied before the refusal", n)
	}
}

func TestCopyRefusesTextPostgresCannotHold(t *testing.T) {
	ctx := context.Background()
	src := seed(t)
	dsn := pgtest.Schema(t)
	if _, err := rawSQLite(t, src).Exec(`UPDATE audit_events SET detail = 'a' || char(0) || 'b' WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	_, err := Copy(ctx, src, dsn, Options{Now: now})
	if err == nil || !strings.Contains(err.Error(), "copying audit_events") || !strings.Contains(err.Error(), "column detail of row 2") {
		t.Fatalf("copy of text with a NUL: %v", err)
	}
}

func pgConn(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	u := strings.Replace(dsn, "pool_max_conns", "x_unused", 1)
	conn, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func countRows(t *testing.T, conn *pgx.Conn, table string) (n int) {
	t.Helper()
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCopyRefusesAnotherServerKey(t *testing.T) {
	src := seed(t)
	dsn := pgtest.Schema(t)
	_, err := Copy(context.Background(), src, dsn, Options{Now: now, Fingerprint: "fp-of-another-key"})
	if !errors.Is(err, ErrWrongKey) {
		t.Fatalf("copy with another key: %v", err)
	}
	if n := countRows(t, pgConn(t, dsn), "users"); n != 0 {
		t.Errorf("%d users copied before the refusal", n)
	}
	if _, err := Copy(context.Background(), src, dsn, Options{Now: now, Fingerprint: "fp-of-the-key"}); err != nil {
		t.Fatalf("copy with the source's key: %v", err)
	}
}
