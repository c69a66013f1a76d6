package license

import (
	"context"
	"crypto"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// UserKeys is the answer of Cryptolens' User/GetLicenseKeys (User Login Auth): a user's license keys as the
// token may see them, the machine codes the user authorized, and a signature over both with the date. The
// .NET SDK verifies RSASSA-PKCS1-v1_5 SHA-256 over Results ‖ ActivatedMachineCodes ‖ int64-LE(SignDate in
// Unix seconds) with the vendor's public key, which here is the key of the product the token is locked to.
type UserKeys struct {
	// Results is the UTF-8 JSON array of KeyInfoResult objects: {"licenseKey":{…},"result":0,"message":null}.
	Results []byte
	// ActivatedMachineCodes is the UTF-8 JSON array of machine codes.
	ActivatedMachineCodes []byte
	SignDate              time.Time
	Signature             []byte
}

// UserKeysSignedBytes is what UserKeys.Signature signs.
func UserKeysSignedBytes(results, machineCodes []byte, signDate time.Time) []byte {
	out := make([]byte, 0, len(results)+len(machineCodes)+8)
	out = append(out, results...)
	out = append(out, machineCodes...)
	return binary.LittleEndian.AppendUint64(out, uint64(signDate.Unix()))
}

// SignUserKeys lists keys (a user's, found by the caller) as the access may see them and signs the list with
// machineCodes. The access needs the GetLicenseKeys method and a product lock: only that product's keys are
// listed, and its key signs. Keys outside the token's key lock are left out; its feature lock hides fields.
func (s *Service) SignUserKeys(ctx context.Context, a *Access, keys []storage.LicenseKey, machineCodes []string) (UserKeys, error) {
	if err := a.allow(MethodGetLicenseKeys); err != nil {
		return UserKeys{}, err
	}
	if a.token.ProductLock <= 0 {
		return UserKeys{}, fmt.Errorf("%w: GetLicenseKeys needs a token locked to a product, whose key signs the answer", ErrAccessDenied)
	}
	p, err := s.product(ctx, a, a.token.ProductLock)
	if err != nil {
		return UserKeys{}, err
	}
	now := s.now()
	results := []userKeyResult{}
	for _, k := range keys {
		if k.ProductID != p.ID || a.keyAllowed(k) != nil {
			continue
		}
		acts, err := s.store.ListActivations(ctx, k.GlobalID)
		if err != nil {
			return UserKeys{}, err
		}
		l := s.view(p, k, acts, a, 0, now)
		if l.Hidden.Has(HideActivatedMachines) {
			l.Machines = nil // no calling machine to show
		}
		if l, err = s.withCustomer(ctx, l); err != nil {
			return UserKeys{}, err
		}
		results = append(results, userKeyResult{LicenseKey: linqSignKey(l, now)})
	}
	if machineCodes == nil {
		machineCodes = []string{}
	}
	out := UserKeys{SignDate: now.Truncate(time.Second)}
	if out.Results, err = json.Marshal(results); err != nil {
		return UserKeys{}, err
	}
	if out.ActivatedMachineCodes, err = json.Marshal(machineCodes); err != nil {
		return UserKeys{}, err
	}
	out.Signature, err = s.sign(p, crypto.SHA256, UserKeysSignedBytes(out.Results, out.ActivatedMachineCodes, out.SignDate))
	if err != nil {
		return UserKeys{}, err
	}
	return out, nil
}

// userKeyResult is Cryptolens' KeyInfoResult, one element of GetLicenseKeys' results.
type userKeyResult struct {
	LicenseKey linqKey `json:"licenseKey"`
	Result     int     `json:"result"`
	Message    *string `json:"message"`
}

// linqKey is the license key as the .NET SDK's LicenseKey class reads it from GetLicenseKeys (its
// "LinqSign" model): lower camel case names (Newtonsoft matches them to the PascalCase properties), dates as
// ISO 8601 strings (the properties are DateTime), no signature of its own (the list is signed as a whole).
// A hidden number is 0 and a hidden string null, because the class's numbers cannot hold null.
type linqKey struct {
	ProductID         int64         `json:"productId"`
	ID                int64         `json:"id"`
	Key               *string       `json:"key"`
	Created           string        `json:"created"`
	Expires           string        `json:"expires"`
	Period            int           `json:"period"`
	F1                bool          `json:"f1"`
	F2                bool          `json:"f2"`
	F3                bool          `json:"f3"`
	F4                bool          `json:"f4"`
	F5                bool          `json:"f5"`
	F6                bool          `json:"f6"`
	F7                bool          `json:"f7"`
	F8                bool          `json:"f8"`
	Notes             *string       `json:"notes"`
	Block             bool          `json:"block"`
	GlobalID          int64         `json:"globalId"`
	Customer          *linqCustomer `json:"customer"`
	ActivatedMachines []linqMachine `json:"activatedMachines"`
	TrialActivation   bool          `json:"trialActivation"`
	MaxNoOfMachines   int           `json:"maxNoOfMachines"`
	AllowedMachines   *string       `json:"allowedMachines"`
	DataObjects       []struct{}    `json:"dataObjects"`
	SignDate          string        `json:"signDate"`
	Signature         *string       `json:"signature"`
}

type linqCustomer struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Email       string `json:"email"`
	CompanyName string `json:"companyName"`
	Created     string `json:"created"`
}

type linqMachine struct {
	Mid          string `json:"mid"`
	IP           string `json:"ip"`
	Time         string `json:"time"`
	FriendlyName string `json:"friendlyName"`
}

// isoDate is a DateTime as Newtonsoft reads it: ISO 8601 in UTC, whole seconds.
func isoDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func linqSignKey(l License, signDate time.Time) linqKey {
	k, h := l.Key, l.Hidden
	hideNum := func(f FieldMask, v int64) int64 {
		if h.Has(f) {
			return 0
		}
		return v
	}
	out := linqKey{ProductID: k.ProductID, ID: hideNum(HideID, k.ID), Key: show(h.Has(HideKey), k.Key),
		Created: isoDate(k.CreatedAt), Expires: isoDate(k.ExpiresAt), Period: k.Period,
		F1: k.Features[0], F2: k.Features[1], F3: k.Features[2], F4: k.Features[3],
		F5: k.Features[4], F6: k.Features[5], F7: k.Features[6], F8: k.Features[7],
		Notes: show(h.Has(HideNotes), k.Notes), Block: k.Blocked || l.BlockedExpired,
		GlobalID: hideNum(HideGlobalID, k.GlobalID), ActivatedMachines: []linqMachine{}, TrialActivation: k.TrialActivation,
		MaxNoOfMachines: int(hideNum(HideMaxNoOfMachines, int64(k.MaxNoOfMachines))),
		AllowedMachines: show(h.Has(HideAllowedMachines), k.AllowedMachines), DataObjects: []struct{}{},
		SignDate: isoDate(signDate)}
	if l.Customer != nil && !h.Has(HideCustomer) {
		c := l.Customer
		out.Customer = &linqCustomer{ID: c.ID, Name: c.Name, Email: c.Email, CompanyName: c.Company, Created: isoDate(c.CreatedAt)}
	}
	for _, m := range l.Machines {
		out.ActivatedMachines = append(out.ActivatedMachines, linqMachine{Mid: Mid(m), IP: m.IP, Time: isoDate(m.ActivatedAt),
			FriendlyName: m.FriendlyName})
	}
	return out
}
