// Package clienthost tells who is asking and which URL they used: the client's address and the scheme and
// host it addressed, believing X-Forwarded-* headers only from configured trusted proxies.
package clienthost

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// Resolver resolves who is asking and which URL they used. Forwarded headers are believed only when the
// direct peer is one of the Trusted proxies; otherwise anyone could claim any address or host.
type Resolver struct {
	Trusted []netip.Prefix
}

func (c Resolver) peerTrusted(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	addr := ap.Addr().Unmap()
	return addr, c.isTrusted(addr)
}

func (c Resolver) isTrusted(a netip.Addr) bool {
	for _, p := range c.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Host returns the client's address: the peer, or, behind trusted proxies, the right-most X-Forwarded-For
// entry that is not itself a trusted proxy.
func (c Resolver) Host(r *http.Request) string {
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

// BaseURL returns scheme://host as the client addressed us, for the WSDL's soap:address.
func (c Resolver) BaseURL(r *http.Request) string {
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
	if !ValidHost(host) {
		host = "localhost"
	}
	return scheme + "://" + host
}

func firstValue(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return first
}

// ValidHost accepts host[:port] where host is a DNS name, an IPv4 address or a bracketed IPv6 literal and port is
// numeric: what may go into a URL we hand out (the WSDL's soap:address) without making it unparseable.
func ValidHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	host, port := h, ""
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return false
		}
		if _, err := netip.ParseAddr(h[1:end]); err != nil || strings.Contains(h[1:end], "%") {
			return false
		}
		host, port = "", h[end+1:]
		if port != "" {
			if port[0] != ':' {
				return false
			}
			port = port[1:]
		}
	} else if i := strings.LastIndexByte(h, ':'); i >= 0 {
		host, port = h[:i], h[i+1:]
		if host == "" {
			return false
		}
	}
	if port != "" || strings.HasSuffix(h, ":") {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port[0] == '+' {
			return false
		}
	}
	for _, label := range strings.Split(host, ".") {
		if host == "" {
			break
		}
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
