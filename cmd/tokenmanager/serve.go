package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
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
	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/license"
	licwoo "github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/session"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/storage/cached"
	"github.com/tokenmanager/tokenmanager/token"
)

type serveFlags struct {
	storeFlags
	listen           string
	addrFile         string
	trustedProxies   string
	hostCheck        bool
	idleTimeout      time.Duration
	sessionLifetime  time.Duration
	touchInterval    time.Duration
	maxTokenLifetime time.Duration
	maxBody          int64
	credCacheTTL     time.Duration
	signInHashing    int
	cacheTTL         time.Duration
	cacheSync        time.Duration
	gcInterval       time.Duration
	secureCookies    bool
	cookieSameSite   string
	corsOrigins      string
	tlsCert          string
	tlsKey           string
	throttleAccount  string
	throttleAddress  string
	signLimitToken   string
	signLimitAddress string
	logLevel         string
	pprofAddr        string
	metricsAddr      string
	maxConns         int
	maxBodyMemory    int64

	auditRetention    time.Duration
	redirectHTTP      string
	hstsMaxAge        time.Duration
	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	writeTimeout      time.Duration
	httpIdleTimeout   time.Duration

	oauth            oauthFlags
	pa               powerAuthFlags
	wooTokenLifetime time.Duration
}

// serveFlagSet declares serve's flags into f; `config print` uses the same set.
func serveFlagSet(f *serveFlags, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	f.pa.register(fs)
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&f.addrFile, "addr-file", "", "write the bound host:port here once listening (for tests and supervisors)")
	fs.StringVar(&f.trustedProxies, "trusted-proxies", "", "comma-separated CIDRs whose X-Forwarded-For/-Proto/-Host are believed")
	fs.BoolVar(&f.hostCheck, "host-check", true, "bind session tokens to the client host that obtained them")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", session.DefaultConfig.IdleTimeout, "a session and its tokens die after this long without use")
	fs.DurationVar(&f.sessionLifetime, "session-max-lifetime", session.DefaultConfig.MaxLifetime, "absolute cap on a session's life (0 = none)")
	fs.DurationVar(&f.touchInterval, "touch-interval", session.DefaultConfig.TouchInterval, "record session activity at most this often")
	fs.DurationVar(&f.maxTokenLifetime, "max-token-lifetime", 24*time.Hour, "longest lifetime a client may ask for; also the lifetime of open tokens (0 = unbounded, as Spectrum)")
	fs.Int64Var(&f.maxBody, "max-body-bytes", 1<<20, "largest request body accepted")
	fs.Int64Var(&f.maxBodyMemory, "max-body-memory", server.DefaultMaxBodyMemory, "bytes of request bodies read at once, all clients together; "+
		"a large body that does not fit within a second gets 503 (the first 16 KiB of each body are not counted)")
	fs.IntVar(&f.maxConns, "max-connections", 1024, "client connections served at once; more wait until one closes")
	fs.DurationVar(&f.credCacheTTL, "credential-cache-ttl", 5*time.Minute, "remember a verified password this long (0 = verify every time)")
	fs.IntVar(&f.signInHashing, "signin-hash-concurrency", 0, "password checks not answered from the credential cache (every wrong password is one) that may run at once (0: half the CPUs, at least 1)")
	fs.DurationVar(&f.cacheTTL, "cache-ttl", time.Second, "keep users, tokens and sessions read from the database in memory this long "+
		"(revocations still take effect at once; 0 = read the database on every check)")
	fs.DurationVar(&f.cacheSync, "cache-sync-interval", 100*time.Millisecond, "how often the cache reads the database's revocation feed: "+
		"the longest a revocation made by another node or by the CLI takes to reach this one")
	fs.DurationVar(&f.gcInterval, "gc-interval", 5*time.Minute, "how often expired tokens and sessions are deleted")
	fs.BoolVar(&f.secureCookies, "secure-cookies", false, "mark the SESSION cookie Secure even on plain HTTP (behind a TLS proxy)")
	fs.StringVar(&f.cookieSameSite, "cookie-samesite", "lax", "SameSite of the SESSION cookie: lax, strict or none (none: pages on other sites may "+
		"use the session; needs --tls-cert or --secure-cookies)")
	fs.StringVar(&f.corsOrigins, "cors-origins", "", "comma-separated origins (https://app.example.com) whose pages may call the service with credentials")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this PEM certificate (chain) file; needs --tls-key")
	fs.StringVar(&f.tlsKey, "tls-key", "", "the PEM private key of --tls-cert")
	fs.StringVar(&f.redirectHTTP, "redirect-http", "", "with --tls-cert: also listen here for plain HTTP and redirect every request to HTTPS")
	fs.DurationVar(&f.hstsMaxAge, "hsts-max-age", 0, "with --tls-cert: send Strict-Transport-Security with this max-age (0 = none)")
	fs.DurationVar(&f.readHeaderTimeout, "http-read-header-timeout", 10*time.Second, "time a client has to send the request headers (slow clients are cut off)")
	fs.DurationVar(&f.readTimeout, "http-read-timeout", 30*time.Second, "time a client has to send the whole request")
	fs.DurationVar(&f.writeTimeout, "http-write-timeout", 30*time.Second, "time to write a response")
	fs.DurationVar(&f.httpIdleTimeout, "http-idle-timeout", 2*time.Minute, "how long an idle keep-alive connection stays open")
	fs.StringVar(&f.throttleAccount, "throttle-account", "10/30s", "failed sign-ins allowed per account at once / then one more per interval (0: off)")
	fs.StringVar(&f.throttleAddress, "throttle-address", "50/3s", "failed sign-ins allowed per client address (IPv6: per /64) at once / then one more per interval (0: off)")
	fs.StringVar(&f.signLimitToken, "sign-limit-token", burstString(server.DefaultSignLimitToken), "signed licenses (Sign=true) per licensing access token (or vendor) at once / then one more per interval (0: off)")
	fs.StringVar(&f.signLimitAddress, "sign-limit-address", burstString(server.DefaultSignLimitAddress), "signed licenses (Sign=true) per client address (IPv6: per /64) at once / then one more per interval (0: off)")
	fs.DurationVar(&f.auditRetention, "audit-retention", 90*24*time.Hour, "keep audit events this long (0 = forever)")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "serve /metrics on this loopback host:port instead of on --listen (default: on --listen)")
	fs.StringVar(&f.pprofAddr, "pprof-addr", "", "serve Go runtime profiles (/debug/pprof/) on this loopback host:port (default: off)")
	fs.DurationVar(&f.wooTokenLifetime, "woo-token-lifetime", licwoo.DefaultTokenLifetime, "lifetime of the WooCommerce License Keys token endpoint's access tokens")
	f.oauth.register(fs)
	return fs
}

const serveUsage = `usage: tokenmanager serve [flags]

Runs the service. Every flag also reads TOKENMANAGER_<FLAG> and, with --config, a file of name = value lines;
'tokenmanager config print' shows the result.

examples:
  tokenmanager serve                                   # http://127.0.0.1:8080, SQLite and key in ./data
  tokenmanager serve --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem --redirect-http 0.0.0.0:8080
  tokenmanager serve --cors-origins https://app.example.com --cookie-samesite none --tls-cert c.pem --tls-key k.pem
  tokenmanager serve --config /etc/tokenmanager/tokenmanager.conf --data-dir /var/lib/tokenmanager
  TOKENMANAGER_DB=postgres://tm@db:5432/tm TOKENMANAGER_KEY_FILE=/etc/tokenmanager/server.key tokenmanager serve  # a cluster node

flags:`

func serve(args []string, stderr io.Writer) error {
	var f serveFlags
	fs := serveFlagSet(&f, stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, serveUsage); fs.PrintDefaults() }
	if _, err := parse(fs, args); err != nil {
		return err
	}

	if f.wooTokenLifetime <= 0 {
		return errors.New("--woo-token-lifetime must be positive")
	}
	if f.maxConns <= 0 {
		return errors.New("--max-connections must be positive")
	}
	if f.maxBodyMemory <= 0 || f.maxBodyMemory < f.maxBody {
		return fmt.Errorf("--max-body-memory (%d) must be at least --max-body-bytes (%d)", f.maxBodyMemory, f.maxBody)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	proxies, err := parsePrefixes(f.trustedProxies)
	if err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}

	origins, err := server.ParseOrigins(f.corsOrigins)
	if err != nil {
		return fmt.Errorf("--cors-origins: %w", err)
	}
	sameSite, err := parseSameSite(f.cookieSameSite)
	if err != nil {
		return err
	}
	tlsConfig, err := loadTLS(f.tlsCert, f.tlsKey)
	if err != nil {
		return err
	}
	if tlsConfig == nil && (f.redirectHTTP != "" || f.hstsMaxAge > 0) {
		return errors.New("--redirect-http and --hsts-max-age need --tls-cert and --tls-key")
	}
	if sameSite == http.SameSiteNoneMode && tlsConfig == nil && !f.secureCookies {
		return errors.New("--cookie-samesite none needs HTTPS: give --tls-cert and --tls-key, or --secure-cookies behind a TLS-terminating proxy")
	}

	var throttle auth.ThrottleConfig
	if throttle.AccountBurst, throttle.AccountEvery, err = parseBurst(f.throttleAccount); err != nil {
		return fmt.Errorf("--throttle-account: %w", err)
	}
	if throttle.AddressBurst, throttle.AddressEvery, err = parseBurst(f.throttleAddress); err != nil {
		return fmt.Errorf("--throttle-address: %w", err)
	}

	var signLimits server.SignLimits
	if signLimits.Token.Burst, signLimits.Token.Every, err = parseBurst(f.signLimitToken); err != nil {
		return fmt.Errorf("--sign-limit-token: %w", err)
	}
	if signLimits.Address.Burst, signLimits.Address.Every, err = parseBurst(f.signLimitAddress); err != nil {
		return fmt.Errorf("--sign-limit-address: %w", err)
	}

	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	db, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	store := db
	if f.cacheTTL > 0 {
		if f.cacheSync <= 0 {
			return errors.New("--cache-sync-interval must be positive (or switch the cache off with --cache-ttl 0)")
		}
		c := cached.New(db, cached.Options{TTL: f.cacheTTL, Log: log})
		if err := c.Sync(ctx); err != nil {
			return err
		}
		go c.Run(ctx, f.cacheSync)
		store = c
	}
	master, err := f.checkedServerKey(ctx, db, stderr)
	if err != nil {
		return fmt.Errorf("refusing to start: %w", err)
	}
	authn := auth.New(store, auth.Options{CacheKey: keys.Derive(master, keys.PurposeCredentialCache), CacheTTL: f.credCacheTTL, HashConcurrency: f.signInHashing})
	if err := bootstrapAdmin(ctx, store, authn.Params(), f.dataDir, log); err != nil {
		return err
	}
	sessions := session.NewManager(store, session.Config{
		IdleTimeout: f.idleTimeout, MaxLifetime: f.sessionLifetime, TouchInterval: f.touchInterval}, nil)
	tokens := token.NewService(nil, store, sessions, token.Config{
		MaxLifetime: f.maxTokenLifetime, CheckHost: f.hostCheck, TouchInterval: f.touchInterval}, nil)
	if err := tokens.UseKeyring(ctx, token.NewKeyring(store, master)); err != nil {
		return err
	}
	oauthDeps, clients, err := f.oauth.deps(store)
	if err != nil {
		return err
	}
	pa, err := f.pa.service(store, master)
	if err != nil {
		return err
	}
	licenses := license.New(store, keys.NewSealerFor(master, keys.PurposeLicenseSigningKeys), license.Options{})
	woo := licwoo.New(licenses, store, licwoo.Options{TokenLifetime: f.wooTokenLifetime})
	appAuth := appauth.New(store, licenses, appauth.Options{})
	recorder := audit.New(store, audit.Options{Log: log})
	defer recorder.Close() // runs after the HTTP server has drained: writes what is still buffered
	handler := server.New(server.Config{
		MaxBodyBytes: f.maxBody, MaxBodyMemory: f.maxBodyMemory, TrustedProxies: proxies, MaxTokenLifetime: f.maxTokenLifetime,
		SecureCookies: f.secureCookies, CookieSameSite: sameSite, CORSOrigins: origins, SignLimits: &signLimits,
		MetricsElsewhere: f.metricsAddr != "",
	}, server.Deps{Auth: authn, Tokens: tokens, Sessions: sessions, Probe: store, Admin: store, Log: log, Throttle: auth.NewThrottle(throttle), Audit: recorder, OAuth: oauthDeps, PowerAuth: pa,
		Digest:  auth.NewDigestVerifier(store, keys.NewSealer(master), auth.DigestOptions{}),
		License: licenses, Woo: woo, AppAuth: server.AppAuthDeps{Service: appAuth, CSRFKey: keys.Derive(master, keys.PurposeCSRF)}})

	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return err
	}
	ln = limitListen(ln, f.maxConns)
	var h http.Handler = handler
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
		TLSConfig:         tlsConfig,
	}
	if f.redirectHTTP != "" {
		redirect, err := listenRedirect(f.redirectHTTP, ln.Addr(), srv)
		if err != nil {
			ln.Close()
			return fmt.Errorf("--redirect-http: %w", err)
		}
		defer redirect.Close()
		log.Info("redirecting plain HTTP to HTTPS", "addr", f.redirectHTTP)
	}
	if f.addrFile != "" {
		if err := os.WriteFile(f.addrFile, []byte(ln.Addr().String()), 0o644); err != nil {
			ln.Close()
			return err
		}
	}
	if f.metricsAddr != "" {
		ms, maddr, err := listenMetrics(f.metricsAddr, handler.MetricsHandler())
		if err != nil {
			ln.Close()
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		defer ms.Close()
		log.Info("serving metrics", "addr", maddr.String())
	}
	if f.pprofAddr != "" {
		ps, paddr, err := listenPprof(f.pprofAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("--pprof-addr: %w", err)
		}
		defer ps.Close()
		log.Info("serving profiles", "addr", paddr.String())
	}
	log.Info("listening", "addr", ln.Addr().String(), "tls", tlsConfig != nil, "db", maskDSN(f.db), "host_check", f.hostCheck,
		"idle_timeout", f.idleTimeout.String(), "max_token_lifetime", f.maxTokenLifetime.String(),
		"cookie_samesite", f.cookieSameSite, "cors_origins", origins, "max_connections", f.maxConns)

	// Background jobs, each safe to run on every node at once.
	go every(ctx, keyReloadInterval, log, "token key reload", func(ctx context.Context) error { return tokens.Reload(ctx) })
	go every(ctx, f.gcInterval, log, "garbage collection", func(ctx context.Context) error {
		return collectGarbage(ctx, tokens, store, clients, pa, appAuth, f.auditRetention, log)
	})
	errc := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
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
	if nch > 0 {
		log.Debug("garbage collected", "cache_changes", nch)
	}
	return errors.Join(err, aerr, perr, aperr, cherr)
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
func listenRedirect(addr string, tlsAddr net.Addr, main *http.Server) (*http.Server, error) {
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
	go srv.Serve(ln)
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
