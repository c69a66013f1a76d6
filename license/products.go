package license

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/tokenmanager/tokenmanager/storage"
)

// ProductSpec describes a new product.
type ProductSpec struct {
	Name string
	// BlockExpired treats keys past their expiry as blocked (Cryptolens' "Block Expired Licenses").
	BlockExpired bool
	// AllowActivationManagement lets customers free their keys' machines on /account/ (Cryptolens'
	// AllowActivationManagement).
	AllowActivationManagement bool
}

// CreateProduct makes a product for the vendor with a new RSA key pair; the private key is stored sealed with
// the server key and bound to the product's id.
func (s *Service) CreateProduct(ctx context.Context, a *Access, vendor string, spec ProductSpec) (storage.Product, error) {
	if a.vendor != "" && a.vendor != vendor {
		return storage.Product{}, fmt.Errorf("%w: products of %q", ErrAccessDenied, vendor)
	}
	if err := s.checkVendor(ctx, vendor); err != nil {
		return storage.Product{}, err
	}
	name := strings.TrimSpace(spec.Name)
	if name == "" {
		return storage.Product{}, invalid("a product needs a name")
	}
	if err := CheckText("product name", name, MaxNameLen); err != nil {
		return storage.Product{}, err
	}
	priv, pub, der, err := s.newKeyPair()
	if err != nil {
		return storage.Product{}, err
	}
	p, err := s.store.CreateProduct(ctx, storage.Product{Vendor: vendor, Name: name, PublicKey: pub,
		BlockExpired: spec.BlockExpired, AllowActivationManagement: spec.AllowActivationManagement, CreatedAt: s.now()},
		func(id int64) ([]byte, error) { return s.sealer.Seal(der, sealContext(id)), nil })
	if err != nil {
		return storage.Product{}, err
	}
	s.remember(p, priv)
	s.record(ctx, a, vendor, "license.product.create", fmt.Sprintf("product=%d name=%q", p.ID, p.Name), nil)
	return p, nil
}

// RotateProductKey gives the product a new RSA key pair; every license signed from now on is signed with it.
// Cryptolens' SDKs verify licenses against a public key compiled into the app, so apps reject the new
// signatures until they ship the new key (tokenmanager product pubkey): rotate only when the old private key is
// compromised or must be retired, and publish the new public key first.
func (s *Service) RotateProductKey(ctx context.Context, a *Access, id int64) (storage.Product, error) {
	if a.tokenID != 0 {
		return storage.Product{}, fmt.Errorf("%w: rotating a signing key needs vendor access, not an API token", ErrAccessDenied)
	}
	if _, err := s.product(ctx, a, id); err != nil {
		return storage.Product{}, err
	}
	priv, pub, der, err := s.newKeyPair()
	if err != nil {
		return storage.Product{}, err
	}
	p, err := s.store.UpdateProduct(ctx, id, func(p *storage.Product) error {
		p.PublicKey, p.SealedPrivateKey = pub, s.sealer.Seal(der, sealContext(id))
		return nil
	})
	if err != nil {
		return storage.Product{}, err
	}
	s.remember(p, priv)
	s.record(ctx, a, p.Vendor, "license.product.rotate_key", fmt.Sprintf("product=%d", p.ID), nil)
	return p, nil
}

// newKeyPair makes a product's signing key and returns it with its PKIX public and PKCS #8 private encodings.
func (s *Service) newKeyPair() (priv *rsa.PrivateKey, pub, der []byte, err error) {
	if priv, err = s.genKey(); err != nil {
		return nil, nil, nil, fmt.Errorf("license: generate key: %w", err)
	}
	if pub, err = x509.MarshalPKIXPublicKey(&priv.PublicKey); err != nil {
		return nil, nil, nil, err
	}
	if der, err = x509.MarshalPKCS8PrivateKey(priv); err != nil {
		return nil, nil, nil, err
	}
	return priv, pub, der, nil
}

func (s *Service) remember(p storage.Product, priv *rsa.PrivateKey) {
	s.mu.Lock()
	s.signers[p.ID] = signerEntry{sealed: p.SealedPrivateKey, priv: priv}
	s.mu.Unlock()
}

// sealContext binds a sealed private key to its product row.
func sealContext(productID int64) string {
	return "license-product-key:" + strconv.FormatInt(productID, 10)
}

// ListProducts returns the products the access reaches (every vendor's for the operator).
func (s *Service) ListProducts(ctx context.Context, a *Access) ([]storage.Product, error) {
	return s.store.ListProducts(ctx, a.vendor)
}

// Product returns one product the access reaches.
func (s *Service) Product(ctx context.Context, a *Access, id int64) (storage.Product, error) {
	return s.product(ctx, a, id)
}

// SetBlockExpired switches whether the product treats expired keys as blocked.
func (s *Service) SetBlockExpired(ctx context.Context, a *Access, id int64, on bool) (storage.Product, error) {
	if _, err := s.product(ctx, a, id); err != nil {
		return storage.Product{}, err
	}
	p, err := s.store.UpdateProduct(ctx, id, func(p *storage.Product) error {
		p.BlockExpired = on
		return nil
	})
	s.record(ctx, a, p.Vendor, "license.product.block_expired", fmt.Sprintf("product=%d on=%v", id, on), err)
	return p, err
}

// PublicKey returns the product's public key.
func PublicKey(p storage.Product) (*rsa.PublicKey, error) {
	k, err := x509.ParsePKIXPublicKey(p.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("license: product %d public key: %w", p.ID, err)
	}
	pub, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("license: product %d public key is %T, not RSA", p.ID, k)
	}
	return pub, nil
}

// PublicKeyXML is the key in the .NET <RSAKeyValue> form that Cryptolens shows vendors and every Cryptolens
// SDK parses: big-endian modulus and exponent, standard base64. The values are base64, so no escaping is due.
func PublicKeyXML(pub *rsa.PublicKey) string {
	e := big.NewInt(int64(pub.E)).Bytes()
	return "<RSAKeyValue><Modulus>" + base64.StdEncoding.EncodeToString(pub.N.Bytes()) + "</Modulus><Exponent>" +
		base64.StdEncoding.EncodeToString(e) + "</Exponent></RSAKeyValue>"
}

// PublicKeyPEM is the key as a PEM "PUBLIC KEY" block (PKIX).
func PublicKeyPEM(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// signer returns the product's private key, opening it once.
func (s *Service) signer(p storage.Product) (*rsa.PrivateKey, error) {
	s.mu.Lock()
	e, ok := s.signers[p.ID]
	s.mu.Unlock()
	if ok && bytes.Equal(e.sealed, p.SealedPrivateKey) {
		return e.priv, nil
	}
	der, err := s.sealer.Open(p.SealedPrivateKey, sealContext(p.ID))
	if err != nil {
		return nil, fmt.Errorf("license: product %d: open private key (wrong server key?): %w", p.ID, err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("license: product %d private key: %w", p.ID, err)
	}
	priv, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("license: product private key is not RSA")
	}
	s.remember(p, priv)
	return priv, nil
}

// SigningKeyAD is the associated data the product productID's private key is sealed with, for re-sealing it
// under another server key.
func SigningKeyAD(productID int64) string { return sealContext(productID) }
