package chain

import (
	"encoding/binary"
	"fmt"

	"github.com/ethereum/go-ethereum/crypto"
)

// The validator set as the chain decides it (Version3, docs/adr/0003-consensus.md): genesis's
// set is epoch 0, and each validator change a partner vote executes in block H becomes the
// set in force from H+ActivationDelay. The state records every epoch, each naming the one
// before it, so the ledger and the auditor's verifier rebuild the chain's Schedule from the
// state alone (Schedule.Follow) and every header commits to the set of the next height
// (Header.NextValidators, ValidatorSetHash).

// ActivationDelay is how many blocks after the deciding block a validator change takes
// effect: decided in block H, the set changes at H+2. So the set of every height h is known
// once h-2 is committed, before the header of h-1 (which commits to it) is built, and a node
// starting height h knows the sets of h and h+1. A validator added at H is allowed to connect
// from H, and has a block's time to catch up before it must vote.
const ActivationDelay = 2

// State keys of the validator set.
const (
	nsValidatorEpoch     = 'V' // activation height (8 bytes, big-endian) → validatorEpoch
	nsLastValidatorEpoch = 'E' // the height of the last epoch recorded
	nsRetiredValidator   = 'k' // a validator key rotated away → the key it was rotated to
)

func validatorEpochKey(height uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{nsValidatorEpoch}, height)
}

func retiredValidatorKey(a Address) []byte { return append([]byte{nsRetiredValidator}, a[:]...) }

// validatorEpoch is one epoch's record: the set in force from its height on, and the height
// of the epoch before it (for epoch 0, itself).
type validatorEpoch struct {
	prev       uint64
	validators []Validator
}

func (ep *validatorEpoch) encode() []byte {
	e := encoder{}
	e.U8(recordVersion)
	e.U64(ep.prev)
	encodeValidators(&e, ep.validators)
	return e.Buf
}

func decodeValidatorEpoch(b []byte) (*validatorEpoch, error) {
	d := newDecoder(b)
	if v := d.U8(); d.Err == nil && v != recordVersion {
		return nil, rejectf(ErrUnknownVersion, "validator epoch record version %d", v)
	}
	ep := &validatorEpoch{prev: d.U64(), validators: decodeValidators(&d)}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	return ep, nil
}

// encodeValidators is the canonical encoding of a validator set, as genesis encodes its own.
func encodeValidators(e *encoder, vals []Validator) {
	e.U32(uint32(len(vals)))
	for _, v := range vals {
		e.Str(v.Name)
		e.Address(v.Partner)
		e.Bytes(v.PubKey)
		e.Address(v.Address)
		e.U32(uint32(len(v.Addrs)))
		for _, a := range v.Addrs {
			e.Str(a)
		}
	}
}

// Bounds of a validator entry, checked by checkValidators and the decoder.
const (
	maxValidatorName  = 64
	maxValidatorAddr  = 256
	maxValidatorAddrs = 16
)

func decodeValidators(d *decoder) []Validator {
	n := d.Count(MaxValidators, 4+20+4+20+4)
	vals := make([]Validator, 0, n)
	for i := 0; i < n && d.Err == nil; i++ {
		v := Validator{Name: d.Str(maxValidatorName), Partner: d.Address(), PubKey: d.Bytes(65), Address: d.Address()}
		m := d.Count(maxValidatorAddrs, 4)
		for j := 0; j < m && d.Err == nil; j++ {
			v.Addrs = append(v.Addrs, d.Str(maxValidatorAddr))
		}
		vals = append(vals, v)
	}
	return vals
}

// ValidatorSetHash is what a header commits to for the set that certifies the next block:
// keccak256 of 'W' 1 and the set's canonical encoding (every entry, in index order).
func ValidatorSetHash(vals []Validator) Hash {
	e := encoder{}
	e.U8(tagValidatorSet)
	e.U8(encodingVersion)
	encodeValidators(&e, vals)
	return crypto.Keccak256Hash(e.Buf)
}

// initValidators records genesis's set as epoch 0 (Version3).
func (s *State) initValidators(vals []Validator) {
	s.set(validatorEpochKey(0), (&validatorEpoch{validators: vals}).encode())
	s.set([]byte{nsLastValidatorEpoch}, binary.BigEndian.AppendUint64(nil, 0))
}

// lastValidatorEpoch returns the height and set of the last epoch recorded: the set in
// force once every decided change has taken effect, which the next change is judged
// against.
func (s *State) lastValidatorEpoch() (uint64, []Validator, error) {
	h := s.u64Record([]byte{nsLastValidatorEpoch})
	v, ok := s.get(validatorEpochKey(h))
	if !ok {
		if s.err != nil {
			return 0, nil, s.err
		}
		return 0, nil, fmt.Errorf("chain: no validator epoch at %d in state", h)
	}
	ep, err := decodeValidatorEpoch(v)
	if err != nil {
		return 0, nil, fmt.Errorf("chain: validator epoch %d: %w", h, err)
	}
	return h, ep.validators, nil
}

// scheduleValidators records vals as the set in force from height on, after the last epoch.
func (s *State) scheduleValidators(height, last uint64, vals []Validator) {
	s.set(validatorEpochKey(height), (&validatorEpoch{prev: last, validators: vals}).encode())
	s.set([]byte{nsLastValidatorEpoch}, binary.BigEndian.AppendUint64(nil, height))
}

// retiredValidator reports whether a was a validator key rotated away.
func (s *State) retiredValidator(a Address) bool {
	_, ok := s.get(retiredValidatorKey(a))
	return ok
}

// Follow brings the schedule up to the validator epochs recorded in committed state r: the
// activations recorded since the schedule's last one, oldest first. The ledger calls it when
// it opens (from genesis's schedule) and after every block it commits; the auditor's
// verifier after every block it executes. A chain before Version3 records none, so Follow
// changes nothing. It is the one way activations enter a schedule, so every reader of
// At(h) — consensus, block sync, the allow-list, verify, proofs — sees the same sets.
func (s *Schedule) Follow(r StateReader) error {
	if s.At(0).Version < Version3 {
		return nil
	}
	known := s.lastHeight()
	b, err := r.Get([]byte{nsLastValidatorEpoch})
	if err != nil {
		return fmt.Errorf("chain: read validator epochs: %w", err)
	}
	if len(b) != 8 {
		return fmt.Errorf("chain: validator epoch pointer of %d bytes", len(b))
	}
	var pending []Activation // newest first
	for h := binary.BigEndian.Uint64(b); h > known; {
		v, err := r.Get(validatorEpochKey(h))
		if err != nil {
			return fmt.Errorf("chain: read validator epoch %d: %w", h, err)
		}
		if v == nil {
			return fmt.Errorf("chain: validator epoch %d missing from state", h)
		}
		ep, err := decodeValidatorEpoch(v)
		if err != nil {
			return fmt.Errorf("chain: validator epoch %d: %w", h, err)
		}
		if ep.prev >= h {
			return fmt.Errorf("chain: validator epoch %d names %d before it", h, ep.prev)
		}
		pending = append(pending, Activation{Height: h, Rules: Rules{Validators: ep.validators}})
		h = ep.prev
	}
	for i := len(pending) - 1; i >= 0; i-- {
		a := pending[i]
		r := *s.At(a.Height - 1)
		r.Validators = a.Rules.Validators
		if err := s.Activate(Activation{Height: a.Height, Rules: r}); err != nil {
			return err
		}
	}
	return nil
}

// lastHeight is the height of the schedule's last activation (0 for genesis's rules alone).
func (s *Schedule) lastHeight() uint64 {
	epochs := *s.epochs.Load()
	return epochs[len(epochs)-1].Height
}
