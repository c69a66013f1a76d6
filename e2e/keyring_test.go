package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestRetireRightAfterRotate: the CLI rotates the token key while a server runs, a client gets a token at once
// (the server has not reloaded the ring: it reloads every 30 s), and the CLI retires the old key. The token
// issued after the rotation uses the new key, so it keeps working on the running server and on a node started
// after the retirement, while a token from before the rotation is refused there.
func TestRetireRightAfterRotate(t *testing.T) {
	t.Parallel()
	a := startServer(t)
	before := a.mustRESTToken(t, adminUser, a.AdminPassword, false, 60)
	a.mustCLI(t, "", "tokenkey", "rotate")
	r, after := a.restToken(t, adminUser, a.AdminPassword, false, 60)
	if r.Status != http.StatusOK {
		t.Fatalf("a token right after the rotation: %s", r)
	}
	if strings.HasPrefix(after.AccessToken, jwePrefix) {
		t.Error("a token issued after the rotation was sealed with the old key")
	}
	r, sess := a.restToken(t, adminUser, a.AdminPassword, true, 0)
	if r.Status != http.StatusOK || sess.Session == "" {
		t.Fatalf("a session token right after the rotation: %s", r)
	}
	if out := a.mustCLI(t, "", "tokenkey", "retire", "original"); !strings.Contains(out, "retired") {
		t.Fatalf("tokenkey retire: %q", out)
	}
	a.mustVerify(t, "token issued after the rotation, on the running node", after.AccessToken, "", adminUser, "open")
	a.mustVerify(t, "session token issued after the rotation", sess.AccessToken, sess.Session, adminUser, "session")
	// A node started now reads the ring with the old key retired, as the running one will at its next reload.
	c := launchServer(t, &tmServer{DataDir: a.DataDir, AdminPassword: a.AdminPassword})
	c.mustVerify(t, "token issued after the rotation, after the retirement", after.AccessToken, "", adminUser, "open")
	c.mustReject(t, "token issued before the rotation, after the retirement", before.AccessToken, "")
}
