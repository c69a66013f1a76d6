package clienthost

import "testing"

func TestValidForwardedHosts(t *testing.T) {
	for h, want := range map[string]bool{
		"tokens.example.com": true, "tokens.example.com:8443": true, "127.0.0.1": true, "[::1]": true, "[::1]:8443": true,
		"": false, "[": false, "[::1": false, "[zz]": false, "[::1]x": false, ":8080": false, "host:": false, "host:99999": false,
		"host:+80": false, "a..b": false, "-a.example": false, "exa mple": false, `evil"><x`: false, "a/b": false,
	} {
		if got := ValidHost(h); got != want {
			t.Errorf("ValidHost(%q) = %v, want %v", h, got, want)
		}
	}
}
