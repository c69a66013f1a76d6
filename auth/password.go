// Package auth verifies who is asking: user accounts, password hashes and the verified-credential cache.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultParams is OWASP's minimum recommendation for argon2id (19 MiB, 2 passes, 1 lane): about 25 ms a
// verification on the 2-core machines we measure on.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// MaxPasswordLen bounds the work an attacker can ask argon2 to do per request.
	MaxPasswordLen = 1024
)

var errBadHash = errors.New("auth: unrecognised password hash")

// HashPassword returns a PHC-formatted argon2id hash of password.
func HashPassword(password string, p Params) (string, error) {
	if len(password) > MaxPasswordLen {
		return "", fmt.Errorf("auth: password longer than %d bytes", MaxPasswordLen)
	}
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := idKey([]byte(password), salt, p, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches hash, comparing in constant time.
func VerifyPassword(hash, password string) (bool, error) {
	p, salt, want, err := parseHash(hash)
	if err != nil {
		return false, err
	}
	if len(password) > MaxPasswordLen {
		return false, nil
	}
	got := idKey([]byte(password), salt, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func parseHash(hash string) (Params, []byte, []byte, error) {
	// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Params{}, nil, nil, errBadHash
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil ||
		p.Time == 0 || p.Threads == 0 || p.Memory > 1<<22 {
		return Params{}, nil, nil, errBadHash
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) < 16 {
		return Params{}, nil, nil, errBadHash
	}
	return p, salt, key, nil
}

// hashSlots lets as many argon2id computations run at once as there are CPUs to run them. Each takes Memory KiB
// (19 MiB by default) and one core, so more at once would only add memory (a burst of 100 sign-ins would hold
// 1.9 GiB) without finishing any sooner; the rest wait their turn.
var hashSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

// hashes counts argon2id computations, for tests of the caches and coalescing in front of them.
var hashes atomic.Int64

func idKey(password, salt []byte, p Params, n uint32) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	hashes.Add(1)
	return argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, n)
}
