package apiclient_test

import (
	"context"
	"testing"

	"github.com/tokenmanager/tokenmanager/apiclient"
)

// BenchmarkIssue measures authenticate + issue (one committed SQLite insert) per token.
func BenchmarkIssue(b *testing.B) {
	f := newFixture(b, apiclient.Config{})
	c, err := f.svc.Create(context.Background(), apiclient.Spec{ID: "api", Scopes: []string{"Partner"}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		a, err := f.svc.Authenticate(ctx, "api", c.PrimaryKey)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.svc.Issue(ctx, a, "Partner"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify measures a bearer check (two indexed SQLite reads) per token use.
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b, apiclient.Config{})
	ctx := context.Background()
	c, _ := f.svc.Create(ctx, apiclient.Spec{ID: "api"})
	a, _ := f.svc.Authenticate(ctx, "api", c.PrimaryKey)
	iss, err := f.svc.Issue(ctx, a, "")
	if err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.svc.Verify(ctx, iss.Token); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
