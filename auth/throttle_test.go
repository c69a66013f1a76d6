package auth

import (
	"strconv"
	"testing"
	"time"
)

func TestThrottleLocksAndRecovers(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	th := NewThrottle(ThrottleConfig{AccountBurst: 3, AccountEvery: 30 * time.Second, AddressBurst: 5, AddressEvery: 10 * time.Second,
		Now: func() time.Time { return now }})
	for i := range 3 {
		if _, ok := th.Check("alice", "192.0.2.1"); !ok {
			t.Fatalf("attempt %d refused within the burst", i+1)
		}
		th.Failed("alice", "192.0.2.1")
	}
	wait, ok := th.Check("alice", "192.0.2.1")
	if ok || wait != 30*time.Second {
		t.Fatalf("after the burst: ok=%v wait=%v; want refused for 30s", ok, wait)
	}
	if _, ok := th.Check("alice", "198.51.100.9"); ok {
		t.Fatal("the account lock is per account, from any address")
	}
	if _, ok := th.Check("bob", "198.51.100.9"); !ok {
		t.Fatal("another account from another address was refused")
	}
	now = now.Add(30 * time.Second)
	if _, ok := th.Check("alice", "192.0.2.1"); !ok {
		t.Fatal("no recovery after one refill interval")
	}
	th.Failed("alice", "192.0.2.1")
	if _, ok := th.Check("alice", "192.0.2.1"); ok {
		t.Fatal("one refill is one attempt")
	}
}

func TestThrottlePerAddress(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	th := NewThrottle(ThrottleConfig{AccountBurst: 100, AccountEvery: time.Second, AddressBurst: 4, AddressEvery: 10 * time.Second,
		Now: func() time.Time { return now }})
	// One address spraying many accounts, IPv6 addresses of one /64 counted together.
	for i, addr := range []string{"2001:db8::1", "2001:db8::2", "2001:db8::ffff", "2001:db8:0:0:1::9"} {
		th.Failed(string(rune('a'+i)), addr)
	}
	if _, ok := th.Check("zed", "2001:db8::abcd"); ok {
		t.Fatal("a /64 that failed 4 times may go on")
	}
	if _, ok := th.Check("zed", "2001:db8:0:1::1"); !ok {
		t.Fatal("another /64 was refused")
	}
	if _, ok := th.Check("zed", "192.0.2.7"); !ok {
		t.Fatal("another address was refused")
	}
}

func TestThrottleOffAndBounded(t *testing.T) {
	th := NewThrottle(ThrottleConfig{})
	for range 100 {
		th.Failed("alice", "192.0.2.1")
	}
	if _, ok := th.Check("alice", "192.0.2.1"); !ok {
		t.Fatal("a zero config throttles")
	}
	now := time.Now()
	b := newBuckets(2, time.Second)
	for i := range maxThrottleKeys + 10 {
		b.take(strconv.Itoa(i), now)
	}
	if len(b.m) > maxThrottleKeys {
		t.Fatalf("bucket map grew to %d", len(b.m))
	}
}

func TestThrottleWithoutAccount(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	th := NewThrottle(ThrottleConfig{AccountBurst: 1, AccountEvery: time.Hour, AddressBurst: 3, AddressEvery: time.Hour,
		Now: func() time.Time { return now }})
	for range 3 {
		th.Failed("", "192.0.2.1") // a guessed bearer token names no account
	}
	if _, ok := th.Check("", "192.0.2.2"); !ok {
		t.Fatal("failures without an account locked out another address")
	}
	if _, ok := th.Check("", "192.0.2.1"); ok {
		t.Fatal("the guessing address may go on")
	}
}
