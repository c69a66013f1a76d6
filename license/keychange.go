package license

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tokenmanager/tokenmanager/storage"
)

// Errors of resellers and license templates, mapped by the transports as the others are.
var (
	// ErrResellerNotFound: the vendor has no such reseller.
	ErrResellerNotFound = errors.New("license: reseller not found")
	// ErrTemplateNotFound: no such license template, or it belongs to a product the caller does not reach.
	ErrTemplateNotFound = errors.New("license: license template not found")
)

// MaxKeysPerCall bounds CreateKey's NoOfKeys: one call writes its keys in one transaction.
const MaxKeysPerCall = 1000

// AddFeature turns feature n (1..8) of a key on, or with on false off (key/AddFeature, key/RemoveFeature).
func (s *Service) AddFeature(ctx context.Context, a *Access, productID int64, key string, n int, on bool) error {
	m := MethodAddFeature
	if !on {
		m = MethodRemoveFeature
	}
	if n < 1 || n > 8 {
		return invalid("Feature %d: features are 1 to 8", n)
	}
	return s.updateKey(ctx, a, m, productID, key, func(k *storage.LicenseKey) error {
		k.Features[n-1] = on
		return nil
	})
}

// ChangeNotes replaces a key's notes.
func (s *Service) ChangeNotes(ctx context.Context, a *Access, productID int64, key, notes string) error {
	if err := checkNotes(notes); err != nil {
		return err
	}
	return s.updateKey(ctx, a, MethodChangeNotes, productID, key, func(k *storage.LicenseKey) error {
		k.Notes = notes
		return nil
	})
}

func checkNotes(notes string) error {
	if utf8.RuneCountInString(notes) > MaxNotesLen {
		return invalid("notes are longer than %d characters", MaxNotesLen)
	}
	return checkLines("notes", notes, MaxNotesLen*utf8.UTFMax)
}

// ChangeCustomer links a key to one of the vendor's customers; 0 unlinks it.
func (s *Service) ChangeCustomer(ctx context.Context, a *Access, productID int64, key string, customerID int64) error {
	if customerID < 0 {
		return invalid("customer id %d", customerID)
	}
	if err := a.allow(MethodChangeCustomer); err != nil {
		return err
	}
	p, err := s.product(ctx, a, productID)
	if err != nil {
		return err
	}
	if customerID != 0 {
		if _, err := s.customer(ctx, p.Vendor, customerID); err != nil {
			return err
		}
	}
	return s.updateKey(ctx, a, MethodChangeCustomer, productID, key, func(k *storage.LicenseKey) error {
		k.CustomerID = customerID
		return nil
	})
}

// ChangeReseller links a key to one of the vendor's resellers; 0 unlinks it.
func (s *Service) ChangeReseller(ctx context.Context, a *Access, productID int64, key string, resellerID int64) error {
	if resellerID < 0 {
		return invalid("reseller id %d", resellerID)
	}
	if err := a.allow(MethodChangeReseller); err != nil {
		return err
	}
	p, err := s.product(ctx, a, productID)
	if err != nil {
		return err
	}
	if resellerID != 0 {
		if _, err := s.reseller(ctx, p.Vendor, resellerID); err != nil {
			return err
		}
	}
	return s.updateKey(ctx, a, MethodChangeReseller, productID, key, func(k *storage.LicenseKey) error {
		k.ResellerID = resellerID
		return nil
	})
}

// MachineLockLimit sets how many machines may activate a key (0: machines are not recorded). Machines already
// activated stay; a lower limit only refuses new ones, as Cryptolens does.
func (s *Service) MachineLockLimit(ctx context.Context, a *Access, productID int64, key string, n int) error {
	if n < 0 || n > MaxMachines {
		return invalid("NumberOfMachines %d", n)
	}
	return s.updateKey(ctx, a, MethodMachineLockLimit, productID, key, func(k *storage.LicenseKey) error {
		k.MaxNoOfMachines = n
		return nil
	})
}

// --- resellers ---

// ResellerSpec describes a new reseller.
type ResellerSpec struct {
	Name, Email, Phone, URL, Description string
}

// CreateReseller adds a reseller of the vendor.
func (s *Service) CreateReseller(ctx context.Context, a *Access, vendor string, spec ResellerSpec) (storage.Reseller, error) {
	if a.vendor != "" && a.vendor != vendor {
		return storage.Reseller{}, fmt.Errorf("%w: resellers of %q", ErrAccessDenied, vendor)
	}
	if a.tokenID != 0 {
		return storage.Reseller{}, fmt.Errorf("%w: resellers are added by the vendor, not an API token", ErrAccessDenied)
	}
	if err := s.checkVendor(ctx, vendor); err != nil {
		return storage.Reseller{}, err
	}
	spec.Name = strings.TrimSpace(spec.Name)
	if spec.Name == "" {
		return storage.Reseller{}, invalid("a reseller needs a name")
	}
	for _, f := range [][2]string{{"reseller name", spec.Name}, {"e-mail", spec.Email}, {"phone", spec.Phone},
		{"url", spec.URL}, {"description", spec.Description}} {
		if err := CheckText(f[0], f[1], MaxNameLen); err != nil {
			return storage.Reseller{}, err
		}
	}
	r, err := s.store.CreateReseller(ctx, storage.Reseller{Vendor: vendor, Name: spec.Name, Email: spec.Email,
		Phone: spec.Phone, URL: spec.URL, Description: spec.Description, CreatedAt: s.now()})
	s.record(ctx, a, vendor, "license.reseller.create", fmt.Sprintf("reseller=%d", r.ID), err)
	return r, err
}

// ListResellers returns the resellers the access reaches (every vendor's for the operator).
func (s *Service) ListResellers(ctx context.Context, a *Access) ([]storage.Reseller, error) {
	return s.store.ListResellers(ctx, a.vendor)
}

// reseller returns the vendor's reseller, or ErrResellerNotFound.
func (s *Service) reseller(ctx context.Context, vendor string, id int64) (storage.Reseller, error) {
	r, err := s.store.GetReseller(ctx, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && r.Vendor != vendor) {
		return storage.Reseller{}, fmt.Errorf("%w: %d", ErrResellerNotFound, id)
	}
	return r, err
}

// --- license templates ---

// TemplateSpec describes a new license template: a name and the CreateKey parameters keys made from it get.
type TemplateSpec struct {
	Name string
	Key  KeySpec // NewCustomer and CustomerID are not part of a template
}

// CreateTemplate stores a license template of the product.
func (s *Service) CreateTemplate(ctx context.Context, a *Access, productID int64, spec TemplateSpec) (storage.LicenseTemplate, error) {
	if a.tokenID != 0 {
		return storage.LicenseTemplate{}, fmt.Errorf("%w: templates are made by the vendor, not an API token", ErrAccessDenied)
	}
	spec.Name = strings.TrimSpace(spec.Name)
	if spec.Name == "" {
		return storage.LicenseTemplate{}, invalid("a template needs a name")
	}
	if err := CheckText("template name", spec.Name, MaxNameLen); err != nil {
		return storage.LicenseTemplate{}, err
	}
	if spec.Key.NewCustomer != nil || spec.Key.CustomerID != 0 {
		return storage.LicenseTemplate{}, invalid("a template names no customer")
	}
	if err := spec.Key.check(); err != nil {
		return storage.LicenseTemplate{}, err
	}
	p, err := s.product(ctx, a, productID)
	if err != nil {
		return storage.LicenseTemplate{}, err
	}
	if spec.Key.ResellerID != 0 {
		if _, err := s.reseller(ctx, p.Vendor, spec.Key.ResellerID); err != nil {
			return storage.LicenseTemplate{}, err
		}
	}
	k := spec.Key
	t, err := s.store.CreateLicenseTemplate(ctx, storage.LicenseTemplate{ProductID: p.ID, Name: spec.Name, Period: k.Period,
		Features: k.Features, Notes: k.Notes, Blocked: k.Blocked, TrialActivation: k.TrialActivation,
		MaxNoOfMachines: k.MaxNoOfMachines, AllowedMachines: k.AllowedMachines, ResellerID: k.ResellerID, CreatedAt: s.now()})
	s.record(ctx, a, p.Vendor, "license.template.create", fmt.Sprintf("product=%d template=%d", p.ID, t.ID), err)
	return t, err
}

// ListTemplates returns the product's license templates.
func (s *Service) ListTemplates(ctx context.Context, a *Access, productID int64) ([]storage.LicenseTemplate, error) {
	if _, err := s.product(ctx, a, productID); err != nil {
		return nil, err
	}
	return s.store.ListLicenseTemplates(ctx, productID)
}

// template returns a template of a product the access reaches, or ErrTemplateNotFound (also for another
// vendor's, so that ids are not probed).
func (s *Service) template(ctx context.Context, a *Access, id int64) (storage.LicenseTemplate, storage.Product, error) {
	if id <= 0 {
		return storage.LicenseTemplate{}, storage.Product{}, invalid("LicenseTemplateId %d", id)
	}
	t, err := s.store.GetLicenseTemplate(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.LicenseTemplate{}, storage.Product{}, fmt.Errorf("%w: %d", ErrTemplateNotFound, id)
	}
	if err != nil {
		return storage.LicenseTemplate{}, storage.Product{}, err
	}
	p, err := s.product(ctx, a, t.ProductID)
	if errors.Is(err, ErrProductNotFound) {
		return storage.LicenseTemplate{}, storage.Product{}, fmt.Errorf("%w: %d", ErrTemplateNotFound, id)
	}
	return t, p, err
}

// RemoveTemplate deletes a license template; keys made from it stay as they are.
func (s *Service) RemoveTemplate(ctx context.Context, a *Access, id int64) error {
	if a.tokenID != 0 {
		return fmt.Errorf("%w: templates are removed by the vendor, not an API token", ErrAccessDenied)
	}
	_, p, err := s.template(ctx, a, id)
	if err != nil {
		return err
	}
	err = s.store.DeleteLicenseTemplate(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		err = fmt.Errorf("%w: %d", ErrTemplateNotFound, id)
	}
	s.record(ctx, a, p.Vendor, "license.template.remove", fmt.Sprintf("product=%d template=%d", p.ID, id), err)
	return err
}

// CreateKeyFromTemplate makes a key with a template's parameters. A token's feature lock, when set, is the one
// template id it may use (Cryptolens' rule).
func (s *Service) CreateKeyFromTemplate(ctx context.Context, a *Access, templateID int64) (storage.LicenseKey, storage.LicenseTemplate, error) {
	if err := a.allow(MethodCreateKeyFromTemplate); err != nil {
		return storage.LicenseKey{}, storage.LicenseTemplate{}, err
	}
	if err := a.mayCreateKeys(); err != nil {
		return storage.LicenseKey{}, storage.LicenseTemplate{}, err
	}
	if fl := a.token.FeatureLock; a.tokenID != 0 && fl != 0 && fl != templateID {
		return storage.LicenseKey{}, storage.LicenseTemplate{}, fmt.Errorf("%w: token %d is locked to template %d", ErrAccessDenied, a.tokenID, fl)
	}
	t, p, err := s.template(ctx, a, templateID)
	if err != nil {
		return storage.LicenseKey{}, storage.LicenseTemplate{}, err
	}
	now := s.now()
	expires, err := addDays("period", now, t.Period)
	if err != nil {
		return storage.LicenseKey{}, storage.LicenseTemplate{}, err
	}
	k, err := s.insertKey(ctx, storage.LicenseKey{ProductID: p.ID, CreatedAt: now, Period: t.Period, ExpiresAt: expires,
		Features: t.Features, Notes: t.Notes, Blocked: t.Blocked, TrialActivation: t.TrialActivation,
		MaxNoOfMachines: t.MaxNoOfMachines, AllowedMachines: t.AllowedMachines, ResellerID: t.ResellerID})
	if errors.Is(err, storage.ErrNotFound) {
		err = fmt.Errorf("%w: %d", ErrTemplateNotFound, templateID)
	}
	s.record(ctx, a, p.Vendor, "license.key.createkeyfromtemplate", fmt.Sprintf("%s id=%d template=%d", keyDetail(p.ID, k.Key), k.ID,
		t.ID), err)
	if err != nil {
		return storage.LicenseKey{}, storage.LicenseTemplate{}, err
	}
	return k, t, nil
}
