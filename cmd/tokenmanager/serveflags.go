package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/clusterlimit"
	"github.com/tokenmanager/tokenmanager/keys"
	licwoo "github.com/tokenmanager/tokenmanager/license/woo"
	"github.com/tokenmanager/tokenmanager/powerauth"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/session"
	"github.com/tokenmanager/tokenmanager/storage"
	"github.com/tokenmanager/tokenmanager/usage"
)

// serve's flags, which config print shows the effect of.

type serveFlags struct {
	storeFlags
	listen           string
	addrFile         string
	trustedProxies   string
	hostCheck        bool
	sessionCookie    string
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
	keyCheck         time.Duration // how often the database's server key fingerprint is read (server key rotation)
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

	// The licensing web API log and registered events: how long they are kept, and at most how many rows of each.
	licenseLogRetention time.Duration
	usageRetention      time.Duration // the usage history's (package usage)
	licenseLogMaxRows   int
	// Cluster-wide limits (PostgreSQL).
	limitSync time.Duration
}

// register declares serve's flags into fs; `config print` declares the same.
func (f *serveFlags) register(fs *flag.FlagSet) {
	f.storeFlags.register(fs)
	f.pa.register(fs)
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&f.addrFile, "addr-file", "", "write the bound host:port here once listening (for tests and supervisors)")
	fs.StringVar(&f.trustedProxies, "trusted-proxies", "", "comma-separated CIDRs whose X-Forwarded-For/-Proto/-Host are believed")
	fs.BoolVar(&f.hostCheck, "host-check", true, "bind session tokens to the client host that obtained them")
	fs.StringVar(&f.sessionCookie, "session-cookie", "required", "required: session tokens need their SESSION cookie; "+
		"lenient: without it (or with SESSION=null) they are accepted from the host that obtained them, as Precisely's own clients send them")
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
	fs.DurationVar(&f.keyCheck, "key-check-interval", 5*time.Second, "how often a node reads which server key the database "+
		"uses, to seal with the new one soon after 'tokenmanager serverkey rotate' (SIGHUP re-reads --key-file and --previous-key-file)")
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
	fs.DurationVar(&f.licenseLogRetention, "license-log-retention", 30*24*time.Hour, "keep the licensing web API log and registered events this long (0 = forever)")
	fs.IntVar(&f.licenseLogMaxRows, "license-log-max-rows", 1_000_000, "keep at most this many of the newest web API log entries, and of registered events (0 = no cap)")
	fs.DurationVar(&f.usageRetention, "usage-retention", usage.DefaultRetention, "keep the usage history (tokens issued, activations per hour) this long (0 = forever)")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "serve /metrics on this loopback host:port instead of on --listen (default: on --listen)")
	fs.StringVar(&f.pprofAddr, "pprof-addr", "", "serve Go runtime profiles (/debug/pprof/) on this loopback host:port (default: off)")
	fs.DurationVar(&f.wooTokenLifetime, "woo-token-lifetime", licwoo.DefaultTokenLifetime, "lifetime of the WooCommerce License Keys token endpoint's access tokens")
	f.oauth.register(fs)
	fs.DurationVar(&f.limitSync, "limit-sync-interval", clusterlimit.DefaultInterval, "on PostgreSQL, how often each node shares its "+
		"sign-in throttle, rate limit and signing limit counts with the others through the database (0: each node limits on its own)")
}

// oauthFlags configure the API-client surface (OAuth 2.0 client credentials, SkyKick style).
type oauthFlags struct {
	rateInterval time.Duration
	rateBurst    int
	issuer       string
	tokenFormat  string
	jwtAlg       string
	jwtAudience  string
}

func (f *oauthFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&f.rateInterval, "client-rate-interval", time.Minute,
		"API clients get one more access token per this interval beyond their burst (0 = no limit; cluster-wide on PostgreSQL)")
	fs.IntVar(&f.rateBurst, "client-rate-burst", 10, "access tokens an API client may obtain in a burst")
	fs.StringVar(&f.issuer, "oauth-issuer", "",
		"OAuth issuer URL for the RFC 8414 metadata (https, no query; default: derived from each request)")
	fs.StringVar(&f.tokenFormat, "oauth-token-format", apiclient.FormatOpaque,
		"access token format of API clients without one of their own: opaque (tmat_…) or jwt (RFC 9068, verifiable offline through /oauth2/jwks.json)")
	fs.StringVar(&f.jwtAlg, "oauth-jwt-alg", apiclient.AlgES256, "algorithm of new JWT signing keys: ES256 or RS256")
	fs.StringVar(&f.jwtAudience, "oauth-jwt-audience", "", "aud claim of JWT access tokens (default: the issuer)")
}

func (f *oauthFlags) deps(ctx context.Context, store storage.Store, set *keys.Set, shared *clusterlimit.Sync) (server.OAuthDeps, *apiclient.Service, error) {
	if f.issuer != "" {
		if err := server.ValidIssuer(f.issuer); err != nil {
			return server.OAuthDeps{}, nil, fmt.Errorf("--oauth-issuer: %w", err)
		}
	}
	if f.rateInterval < 0 || f.rateBurst < 1 {
		return server.OAuthDeps{}, nil, fmt.Errorf("--client-rate-interval must be >= 0 and --client-rate-burst >= 1")
	}
	if f.tokenFormat != apiclient.FormatOpaque && f.tokenFormat != apiclient.FormatJWT {
		return server.OAuthDeps{}, nil, fmt.Errorf("--oauth-token-format %q: want opaque or jwt", f.tokenFormat)
	}
	if err := apiclient.ValidAlg(f.jwtAlg); err != nil {
		return server.OAuthDeps{}, nil, fmt.Errorf("--oauth-jwt-alg: %w", err)
	}
	if strings.ContainsFunc(f.jwtAudience, unicode.IsControl) {
		return server.OAuthDeps{}, nil, fmt.Errorf("--oauth-jwt-audience has control characters")
	}
	clients := apiclient.New(store, apiclient.Config{RateInterval: f.rateInterval, RateBurst: f.rateBurst, Shared: shared,
		DefaultFormat: f.tokenFormat, Signing: apiclient.NewSigningKeys(store, set.SealerFor(keys.PurposeOAuthSigningKeys), nil), SigningAlg: f.jwtAlg,
		Audience: f.jwtAudience}, nil)
	// The first signing key, made once for the database: a client switched to JWTs later needs no restart.
	if err := clients.EnsureSigningKey(ctx); err != nil {
		return server.OAuthDeps{}, nil, err
	}
	return server.OAuthDeps{Clients: clients, Issuer: f.issuer}, clients, nil
}

// powerAuthFlags are serve's PowerAuth settings: the accepted token timestamp window.
type powerAuthFlags struct {
	maxAge, maxFuture, maxFutureV32 time.Duration
}

func (f *powerAuthFlags) register(fs *flag.FlagSet) {
	d := powerauth.DefaultConfig
	fs.DurationVar(&f.maxAge, "powerauth-max-age", d.MaxAge,
		"oldest X-PowerAuth-Token timestamp accepted; every used nonce is remembered this long (PowerAuth: token.timestamp.validity)")
	fs.DurationVar(&f.maxFuture, "powerauth-max-future", d.MaxFuture,
		"how far ahead of our clock a token timestamp may be (PowerAuth: token.timestamp.forward.validity)")
	fs.DurationVar(&f.maxFutureV32, "powerauth-max-future-v32", d.MaxFutureV32,
		"the same for versions 3.2 and 3.3, whose clients synchronize their clock (PowerAuth: requestExpiration)")
}

// service builds the PowerAuth service over store, sealing secrets with a subkey of the server key.
func (f *powerAuthFlags) service(store storage.Store, set *keys.Set) (*powerauth.Service, error) {
	if f.maxAge <= 0 || f.maxFuture <= 0 || f.maxFutureV32 <= 0 {
		return nil, errors.New("--powerauth-max-age, --powerauth-max-future and --powerauth-max-future-v32 must be positive")
	}
	sealer := set.SealerWith(func(master []byte) []byte { return keys.Derive(powerauth.SecretKey(master), keys.PurposeSeal) })
	cfg := powerauth.Config{MaxAge: f.maxAge, MaxFuture: f.maxFuture, MaxFutureV32: f.maxFutureV32}
	return powerauth.NewService(store, sealer, cfg, nil), nil
}
