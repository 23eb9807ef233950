package chain

import "fmt"

// A light check of who certifies a height (Version3, docs/adr/0003-consensus.md): from
// genesis's validators, each change of the set is a header certified by the set before it
// that commits to the set after it (Header.NextValidators). Proof bundles and the auditor's
// checkpoints carry the changes up to their height, so a checker that trusts only the
// genesis learns the set of any height without the chain.

// SetChange is one change of the validator set: the header of the last block the old set
// certifies, its certificate by that set, and the new set, in force from the next height.
type SetChange struct {
	Header      Header      `json:"header"`
	Certificate Commit      `json:"certificate"`
	Validators  []Validator `json:"validators"`
}

// MaxSetChanges bounds the changes a bundle or checkpoint may carry.
const MaxSetChanges = 1 << 16

// FollowSetChanges returns the schedule that changes lead to from g's validators. Each
// change's header must be of g's chain (ErrWrongChainID), above the change before it and
// at or below height (ErrBadBlock), certified by the set in force at its height
// (ErrBadCertificate), and commit to the change's set, which must differ from the set before
// and pass the checks genesis's set passes (ErrBadActivation). A chain before Version3 never
// changes its set: any change is ErrBadActivation.
func FollowSetChanges(g *Genesis, changes []SetChange, height uint64) (*Schedule, error) {
	s := NewSchedule(g)
	if len(changes) > 0 && g.Version() < Version3 {
		return nil, rejectf(ErrBadActivation, "validator-set changes on a chain of protocol version %d, whose set never changes", g.Version())
	}
	if len(changes) > MaxSetChanges {
		return nil, rejectf(ErrBadActivation, "%d validator-set changes, at most %d", len(changes), MaxSetChanges)
	}
	last := uint64(0)
	for i := range changes {
		c := &changes[i]
		h := &c.Header
		switch {
		case h.ChainID != g.ChainID:
			return nil, rejectf(ErrWrongChainID, "set change %d: chain id %d, the genesis's is %d", i, h.ChainID, g.ChainID)
		case h.Height <= last:
			return nil, rejectf(ErrBadBlock, "set change %d at height %d does not follow the one at %d", i, h.Height, last)
		case h.Height > height:
			return nil, rejectf(ErrBadBlock, "set change %d at height %d is above height %d", i, h.Height, height)
		}
		old := s.At(h.Height)
		if err := VerifyCommit(old.ChainID, old.Validators, h.Height, h.Hash(), &c.Certificate); err != nil {
			return nil, fmt.Errorf("set change %d, block %d: %w", i, h.Height, err)
		}
		before := ValidatorSetHash(old.Validators)
		if want := ValidatorSetHash(c.Validators); h.NextValidators != want || want == before {
			return nil, rejectf(ErrBadActivation, "set change %d: block %d commits to the set %s, the change names %s (the set before hashes to %s)",
				i, h.Height, h.NextValidators.Hex(), want.Hex(), before.Hex())
		}
		next := *old
		next.Validators = c.Validators
		if err := s.Activate(Activation{Height: h.Height + 1, Rules: next}); err != nil {
			return nil, fmt.Errorf("set change %d: %w", i, err)
		}
		last = h.Height
	}
	return s, nil
}

// Encode is the canonical encoding of a set change: 'X' 1, the header's encoding, the
// certificate's, and the set (as genesis encodes validators), each length-prefixed.
func (c *SetChange) Encode() []byte {
	e := encoder{}
	e.U8(tagSetChange)
	e.U8(encodingVersion)
	e.Bytes(c.Header.Encode())
	e.Bytes(c.Certificate.Encode())
	var vals encoder
	encodeValidators(&vals, c.Validators)
	e.Bytes(vals.Buf)
	return e.Buf
}

// DecodeSetChange strictly decodes a set change (FollowSetChanges checks what it says).
func DecodeSetChange(b []byte) (*SetChange, error) {
	d := newDecoder(b)
	if tag := d.U8(); d.Err == nil && tag != tagSetChange {
		d.Fail("not a set change (tag %#x)", tag)
	}
	if v := d.U8(); d.Err == nil && v != encodingVersion {
		return nil, rejectf(ErrUnknownVersion, "set change version %d", v)
	}
	hb, cb, vb := d.Bytes(headerSize), d.Bytes(MaxValidators*90+128), d.Bytes(maxValidatorSetBytes)
	if err := d.Finish(); err != nil {
		return nil, err
	}
	h, err := DecodeHeader(hb)
	if err != nil {
		return nil, err
	}
	c, err := DecodeCommit(cb)
	if err != nil {
		return nil, err
	}
	vd := newDecoder(vb)
	vals := decodeValidators(&vd)
	if err := vd.Finish(); err != nil {
		return nil, err
	}
	return &SetChange{Header: *h, Certificate: *c, Validators: vals}, nil
}

// maxValidatorSetBytes bounds an encoded validator set.
const maxValidatorSetBytes = 4 + MaxValidators*(2+maxValidatorName+20+4+65+20+4+maxValidatorAddrs*(2+maxValidatorAddr))
