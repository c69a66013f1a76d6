package license_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

func TestKeyQuery(t *testing.T) {
	created := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	rec := license.KeyRecord{
		Key: storage.LicenseKey{ID: 7, GlobalID: 70, Key: "ABCDE-FGHIJ-KLMNO-PQRST", Notes: "Trial for Bob", CreatedAt: created,
			ExpiresAt: created.AddDate(0, 0, 30), Period: 30, Features: [8]bool{true, false, true}, MaxNoOfMachines: 2,
			CustomerID: 4, ResellerID: 9},
		Customer: &storage.Customer{ID: 4, Name: "Bob", Email: "bob@example.com", Company: "Bob Ltd"},
		Reseller: &storage.Reseller{ID: 9, Name: "Shop"},
	}
	bare := license.KeyRecord{Key: storage.LicenseKey{ID: 8, Key: "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ", CreatedAt: created}}
	for _, c := range []struct {
		q          string
		rec, bare_ bool
	}{
		{"", true, true},
		{`Key == "ABCDE-FGHIJ-KLMNO-PQRST"`, true, false},
		{`key="abcde-fghij-klmno-pqrst"`, true, false}, // one =, any case
		{`Notes = "trial for bob"`, true, false},
		{`Notes.Contains("trial")`, true, false},
		{`Notes.StartsWith("Trial") && Notes.EndsWith("Bob")`, true, false},
		{`F1 == true`, true, false},
		{`F1 && F3 && !F2`, true, false},
		{`F2 == false`, true, true},
		{`not Block and ID >= 7`, true, true},
		{`ID == 7 || ID == 8`, true, true},
		{`(ID == 7 || ID == 8) && MaxNoOfMachines > 1`, true, false},
		{`Expires < DateTime(2025, 4, 1)`, true, true}, // a key without an expiry date reads as the earliest
		{`Expires > DateTime(2025, 3, 31, 11, 59, 59)`, true, false},
		{`Created >= "2025-03-01" && Created < "2025-03-02"`, true, true},
		{`Customer.Email == "BOB@example.com"`, true, false},
		{`Customer.CompanyName.Contains("ltd")`, true, false},
		{`Customer != null`, true, false},
		{`Customer == null`, false, true},
		{`CustomerId == 4 && Customer.Id == 4`, true, false},
		{`Reseller.Name == "Shop" && ResellerId == 9`, true, false},
		{`Period != 30`, false, true},
		{`GlobalId == 70`, true, false},
	} {
		q, err := license.ParseKeyQuery(c.q)
		if err != nil {
			t.Fatalf("ParseKeyQuery(%q): %v", c.q, err)
		}
		if got := q.Match(rec); got != c.rec {
			t.Errorf("%q on the full key = %v, want %v", c.q, got, c.rec)
		}
		if got := q.Match(bare); got != c.bare_ {
			t.Errorf("%q on the bare key = %v, want %v", c.q, got, c.bare_)
		}
	}
}

func TestKeyQueryRefusals(t *testing.T) {
	for _, q := range []string{
		`Key ==`, `Key == 5`, `ID == "7"`, `F1 > true`, `Unknown == 1`, `Notes.Contains(5)`, `ID.Contains("x")`,
		`Key == "open`, `(ID == 1`, `ID == 1)`, `ID == 1 &&`, `Expires < DateTime(2025, 2, 30)`, `Expires < "tomorrow"`,
		`Customer == "Bob"`, `Customer < null`, `ID == 99999999999999999999`, `ID $ 1`, `Notes.Contains("a").Length`,
		strings.Repeat("(", 40) + "F1" + strings.Repeat(")", 40), strings.Repeat("F1 && ", 150) + "F1",
		strings.Repeat("x", license.MaxSearchQueryLen+1), `Expires < DateTime(2025, 1)`, `ID == -`,
	} {
		if _, err := license.ParseKeyQuery(q); !errors.Is(err, license.ErrInvalidInput) {
			t.Errorf("ParseKeyQuery(%.60q) = %v, want ErrInvalidInput", q, err)
		}
	}
}

// FuzzKeyQuery: any input parses or is refused as invalid input, never panics, and a parsed query evaluates.
func FuzzKeyQuery(f *testing.F) {
	for _, s := range []string{`Key == "A"`, `F1 && !(ID > 3 || Notes.Contains("x"))`, `Expires < DateTime(2030,1,1)`,
		`Customer != null and Customer.Name = "b"`, `((((`, `"\"`, `Created >= "2024-01-01T00:00:00"`} {
		f.Add(s)
	}
	rec := license.KeyRecord{Key: storage.LicenseKey{ID: 1, Key: "K"}, Customer: &storage.Customer{Name: "b"}}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := license.ParseKeyQuery(s)
		if err != nil {
			if !errors.Is(err, license.ErrInvalidInput) {
				t.Fatalf("ParseKeyQuery(%q) = %v, not ErrInvalidInput", s, err)
			}
			return
		}
		q.Match(rec)
		q.Match(license.KeyRecord{})
	})
}
