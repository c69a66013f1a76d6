// Package conformance is the behaviour every storage backend must show. A backend's test calls
// Run(t, newStore) with a constructor returning a fresh, empty store; each subtest gets its own.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Run runs the whole suite.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store)
	}{
		{"UserCRUD", testUserCRUD},
		{"UserUpdateAbort", testUserUpdateAbort},
		{"TokenLifecycle", testTokenLifecycle},
		{"TokenTouchThrottled", testTokenTouchThrottled},
		{"SessionLifecycle", testSessionLifecycle},
		{"EndSessionRevokesTokens", testEndSessionRevokesTokens},
		{"EndUserSessions", testEndUserSessions},
		{"CountLive", testCountLive},
		// usage history
		{"UsageCountsAdd", testUsageCountsAdd},
		{"UsageCountsPrune", testUsageCountsPrune},
		{"SignInHistory", testSignInHistory},
		{"CountLiveGrants", testCountLiveGrants},
		{"Audit", testAudit},
		{"TokenKeys", testTokenKeys},
		{"TokenKeyCheckedAtMint", testTokenKeyCheckedAtMint},
		{"Settings", testSettings},
		{"AdminFlag", testAdminFlag},
		{"ListTokens", testListTokens},
		{"ListSessions", testListSessions},
		{"RevokeUserTokens", testRevokeUserTokens},
		{"DisableEndsTokens", testDisableEndsTokens},
		{"GarbageCollection", testGarbageCollection},
		{"ConcurrentWrites", testConcurrentWrites},
		{"APIClientCRUD", testAPIClientCRUD},
		{"AccessTokenLifecycle", testAccessTokenLifecycle},
		{"DeleteAPIClientDeletesTokens", testDeleteAPIClientDeletesTokens},
		{"AccessTokenGarbageCollection", testAccessTokenGarbageCollection},
		{"ListAccessTokens", testListAccessTokens},
		// the API clients and access tokens kept in memory hear of every change
		{"OAuthChanges", testOAuthChanges},
		// paged listings of the operator's routes
		{"PageTokensSessions", testPageTokensSessions},
		{"PageAccessTokens", testPageAccessTokens},
		{"PagePowerAuth", testPagePowerAuth},
		{"PowerAuthActivationCRUD", testPowerAuthActivationCRUD},
		{"PowerAuthTokenLifecycle", testPowerAuthTokenLifecycle},
		{"PowerAuthTokensDieWithActivation", testPowerAuthTokensDieWithActivation},
		{"PowerAuthNonceReplay", testPowerAuthNonceReplay},
		{"PowerAuthNonceGarbageCollection", testPowerAuthNonceGarbageCollection},
		{"PowerAuthApps", testPowerAuthApps},
		{"PowerAuthKeyedActivation", testPowerAuthKeyedActivation},
		{"PowerAuthTempKeys", testPowerAuthTempKeys},
		{"PowerAuthProtocolResealed", testPowerAuthProtocolResealed},
		{"PowerAuthNonceRace", testPowerAuthNonceRace},
		{"PowerAuthUserTokens", testPowerAuthUserTokens},
		{"LicenseVendors", testLicenseVendors},
		{"LicenseProducts", testLicenseProducts},
		{"LicenseCustomers", testLicenseCustomers},
		{"LicenseKeys", testLicenseKeys},
		{"LicenseActivations", testLicenseActivations},
		{"LicenseLastSeatRace", testLicenseLastSeatRace},
		{"LicenseAPITokens", testLicenseAPITokens},
		// the licensing records kept in memory hear of every change
		{"LicenseChanges", testLicenseChanges},
		{"LicenseKeyChanges", testLicenseKeyChanges},
		{"LicenseResellers", testLicenseResellers},
		{"LicenseTemplates", testLicenseTemplates},
		{"LicenseKeyBatches", testLicenseKeyBatches},
		{"WooStores", testWooStores},
		{"WooSKUs", testWooSKUs},
		{"WooKeysAndTokens", testWooKeysAndTokens},
		{"WooStoreRemoval", testWooStoreRemoval},
		{"AppAuthorizationLifecycle", testAppAuthorizationLifecycle},
		{"AppChallengeRace", testAppChallengeRace},
		{"AppDevices", testAppDevices},
		{"AppDeviceLimitRace", testAppDeviceLimitRace},
		{"AppAuthorizationGarbageCollection", testAppAuthorizationGarbageCollection},
		// the customers' account pages
		{"ActivationManagement", testActivationManagement},
		{"CustomersOfUser", testCustomersOfUser},
		{"TouchRace", testTouchRace},
		{"SessionEndRace", testSessionEndRace},
		{"UpdateRace", testUpdateRace},
		{"LicenseKeyNumberingRace", testLicenseKeyNumberingRace},
		{"TokenKeyRotationRace", testTokenKeyRotationRace},
		{"TimePrecision", testTimePrecision},
		{"OddKeysNotFound", testOddKeysNotFound},
		{"CacheChanges", testCacheChanges},
		{"ServerKeyReseal", testServerKeyReseal},
		{"ServerKeyResealRing", testServerKeyResealRing},
		// Customer settings and end-user accounts.
		{"CustomerSettings", testCustomerSettings},
		{"CustomerQuery", testCustomerQuery},
		{"DeleteCustomer", testDeleteCustomer},
		{"EndUsers", testEndUsers},
		{"EndUserRegisterRace", testEndUserRegisterRace},
		{"EndUserResetRace", testEndUserResetRace},
		// Licensing activity (activity.go).
		{"LicenseMessages", testLicenseMessages},
		{"LicenseMessageLimitRace", testLicenseMessageLimitRace},
		{"LicenseEvents", testLicenseEvents},
		{"WebAPILog", testWebAPILog},
		{"LicenseActivityPruning", testLicenseActivityPruning},
		{"KeyUsageRace", testKeyUsageRace},
		{"LimitCounters", testLimitCounters},
		{"WSSENonces", testWSSENonces},
		// JWT access tokens' signing keys.
		{"OAuthKeys", testOAuthKeys},
		// management API
		{"AdminTokens", testAdminTokens},
		{"DeleteUser", testDeleteUser},
		{"DeleteProduct", testDeleteProduct},
		{"DeleteLicenseKey", testDeleteLicenseKey},
	}
	tests = append(tests, dataObjectTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() { s.Close() })
			tc.fn(t, s)
		})
	}
}

// base is a fixed instant with microsecond precision, which every backend keeps exactly.
var base = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func mustUser(t *testing.T, s storage.Store, name string) storage.User {
	t.Helper()
	u := storage.User{Name: name, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", CreatedAt: base, UpdatedAt: base}
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser(%q): %v", name, err)
	}
	return u
}

func testUserCRUD(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if _, err := s.GetUser(ctx, "alice"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetUser(missing) = %v, want ErrNotFound", err)
	}
	want := mustUser(t, s, "alice")
	want.DigestSecret = nil
	if err := s.CreateUser(ctx, want); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("CreateUser(duplicate) = %v, want ErrConflict", err)
	}
	got, err := s.GetUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != want.Name || got.PasswordHash != want.PasswordHash || got.Disabled || !got.CreatedAt.Equal(base) {
		t.Fatalf("GetUser = %+v, want %+v", got, want)
	}
	later := base.Add(time.Minute)
	err = s.UpdateUser(ctx, "alice", func(u *storage.User) error {
		u.Disabled = true
		u.PasswordHash = "new"
		u.DigestSecret = []byte{1, 2, 3}
		u.UpdatedAt = later
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetUser(ctx, "alice")
	if !got.Disabled || got.PasswordHash != "new" || string(got.DigestSecret) != "\x01\x02\x03" || !got.UpdatedAt.Equal(later) {
		t.Fatalf("after update: %+v", got)
	}
	if err := s.UpdateUser(ctx, "bob", func(*storage.User) error { return nil }); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("UpdateUser(missing) = %v, want ErrNotFound", err)
	}
	mustUser(t, s, "bob")
	list, err := s.ListUsers(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "alice" || list[1].Name != "bob" {
		t.Fatalf("ListUsers = %v, %v", list, err)
	}
	if n, err := s.CountUsers(ctx); err != nil || n != 2 {
		t.Fatalf("CountUsers = %d, %v", n, err)
	}
}

func testUserUpdateAbort(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	boom := errors.New("boom")
	err := s.UpdateUser(ctx, "alice", func(u *storage.User) error {
		u.Disabled = true
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("UpdateUser = %v, want the updater's error", err)
	}
	if got, _ := s.GetUser(ctx, "alice"); got.Disabled {
		t.Fatal("an aborted update was written")
	}
}

func testTokenLifecycle(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	if _, err := s.GetToken(ctx, "t1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetToken(missing) = %v", err)
	}
	want := storage.Token{ID: "t1", User: "alice", Kind: storage.KindOpen, ClientHost: "127.0.0.1",
		CreatedAt: base, ExpiresAt: base.Add(time.Hour), LastUsedAt: base}
	if err := s.CreateToken(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, want); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("CreateToken(duplicate) = %v, want ErrConflict", err)
	}
	got, err := s.GetToken(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("GetToken = %+v, want %+v", got, want)
	}
	at := base.Add(2 * time.Minute)
	if err := s.RevokeToken(ctx, "t1", at); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, "t1", at.Add(time.Minute)); err != nil {
		t.Fatalf("second revoke: %v", err)
	}
	got, _ = s.GetToken(ctx, "t1")
	if !got.Revoked() || !got.RevokedAt.Equal(at) {
		t.Fatalf("revoked at %v, want %v (first revocation kept)", got.RevokedAt, at)
	}
	if err := s.RevokeToken(ctx, "nope", at); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("RevokeToken(missing) = %v", err)
	}
}

func testTokenTouchThrottled(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	tok := storage.Token{ID: "t1", User: "alice", Kind: storage.KindOpen, CreatedAt: base, LastUsedAt: base}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	// Within the interval: no write.
	if err := s.TouchToken(ctx, "t1", base.Add(30*time.Second), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetToken(ctx, "t1"); !got.LastUsedAt.Equal(base) {
		t.Fatalf("touch inside the interval wrote %v", got.LastUsedAt)
	}
	// At the interval: written.
	if err := s.TouchToken(ctx, "t1", base.Add(time.Minute), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetToken(ctx, "t1"); !got.LastUsedAt.Equal(base.Add(time.Minute)) {
		t.Fatalf("touch after the interval: last used %v", got.LastUsedAt)
	}
}

func testSessionLifecycle(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	want := storage.Session{ID: "s1", User: "alice", ClientHost: "::1", CreatedAt: base, LastSeenAt: base}
	if err := s.CreateSession(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, want); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("CreateSession(duplicate) = %v", err)
	}
	got, err := s.GetSession(ctx, "s1")
	if err != nil || got != want {
		t.Fatalf("GetSession = %+v, %v; want %+v", got, err, want)
	}
	if err := s.TouchSession(ctx, "s1", base.Add(10*time.Second), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetSession(ctx, "s1"); !got.LastSeenAt.Equal(base) {
		t.Fatal("throttled touch wrote")
	}
	if err := s.TouchSession(ctx, "s1", base.Add(2*time.Minute), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetSession(ctx, "s1"); !got.LastSeenAt.Equal(base.Add(2 * time.Minute)) {
		t.Fatalf("touch: last seen %v", got.LastSeenAt)
	}
	if _, err := s.GetSession(ctx, "s2"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("GetSession(missing) = %v", err)
	}
	if err := s.EndSession(ctx, "s2", base); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("EndSession(missing) = %v", err)
	}
}

func testCountLive(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	for id, seen := range map[string]time.Time{"fresh": base, "idle": base.Add(-time.Hour), "ended": base} {
		if err := s.CreateSession(ctx, storage.Session{ID: id, User: "alice", CreatedAt: seen, LastSeenAt: seen}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.EndSession(ctx, "ended", base); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []storage.Token{
		{ID: "open", Kind: storage.KindOpen},
		{ID: "not-yet-expired", Kind: storage.KindOpen, ExpiresAt: base.Add(time.Second)},
		{ID: "expired", Kind: storage.KindOpen, ExpiresAt: base},
		{ID: "revoked", Kind: storage.KindOpen, RevokedAt: base},
		{ID: "in-fresh", Kind: storage.KindSession, SessionID: "fresh"},
	} {
		tok.User, tok.CreatedAt, tok.LastUsedAt = "alice", base, base
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	tokens, sessions, err := s.CountLive(ctx, base, base.Add(-30*time.Minute))
	if err != nil || tokens != 3 || sessions != 1 {
		t.Fatalf("CountLive = %d tokens, %d sessions, %v; want 3, 1", tokens, sessions, err)
	}
}

func testEndUserSessions(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	mustUser(t, s, "bob")
	sessions := map[string]string{"a1": "alice", "a2": "alice", "b1": "bob"}
	for id, user := range sessions {
		if err := s.CreateSession(ctx, storage.Session{ID: id, User: user, CreatedAt: base, LastSeenAt: base}); err != nil {
			t.Fatal(err)
		}
	}
	tokens := []storage.Token{
		{ID: "ta1", User: "alice", Kind: storage.KindSession, SessionID: "a1"},
		{ID: "ta2", User: "alice", Kind: storage.KindExpiring, SessionID: "a2", ExpiresAt: base.Add(time.Hour)},
		{ID: "ta-open", User: "alice", Kind: storage.KindOpen},
		{ID: "tb1", User: "bob", Kind: storage.KindSession, SessionID: "b1"},
	}
	for _, tok := range tokens {
		tok.CreatedAt, tok.LastUsedAt = base, base
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	end := base.Add(time.Minute)
	if n, err := s.EndUserSessions(ctx, "alice", end); err != nil || n != 2 {
		t.Fatalf("EndUserSessions(alice) = %d, %v; want 2", n, err)
	}
	for id, wantEnded := range map[string]bool{"a1": true, "a2": true, "b1": false} {
		ss, err := s.GetSession(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if ss.Ended() != wantEnded {
			t.Errorf("session %s ended=%v, want %v", id, ss.Ended(), wantEnded)
		}
	}
	// Session-bound tokens die with their sessions; an open token is not bound to any and is left alone.
	for id, wantRevoked := range map[string]bool{"ta1": true, "ta2": true, "ta-open": false, "tb1": false} {
		tok, err := s.GetToken(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Revoked() != wantRevoked {
			t.Errorf("token %s revoked=%v, want %v", id, tok.Revoked(), wantRevoked)
		}
	}
	// Ending again finds nothing live and keeps the first end time.
	if n, err := s.EndUserSessions(ctx, "alice", end.Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("second EndUserSessions = %d, %v; want 0", n, err)
	}
	if ss, _ := s.GetSession(ctx, "a1"); !ss.EndedAt.Equal(end) {
		t.Fatalf("end time moved to %v", ss.EndedAt)
	}
}

func testEndSessionRevokesTokens(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	for _, id := range []string{"s1", "s2"} {
		if err := s.CreateSession(ctx, storage.Session{ID: id, User: "alice", CreatedAt: base, LastSeenAt: base}); err != nil {
			t.Fatal(err)
		}
	}
	for i, sid := range []string{"s1", "s1", "s2"} {
		tok := storage.Token{ID: fmt.Sprint("t", i), User: "alice", Kind: storage.KindSession, SessionID: sid, CreatedAt: base, LastUsedAt: base}
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	end := base.Add(time.Minute)
	if err := s.EndSession(ctx, "s1", end); err != nil {
		t.Fatal(err)
	}
	ss, _ := s.GetSession(ctx, "s1")
	if !ss.Ended() {
		t.Fatal("session not ended")
	}
	// A touch after the end must not revive it.
	if err := s.TouchSession(ctx, "s1", end.Add(time.Hour), time.Minute); err != nil {
		t.Fatal(err)
	}
	if ss, _ := s.GetSession(ctx, "s1"); !ss.LastSeenAt.Equal(base) {
		t.Fatal("an ended session was touched")
	}
	for id, wantRevoked := range map[string]bool{"t0": true, "t1": true, "t2": false} {
		tok, err := s.GetToken(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Revoked() != wantRevoked {
			t.Errorf("token %s revoked=%v, want %v", id, tok.Revoked(), wantRevoked)
		}
	}
	n, err := s.RevokeSessionTokens(ctx, "s2", end)
	if err != nil || n != 1 {
		t.Fatalf("RevokeSessionTokens = %d, %v; want 1", n, err)
	}
}

func testGarbageCollection(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	// s-old idles out; s-live is recent. Tokens: expired, revoked, never-expiring open, and one on the old session.
	sessions := []storage.Session{
		{ID: "s-old", User: "alice", CreatedAt: base, LastSeenAt: base},
		{ID: "s-live", User: "alice", CreatedAt: base, LastSeenAt: base.Add(50 * time.Minute)},
	}
	for _, ss := range sessions {
		if err := s.CreateSession(ctx, ss); err != nil {
			t.Fatal(err)
		}
	}
	tokens := []storage.Token{
		{ID: "expired", ExpiresAt: base.Add(time.Minute)},
		{ID: "revoked", RevokedAt: base.Add(time.Minute)},
		{ID: "open"},
		{ID: "future", ExpiresAt: base.Add(24 * time.Hour)},
		{ID: "on-old-session", SessionID: "s-old"},
		{ID: "on-live-session", SessionID: "s-live"},
	}
	for _, tok := range tokens {
		tok.User, tok.Kind, tok.CreatedAt, tok.LastUsedAt = "alice", storage.KindOpen, base, base
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	cutoff := base.Add(30 * time.Minute)
	n, err := s.DeleteTokens(ctx, cutoff, 1)
	if err != nil || n != 1 {
		t.Fatalf("DeleteTokens(limit 1) = %d, %v", n, err)
	}
	n, err = s.DeleteTokens(ctx, cutoff, 100)
	if err != nil || n != 1 {
		t.Fatalf("DeleteTokens = %d, %v; want the remaining 1", n, err)
	}
	n, err = s.DeleteSessions(ctx, cutoff, 100)
	if err != nil || n != 1 {
		t.Fatalf("DeleteSessions = %d, %v; want 1", n, err)
	}
	for id, wantGone := range map[string]bool{
		"expired": true, "revoked": true, "open": false, "future": false, "on-old-session": true, "on-live-session": false,
	} {
		_, err := s.GetToken(ctx, id)
		if gone := errors.Is(err, storage.ErrNotFound); gone != wantGone {
			t.Errorf("token %s gone=%v (err %v), want %v", id, gone, err, wantGone)
		}
	}
}

func testConcurrentWrites(t *testing.T, s storage.Store) {
	ctx := context.Background()
	mustUser(t, s, "alice")
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				if err := s.CreateToken(ctx, storage.Token{ID: id, User: "alice", Kind: storage.KindOpen, CreatedAt: base, LastUsedAt: base}); err != nil {
					errs <- err
					continue
				}
				if _, err := s.GetToken(ctx, id); err != nil {
					errs <- fmt.Errorf("read own write %s: %w", id, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
