package keys

import (
	"crypto/cipher"
	"sync/atomic"
)

// Set is the server key of a running process during a rotation: the active key, the one the database's
// fingerprint names, seals; the other (the previous or the next key) only opens. Outside a rotation there is no
// other key. A Set changes as a whole (Use, Activate), and the Sealers made from it follow.
type Set struct{ p atomic.Pointer[pair] }

type pair struct{ active, other []byte }

// NewSet makes a Set of active and other (nil: none).
func NewSet(active, other []byte) *Set {
	s := new(Set)
	s.Use(active, other)
	return s
}

// Use replaces the keys.
func (s *Set) Use(active, other []byte) { s.p.Store(&pair{active: active, other: other}) }

// Active returns the active key.
func (s *Set) Active() []byte { return s.p.Load().active }

// Keys returns the keys, the active one first.
func (s *Set) Keys() [][]byte {
	p := s.p.Load()
	if p.other == nil {
		return [][]byte{p.active}
	}
	return [][]byte{p.active, p.other}
}

// Activate makes the key whose fingerprint is fp the active one, and reports whether the set has it.
func (s *Set) Activate(fp string) bool {
	p := s.p.Load()
	switch {
	case Fingerprint(p.active) == fp:
		return true
	case p.other != nil && Fingerprint(p.other) == fp:
		s.Use(p.other, p.active)
		return true
	}
	return false
}

// SealerFor makes a Sealer over the set whose keys are derived for purpose (NewSealerFor).
func (s *Set) SealerFor(purpose string) *Sealer {
	return s.SealerWith(func(master []byte) []byte { return Derive(master, purpose) })
}

// SealerWith makes a Sealer over the set whose keys are derive(master), for each key of the set.
func (s *Set) SealerWith(derive func(master []byte) []byte) *Sealer {
	return &Sealer{set: s, derive: derive}
}

// setAEADs are the AEADs of a Sealer over a Set, for one state of the set.
type setAEADs struct {
	from  *pair
	aeads []cipher.AEAD
}

// aeads returns the AEADs to use now: the sealing one first.
func (s *Sealer) aeads() []cipher.AEAD {
	if s.set == nil {
		return []cipher.AEAD{s.aead}
	}
	p := s.set.p.Load()
	if c := s.cache.Load(); c != nil && c.from == p {
		return c.aeads
	}
	c := &setAEADs{from: p, aeads: []cipher.AEAD{newAEAD(s.derive(p.active))}}
	if p.other != nil {
		c.aeads = append(c.aeads, newAEAD(s.derive(p.other)))
	}
	s.cache.Store(c)
	return c.aeads
}
