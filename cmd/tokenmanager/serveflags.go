package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/tokenmanager/tokenmanager/apiclient"
	"github.com/tokenmanager/tokenmanager/server"
	"github.com/tokenmanager/tokenmanager/storage"
)

// oauthFlags configure the API-client surface (OAuth 2.0 client credentials, SkyKick style).
type oauthFlags struct {
	rateInterval time.Duration
	rateBurst    int
	issuer       string
}

func (f *oauthFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&f.rateInterval, "client-rate-interval", time.Minute,
		"API clients get one more access token per this interval beyond their burst (0 = no limit; per node)")
	fs.IntVar(&f.rateBurst, "client-rate-burst", 10, "access tokens an API client may obtain in a burst")
	fs.StringVar(&f.issuer, "oauth-issuer", "",
		"OAuth issuer URL for the RFC 8414 metadata (https, no query; default: derived from each request)")
}

func (f *oauthFlags) deps(store storage.Store) (server.OAuthDeps, *apiclient.Service, error) {
	if f.issuer != "" {
		if err := server.ValidIssuer(f.issuer); err != nil {
			return server.OAuthDeps{}, nil, fmt.Errorf("--oauth-issuer: %w", err)
		}
	}
	if f.rateInterval < 0 || f.rateBurst < 1 {
		return server.OAuthDeps{}, nil, fmt.Errorf("--client-rate-interval must be >= 0 and --client-rate-burst >= 1")
	}
	clients := apiclient.New(store, apiclient.Config{RateInterval: f.rateInterval, RateBurst: f.rateBurst}, nil)
	return server.OAuthDeps{Clients: clients, Issuer: f.issuer}, clients, nil
}
