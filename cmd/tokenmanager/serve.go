package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/keys"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/session"
	"github.com/tokenmanager/tokenmanager/storage"
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
	gcInterval       time.Duration
	secureCookies    bool
	logLevel         string
}

func serve(args []string, stderr io.Writer) error {
	var f serveFlags
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&f.addrFile, "addr-file", "", "write the bound host:port here once listening (for tests and supervisors)")
	fs.StringVar(&f.trustedProxies, "trusted-proxies", "", "comma-separated CIDRs whose X-Forwarded-For/-Proto/-Host are believed")
	fs.BoolVar(&f.hostCheck, "host-check", true, "bind session tokens to the client host that obtained them")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", session.DefaultConfig.IdleTimeout, "a session and its tokens die after this long without use")
	fs.DurationVar(&f.sessionLifetime, "session-max-lifetime", session.DefaultConfig.MaxLifetime, "absolute cap on a session's life (0 = none)")
	fs.DurationVar(&f.touchInterval, "touch-interval", session.DefaultConfig.TouchInterval, "record session activity at most this often")
	fs.DurationVar(&f.maxTokenLifetime, "max-token-lifetime", 24*time.Hour, "longest lifetime a client may ask for; also the lifetime of open tokens (0 = unbounded, as Spectrum)")
	fs.Int64Var(&f.maxBody, "max-body-bytes", 1<<20, "largest request body accepted")
	fs.DurationVar(&f.credCacheTTL, "credential-cache-ttl", 5*time.Minute, "remember a verified password this long (0 = verify every time)")
	fs.DurationVar(&f.gcInterval, "gc-interval", 5*time.Minute, "how often expired tokens and sessions are deleted")
	fs.BoolVar(&f.secureCookies, "secure-cookies", false, "mark the SESSION cookie Secure even on plain HTTP (behind a TLS proxy)")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	if _, err := parse(fs, args); err != nil {
		return err
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

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	store, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	master, err := f.serverKey(stderr)
	if err != nil {
		return err
	}
	authn := auth.New(store, auth.Options{CacheKey: keys.Derive(master, keys.PurposeCredentialCache), CacheTTL: f.credCacheTTL})
	if err := bootstrapAdmin(ctx, store, authn.Params(), stderr); err != nil {
		return err
	}
	codec, err := token.NewCodec(keys.Derive(master, keys.PurposeTokenEncryption))
	if err != nil {
		return err
	}
	sessions := session.NewManager(store, session.Config{
		IdleTimeout: f.idleTimeout, MaxLifetime: f.sessionLifetime, TouchInterval: f.touchInterval}, nil)
	tokens := token.NewService(codec, store, sessions, token.Config{
		MaxLifetime: f.maxTokenLifetime, CheckHost: f.hostCheck, TouchInterval: f.touchInterval}, nil)
	handler := server.New(server.Config{
		MaxBodyBytes: f.maxBody, TrustedProxies: proxies, MaxTokenLifetime: f.maxTokenLifetime, SecureCookies: f.secureCookies,
	}, server.Deps{Auth: authn, Tokens: tokens, Log: log,
		Digest:  auth.NewDigestVerifier(store, keys.NewSealer(master), auth.DigestOptions{}),
		License: license.New(store, keys.NewSealerFor(master, keys.PurposeLicenseSigningKeys), license.Options{})})

	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if f.addrFile != "" {
		if err := os.WriteFile(f.addrFile, []byte(ln.Addr().String()), 0o644); err != nil {
			ln.Close()
			return err
		}
	}
	log.Info("listening", "addr", ln.Addr().String(), "db", redactDSN(f.db), "host_check", f.hostCheck,
		"idle_timeout", f.idleTimeout.String(), "max_token_lifetime", f.maxTokenLifetime.String())

	go collectGarbage(ctx, tokens, store, f.gcInterval, log)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
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

func collectGarbage(ctx context.Context, tokens *token.Service, store storage.Store, every time.Duration, log *slog.Logger) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			nt, ns, err := tokens.CollectGarbage(ctx, store, 1000)
			if err != nil && ctx.Err() == nil {
				log.Warn("garbage collection", "err", err)
			}
			if nt+ns > 0 {
				log.Info("garbage collected", "tokens", nt, "sessions", ns)
			}
		}
	}
}

// bootstrapAdmin creates the admin user on a database with no users: with TOKENMANAGER_ADMIN_PASSWORD, or with
// a generated password printed once to stderr.
func bootstrapAdmin(ctx context.Context, store storage.Store, params auth.Params, stderr io.Writer) error {
	n, err := store.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	password, generated := os.Getenv(envPrefix+"ADMIN_PASSWORD"), false
	if password == "" {
		password, generated = rand.Text(), true
	}
	hash, err := auth.HashPassword(password, params)
	if err != nil {
		return err
	}
	now := time.Now()
	err = store.CreateUser(ctx, storage.User{Name: "admin", PasswordHash: hash, CreatedAt: now, UpdatedAt: now})
	if errors.Is(err, storage.ErrConflict) {
		return nil // another node created it first
	}
	if err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(stderr, "tokenmanager: created user admin with password %s (shown once; change it with 'tokenmanager user passwd admin --password-stdin')\n", password)
	}
	return nil
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
