package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"github.com/tokenmanager/tokenmanager/admin"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/appauth"
	"github.com/tokenmanager/tokenmanager/audit"
	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/clusterlimit"
	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/license"
	licwoo "github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/session"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/cached"
	"github.com/tokenmanager/tokenmanager/storage/postgres"
	"github.com/tokenmanager/tokenmanager/token"
	"github.com/tokenmanager/tokenmanager/usage"
)

var serveCommand = &command{
	name: "serve", args: "[flags]", setup: serveSetup,
	short: "run the token service",
	long: `Every flag also reads TOKENMANAGER_<FLAG> and, with --config, a file of name = value lines;
'tokenmanager config print' shows the result.

examples:
  tokenmanager serve                                   # http://127.0.0.1:8080, SQLite and key in ./data
  tokenmanager serve --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem --redirect-http 0.0.0.0:8080
  tokenmanager serve --cors-origins https://app.example.com --cookie-samesite none --tls-cert c.pem --tls-key k.pem
  tokenmanager serve --config /etc/tokenmanager/tokenmanager.conf --data-dir /var/lib/tokenmanager
  TOKENMANAGER_DB=postgres://tm@db:5432/tm TOKENMANAGER_KEY_FILE=/etc/tokenmanager/server.key tokenmanager serve  # a cluster node`,
}

func serveSetup(fs *flag.FlagSet) runFunc {
	f := new(serveFlags)
	f.register(fs)
	return func(ctx context.Context, inv *invocation) error {
		cfg, err := f.check()
		if err != nil {
			return err
		}
		log := slog.New(slog.NewJSONHandler(inv.stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
		tuneGC()
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		// Listen before anything is created: a busy port must not leave a data directory, a server key and an
		// admin password behind on a machine where the user then starts it elsewhere.
		ln, err := listenMain(f.listen)
		if err != nil {
			return err
		}
		st, err := f.buildStack(ctx, cfg, log, inv.stderr)
		if err != nil {
			ln.Close()
			return err
		}
		defer st.close()
		return f.runListeners(ctx, cfg, st, ln, log)
	}
}

// serveConfig is what serve's flags say, checked and parsed.
type serveConfig struct {
	logLevel   slog.Level
	proxies    []netip.Prefix
	origins    []string
	sameSite   http.SameSite
	tls        *tls.Config // nil: plain HTTP
	throttle   auth.ThrottleConfig
	signLimits server.SignLimits
}

// check checks the flags that need no database and parses those that are more than a value.
func (f *serveFlags) check() (serveConfig, error) {
	var cfg serveConfig
	var err error
	if f.wooTokenLifetime <= 0 {
		return cfg, errors.New("--woo-token-lifetime must be positive")
	}
	if f.maxConns <= 0 {
		return cfg, errors.New("--max-connections must be positive")
	}
	if f.maxBodyMemory <= 0 || f.maxBodyMemory < f.maxBody {
		return cfg, fmt.Errorf("--max-body-memory (%d) must be at least --max-body-bytes (%d)", f.maxBodyMemory, f.maxBody)
	}
	switch f.sessionCookie {
	case "required", "lenient":
	default:
		return cfg, fmt.Errorf("--session-cookie must be required or lenient, not %q", f.sessionCookie)
	}
	if err := cfg.logLevel.UnmarshalText([]byte(f.logLevel)); err != nil {
		return cfg, fmt.Errorf("--log-level: %w", err)
	}
	if cfg.proxies, err = parsePrefixes(f.trustedProxies); err != nil {
		return cfg, fmt.Errorf("--trusted-proxies: %w", err)
	}
	if cfg.origins, err = server.ParseOrigins(f.corsOrigins); err != nil {
		return cfg, fmt.Errorf("--cors-origins: %w", err)
	}
	if cfg.sameSite, err = parseSameSite(f.cookieSameSite); err != nil {
		return cfg, err
	}
	if cfg.tls, err = loadTLS(f.tlsCert, f.tlsKey); err != nil {
		return cfg, err
	}
	if cfg.tls == nil && (f.redirectHTTP != "" || f.hstsMaxAge > 0) {
		return cfg, errors.New("--redirect-http and --hsts-max-age need --tls-cert and --tls-key")
	}
	if cfg.sameSite == http.SameSiteNoneMode && cfg.tls == nil && !f.secureCookies {
		return cfg, errors.New("--cookie-samesite none needs HTTPS: give --tls-cert and --tls-key, or --secure-cookies behind a TLS-terminating proxy")
	}
	if cfg.throttle.AccountBurst, cfg.throttle.AccountEvery, err = parseBurst(f.throttleAccount); err != nil {
		return cfg, fmt.Errorf("--throttle-account: %w", err)
	}
	if cfg.throttle.AddressBurst, cfg.throttle.AddressEvery, err = parseBurst(f.throttleAddress); err != nil {
		return cfg, fmt.Errorf("--throttle-address: %w", err)
	}
	if cfg.signLimits.Token.Burst, cfg.signLimits.Token.Every, err = parseBurst(f.signLimitToken); err != nil {
		return cfg, fmt.Errorf("--sign-limit-token: %w", err)
	}
	if cfg.signLimits.Address.Burst, cfg.signLimits.Address.Every, err = parseBurst(f.signLimitAddress); err != nil {
		return cfg, fmt.Errorf("--sign-limit-address: %w", err)
	}
	return cfg, nil
}

// stack is the service built over the database: the HTTP handler and what the background jobs work on.
type stack struct {
	handler *server.Server
	store   storage.Store
	tokens  *token.Service
	clients *apiclient.Service
	pa      *powerauth.Service
	appAuth *appauth.Service
	keys    *keys.Set // the server key, with the other key during a rotation
	license *license.Service
	closers []func() // in the order to run them
}

func (st *stack) close() {
	for _, c := range st.closers {
		c()
	}
}

// buildStack opens the database (behind the cache), checks the server key, creates admin on an empty database,
// and builds every service and the handler over them.
func (f *serveFlags) buildStack(ctx context.Context, cfg serveConfig, log *slog.Logger, stderr io.Writer) (_ *stack, err error) {
	db, err := f.open(ctx)
	if err != nil {
		return nil, err
	}
	st := &stack{store: db, closers: []func(){func() { db.Close() }}}
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	if f.cacheTTL > 0 {
		if f.cacheSync <= 0 {
			return nil, errors.New("--cache-sync-interval must be positive (or switch the cache off with --cache-ttl 0)")
		}
		c := cached.New(db, cached.Options{TTL: f.cacheTTL, Log: log})
		if err := c.Sync(ctx); err != nil {
			return nil, err
		}
		go c.Run(ctx, f.cacheSync)
		st.store = c
	}
	store := st.store
	set, err := f.checkedServerKeys(ctx, db, stderr)
	if err != nil {
		return nil, fmt.Errorf("refusing to start: %w", err)
	}
	st.keys = set
	master := set.Active()
	authn := auth.New(store, auth.Options{CacheKey: keys.Derive(master, keys.PurposeCredentialCache), CacheTTL: f.credCacheTTL, HashConcurrency: f.signInHashing})
	if err := bootstrapAdmin(ctx, store, authn.Params(), f.dataDir, log); err != nil {
		return nil, err
	}
	sessions := session.NewManager(store, session.Config{
		IdleTimeout: f.idleTimeout, MaxLifetime: f.sessionLifetime, TouchInterval: f.touchInterval}, nil)
	st.tokens = token.NewService(nil, store, sessions, token.Config{
		MaxLifetime: f.maxTokenLifetime, CheckHost: f.hostCheck, TouchInterval: f.touchInterval,
		SessionCookieLenient: f.sessionCookie == "lenient"}, nil)
	if err := st.tokens.UseKeyring(ctx, token.NewKeyringSet(store, set)); err != nil {
		return nil, err
	}
	shared := f.startLimitSync(ctx, st, log)
	cfg.throttle.Shared, cfg.signLimits.Shared = shared, shared
	var nonces auth.NonceStore
	if shared != nil {
		nonces = db // WS-Security nonces: one record for the cluster, written past the cache
	}
	oauthDeps, clients, err := f.oauth.deps(ctx, store, set, shared)
	if err != nil {
		return nil, err
	}
	pa, err := f.pa.service(store, set)
	if err != nil {
		return nil, err
	}
	st.clients, st.pa = clients, pa
	recorder := audit.New(store, audit.Options{Log: log})
	// The web API log is written on every licensing call: in batches, as the audit log.
	calls := audit.NewBatcher("web API log", store.AppendWebAPILog, nil, audit.Options{Log: log})
	// Closed after the HTTP server has drained (and before the database): write what is still buffered.
	st.closers = append([]func(){calls.Close, recorder.Close}, st.closers...)
	counter := f.startUsage(ctx, st, log)
	licenses := license.New(store, set.SealerFor(keys.PurposeLicenseSigningKeys),
		license.Options{Passwords: authn, Audit: recorder, CallLog: calls, Activated: counter.Activated})
	st.license = licenses
	woo := licwoo.New(licenses, store, licwoo.Options{TokenLifetime: f.wooTokenLifetime, Shared: shared})
	st.appAuth = appauth.New(store, licenses, appauth.Options{})
	st.handler = server.New(server.Config{
		MaxBodyBytes: f.maxBody, MaxBodyMemory: f.maxBodyMemory, TrustedProxies: cfg.proxies, MaxTokenLifetime: f.maxTokenLifetime,
		SecureCookies: f.secureCookies, CookieSameSite: cfg.sameSite, CORSOrigins: cfg.origins, SignLimits: &cfg.signLimits,
		MetricsElsewhere: f.metricsAddr != "",
	}, server.Deps{Auth: authn, Tokens: st.tokens, Sessions: sessions, Probe: store, Admin: store, Log: log, Throttle: auth.NewThrottle(cfg.throttle),
		Audit: recorder, OAuth: oauthDeps, PowerAuth: pa,
		Digest:  auth.NewDigestVerifier(store, set.SealerFor(keys.PurposeSeal), auth.DigestOptions{Nonces: nonces}),
		License: licenses, Woo: woo, AppAuth: server.AppAuthDeps{Service: st.appAuth, CSRFKeys: csrfKeys(set)},
		Manage: server.ManageDeps{Admin: admin.New(store, recordTo(recorder), nil), Keyring: token.NewKeyringSet(store, set)},
		Usage:  counter, History: store})
	return st, nil
}

// startLimitSync starts sharing the limits' counts through the database when it is PostgreSQL (nodes may be
// several) and --limit-sync-interval is not 0; nil otherwise: one SQLite node limits in memory alone. The sync
// stops, after a last write, before the database closes.
func (f *serveFlags) startLimitSync(ctx context.Context, st *stack, log *slog.Logger) *clusterlimit.Sync {
	if !postgres.IsDSN(f.db) || f.limitSync <= 0 {
		return nil
	}
	s := clusterlimit.New(st.store, clusterlimit.Options{Interval: f.limitSync, Log: log})
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	st.closers = append([]func(){func() { cancel(); <-done }}, st.closers...)
	return s
}

// startUsage starts the usage history's counter: it flushes every minute and as each hour ends, prunes the
// hours older than --usage-retention, and flushes a last time after the HTTP server has drained and before the
// database closes.
func (f *serveFlags) startUsage(ctx context.Context, st *stack, log *slog.Logger) *usage.Counter {
	retention := f.usageRetention
	if retention == 0 {
		retention = -1 // 0 = forever, as the other retentions
	}
	c := usage.New(st.store, usage.Options{Log: log, Retention: retention})
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx)
	}()
	st.closers = append([]func(){func() { cancel(); <-done }}, st.closers...)
	return c
}

// runListeners serves the stack on --listen (and --redirect-http, --metrics-addr, --pprof-addr), runs the
// background jobs, and shuts down gracefully when ctx ends.
func (f *serveFlags) runListeners(ctx context.Context, cfg serveConfig, st *stack, ln net.Listener, log *slog.Logger) error {
	ln = limitListen(ln, f.maxConns)
	var h http.Handler = st.handler
	if f.hstsMaxAge > 0 {
		h = hsts(h, f.hstsMaxAge)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: f.readHeaderTimeout,
		ReadTimeout:       f.readTimeout,
		WriteTimeout:      f.writeTimeout,
		IdleTimeout:       f.httpIdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		TLSConfig:         cfg.tls,
	}
	closeSide, err := f.listenSide(ln.Addr(), srv, st, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer closeSide()
	if f.addrFile != "" {
		if err := os.WriteFile(f.addrFile, []byte(ln.Addr().String()), 0o644); err != nil {
			ln.Close()
			return err
		}
	}
	log.Info("listening", "addr", ln.Addr().String(), "tls", cfg.tls != nil, "db", maskDSN(f.db), "host_check", f.hostCheck,
		"idle_timeout", f.idleTimeout.String(), "max_token_lifetime", f.maxTokenLifetime.String(),
		"cookie_samesite", f.cookieSameSite, "cors_origins", cfg.origins, "max_connections", f.maxConns)

	// Background jobs, each safe to run on every node at once.
	go every(ctx, keyReloadInterval, log, "token key reload", func(ctx context.Context) error { return st.tokens.Reload(ctx) })
	go f.followServerKey(ctx, st, log)
	go every(ctx, f.gcInterval, log, "garbage collection", func(ctx context.Context) error {
		return collectGarbage(ctx, st.tokens, st.store, st.clients, st.pa, st.appAuth, f.auditRetention, log)
	})
	go every(ctx, f.gcInterval, log, "licensing activity pruning", func(ctx context.Context) error {
		n, err := st.license.PruneActivity(ctx, f.licenseLogRetention, f.licenseLogMaxRows)
		if n > 0 {
			log.Info("garbage collected", "license_activity", n)
		}
		return err
	})
	errc := make(chan error, 1)
	go func() {
		if cfg.tls != nil {
			errc <- srv.ServeTLS(ln, "", "") // the certificate is already in TLSConfig
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// listenMain binds --listen, saying plainly what to do when the address is taken.
func listenMain(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("cannot listen on %s: the address is already in use (another tokenmanager, or another "+
			"service, is there); stop it or choose another address with --listen; nothing was created", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s (--listen): %w; nothing was created", addr, err)
	}
	return ln, nil
}

// listenSide starts the listeners beside the main one: --redirect-http, --metrics-addr and --pprof-addr. The
// returned function closes them.
func (f *serveFlags) listenSide(addr net.Addr, main *http.Server, st *stack, log *slog.Logger) (_ func(), err error) {
	var servers []*http.Server
	closeAll := func() {
		for _, s := range servers {
			s.Close()
		}
	}
	defer func() {
		if err != nil {
			closeAll()
		}
	}()
	if f.redirectHTTP != "" {
		redirect, err := listenRedirect(f.redirectHTTP, addr, main, log)
		if err != nil {
			return nil, fmt.Errorf("--redirect-http: %w", err)
		}
		servers = append(servers, redirect)
		log.Info("redirecting plain HTTP to HTTPS", "addr", f.redirectHTTP)
	}
	if f.metricsAddr != "" {
		ms, maddr, err := listenMetrics(f.metricsAddr, st.handler.MetricsHandler(), log)
		if err != nil {
			return nil, fmt.Errorf("--metrics-addr: %w", err)
		}
		servers = append(servers, ms)
		log.Info("serving metrics", "addr", maddr.String())
	}
	if f.pprofAddr != "" {
		ps, paddr, err := listenPprof(f.pprofAddr, log)
		if err != nil {
			return nil, fmt.Errorf("--pprof-addr: %w", err)
		}
		servers = append(servers, ps)
		log.Info("serving profiles", "addr", paddr.String())
	}
	return closeAll, nil
}

// serveInBackground serves srv on ln until srv is closed, logging why it stopped otherwise.
func serveInBackground(srv *http.Server, ln net.Listener, log *slog.Logger, what string) {
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(what+" stopped serving", "err", err)
		}
	}()
}

// tuneGC sets the garbage collector for a server whose live heap is small (tens of MB) and whose requests
// allocate briskly: Go's default (GOGC=100) then collects several hundred times a second, which measured 20% of
// the token-issuing throughput (make bench: 8,309 vs 10,717 SOAP tokens/s at GOGC=400). A soft memory limit keeps
// the larger headroom from growing the heap past 128 MiB under bursts of sign-ins (argon2id's 19 MiB each), which
// measured 263 MB of RSS with a 256 MiB limit; near the limit the collector runs more often instead. The caches at their
// bounds hold well under it. GOGC and GOMEMLIMIT in the environment take precedence, as for any Go program.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(128 << 20)
	}
}

// every runs job every interval until ctx ends (never when interval <= 0), logging its failures as name.
func every(ctx context.Context, interval time.Duration, log *slog.Logger, name string, job func(context.Context) error) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := job(ctx); err != nil && ctx.Err() == nil {
				log.Warn(name, "err", err)
			}
		}
	}
}

// collectGarbage deletes, in batches, what can never be used again: expired and revoked tokens of every kind,
// dead sessions, PowerAuth nonces past their window, and audit events older than the retention.
func collectGarbage(ctx context.Context, tokens *token.Service, store storage.Store, clients *apiclient.Service,
	pa *powerauth.Service, appAuth *appauth.Service, auditRetention time.Duration, log *slog.Logger) error {
	nt, ns, err := tokens.CollectGarbage(ctx, store, 1000)
	na, aerr := clients.CollectGarbage(ctx, 1000)
	nn, perr := pa.CollectGarbage(ctx, 1000)
	nap, aperr := appAuth.CollectGarbage(ctx, 1000)
	nch, cherr := store.DeleteChanges(ctx, time.Now().Add(-changeRetention), 10_000)
	nlc, lcerr := store.DeleteLimitCounts(ctx, time.Now(), 10_000)
	nwn, wnerr := store.DeleteWSSENonces(ctx, time.Now(), 10_000)
	var nau int
	for auditRetention > 0 && ctx.Err() == nil {
		n, derr := store.DeleteAudit(ctx, time.Now().Add(-auditRetention), 1000)
		if nau += n; derr != nil || n < 1000 {
			err = errors.Join(err, derr)
			break
		}
	}
	if nt+ns+na+nn+nau+nap > 0 {
		log.Info("garbage collected", "tokens", nt, "sessions", ns, "access_tokens", na, "powerauth_nonces", nn, "audit_events", nau,
			"app_authorizations", nap)
	}
	if nch+nlc+nwn > 0 {
		log.Debug("garbage collected", "cache_changes", nch, "limit_counters", nlc, "wsse_nonces", nwn)
	}
	return errors.Join(err, aerr, perr, aperr, cherr, lcerr, wnerr)
}

// changeRetention is how long the cache change feed keeps a change: far longer than any node goes without
// reading it (a node that does drops its whole cache, see cached.Options.MaxLag).
const changeRetention = 10 * time.Minute

// keyReloadInterval is how soon a node mints with a key rotated elsewhere. Tokens of a new key are accepted at
// once anyway: an unknown key id makes a node reload on the spot.
const keyReloadInterval = 30 * time.Second

// adminPasswordFile is where serve writes the password it generates for admin, in the data directory.
const adminPasswordFile = "admin.password"

// bootstrapAdmin creates the admin user on a database with no users: with TOKENMANAGER_ADMIN_PASSWORD, or with
// a generated password written to DATA_DIR/admin.password (mode 0600). The log says where, never the password
// itself: logs are collected (journald, container logs) and read by more people than the data directory.
func bootstrapAdmin(ctx context.Context, store storage.Store, params auth.Params, dataDir string, log *slog.Logger) error {
	n, err := store.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	password, generated := os.Getenv(envPrefix+"ADMIN_PASSWORD"), false
	if password == "" {
		password, generated = rand.Text(), true
	} else if err := auth.CheckPassword(password); err != nil {
		return fmt.Errorf("%sADMIN_PASSWORD: %w", envPrefix, err)
	}
	hash, err := auth.HashPassword(password, params)
	if err != nil {
		return err
	}
	file := filepath.Join(dataDir, adminPasswordFile)
	if generated {
		if err := writePrivateFile(file, []byte(password+"\n")); err != nil {
			return fmt.Errorf("writing the generated admin password: %w", err)
		}
	}
	now := time.Now()
	err = auth.CreateUser(ctx, store, storage.User{Name: "admin", PasswordHash: hash, Admin: true, CreatedAt: now, UpdatedAt: now})
	if err != nil && generated {
		os.Remove(file)
	}
	if errors.Is(err, storage.ErrConflict) {
		return nil // another node created it first
	}
	if err != nil {
		return err
	}
	if generated {
		log.Warn("created user admin with a generated password; read it from the file, then change it with "+
			"'tokenmanager user passwd admin --password-stdin', which deletes the file", "password_file", file)
	}
	return nil
}

// writePrivateFile writes data to a new file at path readable by the owner only, whatever the umask, replacing
// what was there (without following a symbolic link put in its place).
func writePrivateFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// hsts tells browsers to use HTTPS only, for maxAge.
func hsts(h http.Handler, maxAge time.Duration) http.Handler {
	v := "max-age=" + strconv.Itoa(int(maxAge.Seconds()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", v)
		h.ServeHTTP(w, r)
	})
}

// listenRedirect answers plain HTTP on addr with a permanent redirect to the same path on the HTTPS listener
// (308 keeps a POST a POST), using main's timeouts. It serves until closed.
func listenRedirect(addr string, tlsAddr net.Addr, main *http.Server, log *slog.Logger) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	_, tlsPort, _ := net.SplitHostPort(tlsAddr.String())
	srv := &http.Server{
		ReadHeaderTimeout: main.ReadHeaderTimeout, ReadTimeout: main.ReadTimeout, WriteTimeout: main.WriteTimeout,
		IdleTimeout: main.IdleTimeout, MaxHeaderBytes: main.MaxHeaderBytes, ErrorLog: main.ErrorLog,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			host := r.Host
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			if host == "" {
				http.Error(w, "use HTTPS", http.StatusBadRequest)
				return
			}
			http.Redirect(w, r, "https://"+net.JoinHostPort(host, tlsPort)+r.URL.RequestURI(), http.StatusPermanentRedirect)
		}),
	}
	serveInBackground(srv, ln, log, "the HTTP redirect listener")
	return srv, nil
}

// parseBurst reads "BURST/INTERVAL" (10/30s); "0" switches throttling off.
func parseBurst(v string) (int, time.Duration, error) {
	if strings.TrimSpace(v) == "0" {
		return 0, 0, nil
	}
	b, e, ok := strings.Cut(v, "/")
	burst, err := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err != nil || burst <= 0 {
		return 0, 0, fmt.Errorf("%q: want BURST/INTERVAL, e.g. 10/30s, or 0", v)
	}
	every, err := time.ParseDuration(strings.TrimSpace(e))
	if err != nil || every <= 0 {
		return 0, 0, fmt.Errorf("%q: want BURST/INTERVAL, e.g. 10/30s, or 0", v)
	}
	return burst, every, nil
}

// burstString is a limit in parseBurst's form.
func burstString(l server.SignLimit) string { return fmt.Sprintf("%d/%v", l.Burst, l.Every) }

func parseSameSite(v string) (http.SameSite, error) {
	switch strings.ToLower(v) {
	case "lax", "":
		return http.SameSiteLaxMode, nil
	case "strict":
		return http.SameSiteStrictMode, nil
	case "none":
		return http.SameSiteNoneMode, nil
	}
	return 0, fmt.Errorf("--cookie-samesite %q: want lax, strict or none", v)
}

// loadTLS loads the certificate at start, so that a wrong path or a key that does not match fails the start
// rather than the first handshake. Neither file: plain HTTP (nil).
func loadTLS(certFile, keyFile string) (*tls.Config, error) {
	if certFile == "" && keyFile == "" {
		return nil, nil
	}
	if certFile == "" || keyFile == "" {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// recordTo is the admin core's audit over the server's recorder, which writes in batches and never fails the
// change it records.
func recordTo(rec *audit.Recorder) func(context.Context, storage.AuditEvent) error {
	return func(_ context.Context, e storage.AuditEvent) error {
		rec.Record(e)
		return nil
	}
}
