package auth

import (
	"fmt"
	"strconv"
	"strings"
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
	if _, ok := th.Check("alice", "198.51.100.9"); !ok {
		t.Fatal("an address that never failed for the account was refused")
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
	// Made-up long names cost a short key each, and are still counted.
	th = NewThrottle(ThrottleConfig{AccountBurst: 1, AccountEvery: time.Hour, AddressBurst: 100, AddressEvery: time.Hour})
	long := strings.Repeat("x", 4000)
	th.Failed(long, "192.0.2.1")
	for k := range th.accounts.m {
		if len(k) > 64 {
			t.Fatalf("a %d-byte key for a long name", len(k))
		}
	}
	if _, ok := th.Check(long, "192.0.2.1"); ok {
		t.Fatal("a long name was not counted")
	}
	if _, ok := th.Check(long+"y", "192.0.2.1"); !ok {
		t.Fatal("two long names share a bucket")
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

// TestThrottleStormDoesNotLockOutOwner: guesses from 20 addresses exhaust the account, yet its owner, from an
// address that has not failed, signs in at once; the guessing addresses stay throttled, also after a while.
func TestThrottleStormDoesNotLockOutOwner(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	th := NewThrottle(ThrottleConfig{AccountBurst: 10, AccountEvery: 30 * time.Second, AddressBurst: 50, AddressEvery: 3 * time.Second,
		Now: func() time.Time { return now }})
	attacker := func(i int) string { return fmt.Sprintf("127.0.1.%d", i) }
	for round := range 5 {
		for i := range 20 {
			if _, ok := th.Check("admin", attacker(i)); ok {
				th.Failed("admin", attacker(i))
			} else if round == 0 && i < 10 {
				t.Fatalf("attacker %d refused before the account's burst was spent", i)
			}
		}
	}
	for i := range 20 {
		if _, ok := th.Check("admin", attacker(i)); ok {
			t.Fatalf("attacker %d may go on guessing", i)
		}
	}
	if _, ok := th.Check("admin", "127.0.0.1"); !ok {
		t.Fatal("the owner's clean address is locked out by others' failures")
	}
	th.Succeeded("admin", "127.0.0.1")
	// Ten minutes of refused retries later, the attackers are still marked.
	for range 20 {
		now = now.Add(30 * time.Second)
		for i := range 20 {
			if _, ok := th.Check("admin", attacker(i)); ok {
				th.Failed("admin", attacker(i))
			}
		}
	}
	for i := range 20 {
		if _, ok := th.Check("admin", attacker(i)); ok {
			t.Fatalf("attacker %d may guess again after retrying while refused", i)
		}
	}
	// The owner mistypes once: from then on the owner's address waits like the others, until a good sign-in.
	th.Failed("admin", "127.0.0.1")
	if _, ok := th.Check("admin", "127.0.0.1"); ok {
		t.Fatal("an address that failed for a locked account may go on")
	}
	th.Succeeded("admin", "127.0.0.1")
	if _, ok := th.Check("admin", "127.0.0.1"); !ok {
		t.Fatal("a good sign-in did not clear the address's mark")
	}
}

// TestThrottleKeepsLockUnderKeyFlood: a flood of new keys fills every map, and the locked account and the
// guessing address stay locked.
func TestThrottleKeepsLockUnderKeyFlood(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	th := NewThrottle(ThrottleConfig{AccountBurst: 3, AccountEvery: time.Minute, AddressBurst: 3, AddressEvery: time.Minute,
		Now: func() time.Time { return now }})
	for range 3 {
		th.Failed("alice", "192.0.2.1")
	}
	if _, ok := th.Check("alice", "192.0.2.1"); ok {
		t.Fatal("not locked")
	}
	for i := range maxThrottleKeys + 1000 {
		th.Failed("junk"+strconv.Itoa(i), fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
		if i%20_000 == 0 {
			now = now.Add(time.Second) // let the sweeps run; nothing refills completely within the flood
		}
	}
	for _, b := range []*buckets{th.accounts, th.addresses} {
		if len(b.m) > maxThrottleKeys {
			t.Fatalf("bucket map grew to %d", len(b.m))
		}
	}
	if len(th.marks.m) > maxThrottleKeys {
		t.Fatalf("marks grew to %d", len(th.marks.m))
	}
	if _, ok := th.Check("alice", "192.0.2.1"); ok {
		t.Fatal("the flood unlocked the account's guessing address")
	}
	if _, ok := th.Check("bob", "192.0.2.1"); ok {
		t.Fatal("the flood unlocked the guessing address")
	}
	// Once the flood's buckets have refilled, they are swept and new keys get buckets of their own again.
	now = now.Add(time.Hour)
	th.Failed("carol", "198.51.100.1")
	if _, ok := th.accounts.m["carol"]; !ok {
		t.Fatal("refilled buckets were not swept")
	}
}

// TestThrottleIPv6Network: the /64s of one /48 share a larger allowance.
func TestThrottleIPv6Network(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	th := NewThrottle(ThrottleConfig{AddressBurst: 2, AddressEvery: time.Minute, Now: func() time.Time { return now }})
	for i := range 2 * networkFactor {
		addr := fmt.Sprintf("2001:db8:1:%x::1", i) // a new /64 each time
		if _, ok := th.Check("", addr); !ok {
			t.Fatalf("/64 number %d refused within the /48's allowance", i+1)
		}
		th.Failed("", addr)
	}
	if _, ok := th.Check("", "2001:db8:1:ffff::1"); ok {
		t.Fatal("a fresh /64 of a /48 that used its allowance may go on")
	}
	if _, ok := th.Check("", "2001:db8:2::1"); !ok {
		t.Fatal("another /48 was refused")
	}
}
