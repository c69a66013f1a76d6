package server_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// TestLicensingCacheAcrossNodes: two servers share one database, each reading through its own cache, as two
// nodes do. The API token, product, vendor and key a GetKey reads are kept in memory, yet a revoked API token or
// a blocked key stops working at once on the node that made the change and at the other's next read of the
// change feed.
func TestLicensingCacheAcrossNodes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	a := servertest.NewCLStack(t, withDB(path))
	var svcB *license.Service
	b := newStack(t, withDB(path), servertest.WithLicense(&svcB))
	ctx := context.Background()

	getKey := func(node string, tok, key string) map[string]any {
		t.Helper()
		url := a.URL
		if node == "b" {
			url = b.URL
		}
		r := servertest.Do(t, "POST", url+"/api/key/GetKey", a.Form(tok, a.Product.ID, key).Encode(),
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		if r.Status != 200 {
			t.Fatalf("GetKey on node %s: HTTP %d %s", node, r.Status, r.Body)
		}
		return r.JSON(t)
	}
	// waitFail asks node until it refuses: node b hears of a change at its next read of the feed (every 5 ms
	// here); the deadline only bounds a failing test.
	waitFail := func(node, what, tok, key string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if m := getKey(node, tok, key); m["result"] == float64(1) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %s still answers GetKey after %s", node, what)
			}
		}
	}

	k := a.NewKey(t, license.KeySpec{Period: 30})
	tok, err := a.Svc.CreateAPIToken(ctx, "simon0897", license.TokenSpec{Methods: []license.Method{license.MethodGetKey}})
	if err != nil {
		t.Fatal(err)
	}
	for _, node := range []string{"a", "b", "a", "b"} { // twice: the second answer comes from the caches
		servertest.MustOK(t, "GetKey on node "+node, getKey(node, tok.Token, k.Key))
	}

	// Revoked on node a: refused there by the very next call, and by node b once it has read the feed.
	if err := a.Svc.RevokeAPIToken(ctx, "simon0897", tok.Record.ID); err != nil {
		t.Fatal(err)
	}
	if m := getKey("a", tok.Token, k.Key); m["result"] != float64(1) {
		t.Fatalf("node a answered GetKey with the API token it had just revoked: %v", m)
	}
	waitFail("b", "the API token was revoked on node a", tok.Token, k.Key)

	// The other way round, with a fresh token: revoked through node b's service.
	tok2, err := a.Svc.CreateAPIToken(ctx, "simon0897", license.TokenSpec{Methods: []license.Method{license.MethodGetKey}})
	if err != nil {
		t.Fatal(err)
	}
	for _, node := range []string{"a", "b", "a", "b"} {
		servertest.MustOK(t, "GetKey with a second token on node "+node, getKey(node, tok2.Token, k.Key))
	}
	if err := svcB.RevokeAPIToken(ctx, "simon0897", tok2.Record.ID); err != nil {
		t.Fatal(err)
	}
	if m := getKey("b", tok2.Token, k.Key); m["result"] != float64(1) {
		t.Fatalf("node b answered GetKey with the API token it had just revoked: %v", m)
	}
	waitFail("a", "the API token was revoked on node b", tok2.Token, k.Key)

	// A blocked key, both nodes holding a copy: refused by the node that blocked it at once, by the other once it
	// has read the feed; and the same the other way round, when the block is lifted.
	tok3, err := a.Svc.CreateAPIToken(ctx, "simon0897", license.TokenSpec{Methods: []license.Method{license.MethodGetKey}})
	if err != nil {
		t.Fatal(err)
	}
	for _, node := range []string{"a", "b", "a", "b"} {
		servertest.MustOK(t, "GetKey before the block on node "+node, getKey(node, tok3.Token, k.Key))
	}
	if err := svcB.BlockKey(ctx, license.Admin(), a.Product.ID, k.Key, true); err != nil {
		t.Fatal(err)
	}
	if m := getKey("b", tok3.Token, k.Key); m["result"] != float64(1) {
		t.Fatalf("node b answered GetKey for a key it had just blocked: %v", m)
	}
	waitFail("a", "the key was blocked on node b", tok3.Token, k.Key)
	if err := a.Svc.BlockKey(ctx, license.Admin(), a.Product.ID, k.Key, false); err != nil {
		t.Fatal(err)
	}
	servertest.MustOK(t, "GetKey on node a right after it unblocked the key", getKey("a", tok3.Token, k.Key))
	for deadline := time.Now().Add(10 * time.Second); getKey("b", tok3.Token, k.Key)["result"] != float64(0); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("node b still refuses GetKey after the key was unblocked on node a")
		}
	}
}
