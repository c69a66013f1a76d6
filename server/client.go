package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientInfo resolves who is asking and which URL they used. Forwarded headers are believed only when the
// direct peer is a configured trusted proxy; otherwise anyone could claim any address or host.
type clientInfo struct {
	trusted []netip.Prefix
}

func (c clientInfo) peerTrusted(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	addr := ap.Addr().Unmap()
	return addr, c.isTrusted(addr)
}

func (c clientInfo) isTrusted(a netip.Addr) bool {
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// host returns the client's address: the peer, or, behind trusted proxies, the right-most X-Forwarded-For
// entry that is not itself a trusted proxy.
func (c clientInfo) host(r *http.Request) string {
	peer, trusted := c.peerTrusted(r)
	if !peer.IsValid() {
		h, _, _ := net.SplitHostPort(r.RemoteAddr)
		return h
	}
	if trusted {
		xff := r.Header.Values("X-Forwarded-For")
		hops := strings.Split(strings.Join(xff, ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			a = a.Unmap()
			if !c.isTrusted(a) {
				return a.String()
			}
			peer = a
		}
	}
	return peer.String()
}

// baseURL returns scheme://host as the client addressed us, for the WSDL's soap:address.
func (c clientInfo) baseURL(r *http.Request) string {
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if _, trusted := c.peerTrusted(r); trusted {
		if p := strings.ToLower(strings.TrimSpace(firstValue(r.Header.Get("X-Forwarded-Proto")))); p == "http" || p == "https" {
			scheme = p
		}
		if h := strings.TrimSpace(firstValue(r.Header.Get("X-Forwarded-Host"))); h != "" {
			host = h
		}
	}
	if !validHost(host) {
		host = "localhost"
	}
	return scheme + "://" + host
}

func firstValue(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return first
}

// validHost accepts host[:port] made of the characters DNS names, IPv4 and bracketed IPv6 literals use.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, ch := range h {
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
		case strings.ContainsRune(".-:[]_", ch):
		default:
			return false
		}
	}
	return true
}
