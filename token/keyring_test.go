package token

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/session"
	"github.com/tokenmanager/tokenmanager/storage"
)

// TestRotationWithoutDowntime: two nodes on one database. A rotation on one is picked up by the other when a
// token of the new key reaches it; tokens of the old key keep working until the old key is retired.
func TestRotationWithoutDowntime(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, defaultCfg)
	master := testKey()
	nodeA, nodeB := f.svc, NewService(nil, f.store, session.NewManager(f.store, session.DefaultConfig, f.clock), defaultCfg, f.clock)
	ringA, ringB := NewKeyring(f.store, master), NewKeyring(f.store, master)
	for _, n := range []struct {
		svc  *Service
		ring *Keyring
	}{{nodeA, ringA}, {nodeB, ringB}} {
		if err := n.svc.UseKeyring(ctx, n.ring); err != nil {
			t.Fatal(err)
		}
	}
	before, err := nodeA.IssueOpenToken(ctx, "alice", "h", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !namesOriginalKey(before.Token) {
		t.Fatal("before any rotation, tokens carry Spectrum's header")
	}

	kid, err := ringA.Rotate(ctx, f.now)
	if err != nil {
		t.Fatal(err)
	}
	if err := nodeA.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	after, _ := nodeA.IssueOpenToken(ctx, "alice", "h", time.Hour)
	if nodeA.codec().PrimaryID() != kid || namesOriginalKey(after.Token) || !namesRotatedKey(after.Token) {
		t.Fatalf("after rotation the token should name %s", kid)
	}
	// Node B has not reloaded: the unknown kid makes it reload once.
	for name, tok := range map[string]string{"old key on B": before.Token, "new key on B": after.Token, "old key on A": before.Token} {
		svc := nodeB
		if name == "old key on A" {
			svc = nodeA
		}
		if _, err := svc.Verify(ctx, Presented{Token: tok}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Retire the original key: its tokens die on every node that reloads.
	if err := f.store.RetireTokenKey(ctx, storage.OriginalTokenKey, f.now); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []*Service{nodeA, nodeB} {
		if err := svc.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Verify(ctx, Presented{Token: before.Token}); !errors.Is(err, ErrMalformedToken) {
			t.Errorf("token of the retired key: %v", err)
		}
		if _, err := svc.Verify(ctx, Presented{Token: after.Token}); err != nil {
			t.Errorf("token of the primary key after retiring the old one: %v", err)
		}
	}
	// A made-up key id is refused (after at most one reload a second).
	fake := "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIiwia2lkIjoiZmFrZSJ9" + after.Token[strings.Index(after.Token, "."):]
	if !namesRotatedKey(fake) {
		t.Fatal("test token does not look like a rotated key's")
	}
	if _, err := nodeB.Verify(ctx, Presented{Token: fake}); !errors.Is(err, ErrMalformedToken) {
		t.Errorf("a token naming a made-up key: %v", err)
	}
	// A key ring sealed under another server key does not load.
	if _, err := NewKeyring(f.store, make([]byte, 32)).Load(ctx); err == nil {
		t.Error("the ring loaded with a different server key")
	}
}

func namesOriginalKey(tok string) bool {
	return len(tok) > len(HeaderSegment) && tok[:len(HeaderSegment)+1] == HeaderSegment+"."
}

// TestLaggingNodeMintsWithNewKey: a node that has not reloaded the ring since another rotated it does not hand
// out a token of the old key (which the operator may retire at once): the store refuses the record, and the
// node reloads and seals the token again with the new primary.
func TestLaggingNodeMintsWithNewKey(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, defaultCfg)
	master := testKey()
	if err := f.svc.UseKeyring(ctx, NewKeyring(f.store, master)); err != nil {
		t.Fatal(err)
	}
	kid, err := NewKeyring(f.store, master).Rotate(ctx, f.now) // another node, or the CLI
	if err != nil {
		t.Fatal(err)
	}
	if f.svc.codec().PrimaryID() != "" {
		t.Fatal("the node reloaded on its own; the test needs it to lag")
	}
	for _, kind := range []string{"open", "session"} {
		var tok string
		if kind == "open" {
			iss, err := f.svc.IssueOpenToken(ctx, "alice", "h", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			tok = iss.Token
		} else {
			iss, _, err := f.signIn(t, "h", 0)
			if err != nil {
				t.Fatal(err)
			}
			tok = iss.Token
		}
		if namesOriginalKey(tok) || f.svc.codec().PrimaryID() != kid {
			t.Fatalf("%s token minted after the rotation uses the old key", kind)
		}
	}
	iss, err := f.svc.IssueOpenToken(ctx, "alice", "h", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.RetireTokenKey(ctx, storage.OriginalTokenKey, f.now); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Verify(ctx, Presented{Token: iss.Token}); err != nil {
		t.Fatalf("a token minted after the rotation dies when the old key is retired: %v", err)
	}
}

// TestLaggingNodeConcurrentMints: the requests minting at once on a node that has not seen a rotation all get
// tokens of the new key.
func TestLaggingNodeConcurrentMints(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, defaultCfg)
	master := testKey()
	if err := f.svc.UseKeyring(ctx, NewKeyring(f.store, master)); err != nil {
		t.Fatal(err)
	}
	if _, err := NewKeyring(f.store, master).Rotate(ctx, f.now); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			iss, err := f.svc.IssueOpenToken(ctx, "alice", "h", time.Hour)
			if err == nil && namesOriginalKey(iss.Token) {
				err = errors.New("a token of the old key")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
