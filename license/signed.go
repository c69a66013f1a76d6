package license

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Signed is a license in the form Cryptolens' SignMethod=1 ("StringSign") answers carry and every Cryptolens
// SDK verifies offline: the UTF-8 JSON of the license key with Cryptolens' exact PascalCase keys, and an
// RSASSA-PKCS1-v1_5 SHA-256 signature over exactly those bytes with the product's key. (Cryptolens' docs say
// the signature covers "the base64 representation"; its SDKs and its own license server sign and verify the
// decoded bytes, and so do we.)
type Signed struct {
	LicenseKey []byte
	Signature  []byte
}

// signedKey is Cryptolens' LicenseKey model. Every key but Reseller must be present (the Python SDK indexes
// them), and the objects inside may carry no extra keys (it passes them to constructors as **kwargs).
// Hidden fields are null where Cryptolens' clients model them as nullable, empty otherwise.
type signedKey struct {
	ProductID         int64              `json:"ProductId"`
	ID                *int64             `json:"ID"`
	Key               *string            `json:"Key"`
	Created           int64              `json:"Created"`
	Expires           int64              `json:"Expires"`
	Period            int                `json:"Period"`
	F1                bool               `json:"F1"`
	F2                bool               `json:"F2"`
	F3                bool               `json:"F3"`
	F4                bool               `json:"F4"`
	F5                bool               `json:"F5"`
	F6                bool               `json:"F6"`
	F7                bool               `json:"F7"`
	F8                bool               `json:"F8"`
	Notes             *string            `json:"Notes"`
	Block             bool               `json:"Block"`
	GlobalID          *int64             `json:"GlobalId"`
	Customer          *signedCustomer    `json:"Customer"`
	ActivatedMachines []signedMachine    `json:"ActivatedMachines"`
	TrialActivation   bool               `json:"TrialActivation"`
	MaxNoOfMachines   *int               `json:"MaxNoOfMachines"`
	AllowedMachines   string             `json:"AllowedMachines"`
	DataObjects       []signedDataObject `json:"DataObjects"`
	SignDate          int64              `json:"SignDate"`
	Reseller          *signedReseller    `json:"Reseller,omitempty"`
}

// signedReseller is Cryptolens' Reseller model, every key of it (the Python SDK passes it as **kwargs).
// InviteId and ResellerUserId are Cryptolens' account links; a reseller here is a record, so they are 0.
type signedReseller struct {
	ID             int64  `json:"Id"`
	InviteID       int64  `json:"InviteId"`
	ResellerUserID int64  `json:"ResellerUserId"`
	Created        int64  `json:"Created"`
	Name           string `json:"Name"`
	URL            string `json:"Url"`
	Email          string `json:"Email"`
	Phone          string `json:"Phone"`
	Description    string `json:"Description"`
}

type signedCustomer struct {
	ID          int64  `json:"Id"`
	Name        string `json:"Name"`
	Email       string `json:"Email"`
	CompanyName string `json:"CompanyName"`
	Created     int64  `json:"Created"`
}

// signedDataObject is Cryptolens' DataObject: exactly these keys (the Python SDK builds objects from them).
type signedDataObject struct {
	ID          int64  `json:"Id"`
	Name        string `json:"Name"`
	StringValue string `json:"StringValue"`
	IntValue    int64  `json:"IntValue"`
}

type signedMachine struct {
	Mid             string `json:"Mid"`
	FriendlyName    string `json:"FriendlyName"`
	IP              string `json:"IP"`
	Time            int64  `json:"Time"`
	FloatingExpires int64  `json:"FloatingExpires"`
}

// unix is Cryptolens' date form: Unix seconds, 0 for none.
func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// show returns &v, or nil when the field is hidden.
func show[T any](hidden bool, v T) *T {
	if hidden {
		return nil
	}
	return &v
}

// LicenseJSON is the license key JSON that Sign signs, dated signDate.
func LicenseJSON(l License, signDate time.Time) ([]byte, error) {
	k, h := l.Key, l.Hidden
	out := signedKey{
		ProductID: k.ProductID, ID: show(h.Has(HideID), k.ID), Key: show(h.Has(HideKey), k.Key),
		Created: unix(k.CreatedAt), Expires: unix(k.ExpiresAt), Period: k.Period,
		F1: k.Features[0], F2: k.Features[1], F3: k.Features[2], F4: k.Features[3],
		F5: k.Features[4], F6: k.Features[5], F7: k.Features[6], F8: k.Features[7],
		Notes: show(h.Has(HideNotes), k.Notes), Block: k.Blocked || l.BlockedExpired,
		GlobalID: show(h.Has(HideGlobalID), k.GlobalID), ActivatedMachines: []signedMachine{},
		TrialActivation: k.TrialActivation, MaxNoOfMachines: show(h.Has(HideMaxNoOfMachines), k.MaxNoOfMachines),
		DataObjects: []signedDataObject{}, SignDate: unix(signDate),
	}
	if !h.Has(HideAllowedMachines) {
		out.AllowedMachines = k.AllowedMachines
	}
	if l.Customer != nil && !h.Has(HideCustomer) {
		c := l.Customer
		out.Customer = &signedCustomer{ID: c.ID, Name: c.Name, Email: c.Email, CompanyName: c.Company, Created: unix(c.CreatedAt)}
	}
	if r := l.Reseller; r != nil {
		out.Reseller = &signedReseller{ID: r.ID, Created: unix(r.CreatedAt), Name: r.Name, URL: r.URL, Email: r.Email,
			Phone: r.Phone, Description: r.Description}
	}
	for _, o := range l.DataObjects {
		out.DataObjects = append(out.DataObjects, signedDataObject{ID: o.ID, Name: o.Name, StringValue: o.StringValue, IntValue: o.IntValue})
	}
	for _, m := range l.Machines {
		out.ActivatedMachines = append(out.ActivatedMachines, signedMachine{Mid: Mid(m), FriendlyName: m.FriendlyName,
			IP: m.IP, Time: unix(m.ActivatedAt), FloatingExpires: unix(m.FloatingExpiresAt)})
	}
	return json.Marshal(out)
}

// Sign returns the license in signed form, dated now.
func (s *Service) Sign(l License) (Signed, error) {
	body, err := LicenseJSON(l, s.now())
	if err != nil {
		return Signed{}, err
	}
	sig, err := s.sign(l.Product, crypto.SHA256, body)
	if err != nil {
		return Signed{}, err
	}
	return Signed{LicenseKey: body, Signature: sig}, nil
}

func (s *Service) sign(p storage.Product, h crypto.Hash, data []byte) ([]byte, error) {
	priv, err := s.signer(p)
	if err != nil {
		return nil, err
	}
	var digest []byte
	switch h {
	case crypto.SHA256:
		d := sha256.Sum256(data)
		digest = d[:]
	case crypto.SHA512:
		d := sha512.Sum512(data)
		digest = d[:]
	default:
		return nil, fmt.Errorf("license: hash %v not used", h)
	}
	// PKCS #1 v1.5 signing is deterministic; the random source only blinds the private-key operation.
	return rsa.SignPKCS1v15(nil, priv, h, digest)
}

// Metadata is Cryptolens' "metadata" object (Activate and GetKey with Metadata=true).
type Metadata struct {
	ActivatedMachines    int           `json:"activatedMachines"`
	LicenseStatus        LicenseStatus `json:"licenseStatus"`
	UsedFloatingMachines int           `json:"usedFloatingMachines"`
	// Signature is base64 of the JSON {"Data": base64(JSON of this object without Signature), "Signature":
	// base64(RSASSA-PKCS1-v1_5 SHA-512 over those Data bytes)}, the form Cryptolens' SDKs verify.
	Signature string `json:"signature"`
}

// LicenseStatus summarizes whether the key may be used now.
type LicenseStatus struct {
	IsValid bool `json:"isValid"`
	// ReasonForInvalidity: 0 valid, 1 expired, 2 blocked (Cryptolens publishes the values 0, 1 and 2 but not
	// their meaning; this is our reading).
	ReasonForInvalidity int  `json:"reasonForInvalidity"`
	Trial               bool `json:"trial"`
	TimeLimited         bool `json:"timeLimited"`
	TimeLeft            int  `json:"timeLeft"` // whole days, rounded up; 0 when not time-limited or expired
}

// LicenseMetadata returns the license's metadata without a signature (Signature empty), for answers that were
// not asked to be signed: signing costs an RSA private-key operation.
func LicenseMetadata(l License) Metadata {
	trial := l.Key.TrialMachine != "" || l.Key.TrialActivation
	st := LicenseStatus{IsValid: true, Trial: trial, TimeLimited: l.Product.BlockExpired || trial}
	switch {
	case l.Key.Blocked || l.BlockedExpired:
		st.IsValid, st.ReasonForInvalidity = false, 2
	case l.Expired:
		st.IsValid, st.ReasonForInvalidity = false, 1
	}
	if st.TimeLimited && !l.Expired && !l.Key.ExpiresAt.IsZero() {
		st.TimeLeft = int((l.Key.ExpiresAt.Sub(l.At) + 24*time.Hour - time.Nanosecond) / (24 * time.Hour))
	}
	return Metadata{ActivatedMachines: l.NodeLocked, LicenseStatus: st, UsedFloatingMachines: l.FloatingInUse}
}

// SignedMetadata returns the license's metadata with its signature.
func (s *Service) SignedMetadata(l License) (Metadata, error) {
	m := LicenseMetadata(l)
	data, err := json.Marshal(struct {
		ActivatedMachines    int           `json:"activatedMachines"`
		LicenseStatus        LicenseStatus `json:"licenseStatus"`
		UsedFloatingMachines int           `json:"usedFloatingMachines"`
	}{m.ActivatedMachines, m.LicenseStatus, m.UsedFloatingMachines})
	if err != nil {
		return Metadata{}, err
	}
	sig, err := s.sign(l.Product, crypto.SHA512, data)
	if err != nil {
		return Metadata{}, err
	}
	wrapped, err := json.Marshal(struct {
		Data      []byte `json:"Data"`
		Signature []byte `json:"Signature"`
	}{data, sig})
	if err != nil {
		return Metadata{}, err
	}
	m.Signature = base64.StdEncoding.EncodeToString(wrapped)
	return m, nil
}
