package consensus

import (
	"encoding/binary"
	"fmt"

	"github.com/loyal-ledger/loyal/chain"
)

// The binary encodings, in the style of package chain: a tag byte naming the type, a version
// byte, then fixed-width big-endian fields. Every message has a fixed size, so decoding
// checks the exact length, and it is strict: a wrong tag or version, an out-of-range field,
// a signature whose v is not 27 or 28, or trailing bytes are rejected. So each value has
// exactly one encoding and Encode(Decode(b)) == b whenever Decode succeeds.
const (
	tagProposalDigest = 'P' // ProposalDigest's preimage (signed, never sent)
	tagProposal       = 'p' // Proposal on the wire
	tagVote           = 'v' // Vote on the wire
	tagSignedState    = 's' // SignedState on disk
	tagPOL            = 'l' // POL votes sent with a re-proposal

	encodingVersion = 1
)

// Encoded sizes.
const (
	ProposalSize = 2 + 8 + 4 + 4 + 32 + 8 + 20 + 65
	VoteSize     = 2 + 1 + 8 + 4 + 32 + 20 + 65
	blockRefSize = 4 + 32 + 8
	// MaxSignedStateSize bounds an encoded SignedState: each optional message adds a presence
	// byte, and the POL holds at most chain.MaxValidators votes.
	MaxSignedStateSize = 2 + 8 + 4 + 2*blockRefSize + 4 + chain.MaxValidators*(VoteSize-2) + 3 + (ProposalSize - 2) + 2*(VoteSize-2)
)

type encoder struct{ buf []byte }

func (e *encoder) u8(v uint8)              { e.buf = append(e.buf, v) }
func (e *encoder) u32(v uint32)            { e.buf = binary.BigEndian.AppendUint32(e.buf, v) }
func (e *encoder) u64(v uint64)            { e.buf = binary.BigEndian.AppendUint64(e.buf, v) }
func (e *encoder) hash(h chain.Hash)       { e.buf = append(e.buf, h[:]...) }
func (e *encoder) address(a chain.Address) { e.buf = append(e.buf, a[:]...) }
func (e *encoder) sig(s [65]byte)          { e.buf = append(e.buf, s[:]...) }

func (e *encoder) header(tag byte) {
	e.u8(tag)
	e.u8(encodingVersion)
}

func (e *encoder) blockRef(r BlockRef) {
	e.u32(uint32(r.Round))
	e.hash(r.Hash)
	e.u64(r.Time)
}

func (e *encoder) proposalBody(p *Proposal) {
	e.u64(p.Height)
	e.u32(p.Round)
	e.u32(uint32(p.POLRound))
	e.hash(p.BlockHash)
	e.u64(p.BlockTime)
	e.address(p.Proposer)
	e.sig(p.Sig)
}

func (e *encoder) voteBody(v *Vote) {
	e.u8(uint8(v.Type))
	e.u64(v.Height)
	e.u32(v.Round)
	e.hash(v.BlockHash)
	e.address(v.Validator)
	e.sig(v.Sig)
}

// optProposal and optVote write a presence byte, then the message body if present.
func (e *encoder) optProposal(p *Proposal) {
	if p == nil {
		e.u8(0)
		return
	}
	e.u8(1)
	e.proposalBody(p)
}

func (e *encoder) optVote(v *Vote) {
	if v == nil {
		e.u8(0)
		return
	}
	e.u8(1)
	e.voteBody(v)
}

// Encode is the proposal's wire encoding: 'p' 1 height round polRound hash time proposer sig.
func (p *Proposal) Encode() []byte {
	e := encoder{buf: make([]byte, 0, ProposalSize)}
	e.header(tagProposal)
	e.proposalBody(p)
	return e.buf
}

// Encode is the vote's wire encoding: 'v' 1 type height round hash validator sig.
func (v *Vote) Encode() []byte {
	e := encoder{buf: make([]byte, 0, VoteSize)}
	e.header(tagVote)
	e.voteBody(v)
	return e.buf
}

// Encode is the persisted encoding of the state: 's' 1 height round locked valid, the POL's
// vote count and votes, then the proposal, prevote and precommit, each after a presence byte.
func (s *SignedState) Encode() []byte {
	e := encoder{buf: make([]byte, 0, 2+8+4+2*blockRefSize+4+len(s.ValidPOL)*(VoteSize-2)+3+(ProposalSize-2)+2*(VoteSize-2))}
	e.header(tagSignedState)
	e.u64(s.Height)
	e.u32(s.Round)
	e.blockRef(s.Locked)
	e.blockRef(s.Valid)
	e.u32(uint32(len(s.ValidPOL)))
	for i := range s.ValidPOL {
		e.voteBody(&s.ValidPOL[i])
	}
	e.optProposal(s.Proposal)
	e.optVote(s.Prevote)
	e.optVote(s.Precommit)
	return e.buf
}

// decoder reads with a sticky error, like chain's.
type decoder struct {
	buf []byte
	off int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d", ErrMalformed, fmt.Sprintf(format, args...), d.off)
	}
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.buf)-d.off < n {
		d.fail("truncated: need %d bytes, have %d", n, len(d.buf)-d.off)
		return nil
	}
	b := d.buf[d.off : d.off+n]
	d.off += n
	return b
}

func (d *decoder) u8() uint8 {
	if b := d.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if b := d.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if b := d.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (d *decoder) hash() (h chain.Hash)       { copy(h[:], d.take(len(h))); return h }
func (d *decoder) address() (a chain.Address) { copy(a[:], d.take(len(a))); return a }

// sig reads a signature; v must be 27 or 28 (the rest of its shape is checked on recovery).
func (d *decoder) sig() (s [65]byte) {
	copy(s[:], d.take(len(s)))
	if d.err == nil && s[64] != 27 && s[64] != 28 {
		d.fail("signature v must be 27 or 28, got %d", s[64])
	}
	return s
}

func (d *decoder) header(tag byte, what string) {
	if t := d.u8(); d.err == nil && t != tag {
		d.fail("not a %s (tag %#x)", what, t)
	}
	if v := d.u8(); d.err == nil && v != encodingVersion {
		d.err = fmt.Errorf("%w: %s version %d", ErrUnknownVersion, what, v)
	}
}

func (d *decoder) present() bool {
	switch b := d.u8(); b {
	case 0:
		return false
	case 1:
		return true
	default:
		d.fail("presence byte must be 0 or 1, got %d", b)
		return false
	}
}

func (d *decoder) blockRef() BlockRef {
	return BlockRef{Round: int32(d.u32()), Hash: d.hash(), Time: d.u64()}
}

func (d *decoder) proposalBody() *Proposal {
	p := &Proposal{Height: d.u64(), Round: d.u32(), POLRound: int32(d.u32()), BlockHash: d.hash(),
		BlockTime: d.u64(), Proposer: d.address(), Sig: d.sig()}
	if d.err == nil {
		d.err = p.check()
	}
	return p
}

func (d *decoder) voteBody() *Vote {
	v := &Vote{Type: chain.VoteType(d.u8()), Height: d.u64(), Round: d.u32(), BlockHash: d.hash(),
		Validator: d.address(), Sig: d.sig()}
	if d.err == nil {
		d.err = v.check()
	}
	return v
}

// finish reports the first error, or trailing bytes.
func (d *decoder) finish() error {
	if d.err != nil {
		return d.err
	}
	if d.off != len(d.buf) {
		return fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(d.buf)-d.off)
	}
	return nil
}

// DecodeProposal strictly decodes a proposal's wire encoding. It does not verify the
// signature (Proposal.Verify does).
func DecodeProposal(b []byte) (*Proposal, error) {
	if len(b) != ProposalSize {
		return nil, fmt.Errorf("%w: proposal of %d bytes, want %d", ErrMalformed, len(b), ProposalSize)
	}
	d := decoder{buf: b}
	d.header(tagProposal, "proposal")
	p := d.proposalBody()
	if err := d.finish(); err != nil {
		return nil, err
	}
	return p, nil
}

// DecodeVote strictly decodes a vote's wire encoding. It does not verify the signature
// (Vote.Verify does).
func DecodeVote(b []byte) (*Vote, error) {
	if len(b) != VoteSize {
		return nil, fmt.Errorf("%w: vote of %d bytes, want %d", ErrMalformed, len(b), VoteSize)
	}
	d := decoder{buf: b}
	d.header(tagVote, "vote")
	v := d.voteBody()
	if err := d.finish(); err != nil {
		return nil, err
	}
	return v, nil
}

// DecodeSignedState strictly decodes a persisted SignedState. Its consistency with a config
// (whose votes these are) is checked by New.
func DecodeSignedState(b []byte) (*SignedState, error) {
	if len(b) > MaxSignedStateSize {
		return nil, fmt.Errorf("%w: signed state of %d bytes exceeds %d", ErrMalformed, len(b), MaxSignedStateSize)
	}
	d := decoder{buf: b}
	d.header(tagSignedState, "signed state")
	s := &SignedState{Height: d.u64(), Round: d.u32(), Locked: d.blockRef(), Valid: d.blockRef()}
	if n := d.u32(); d.err == nil {
		if uint64(n)*(VoteSize-2) > uint64(len(b)-d.off) {
			d.fail("POL of %d votes cannot fit in %d bytes", n, len(b)-d.off)
		} else if n > 0 {
			s.ValidPOL = make([]Vote, n)
			for i := range s.ValidPOL {
				s.ValidPOL[i] = *d.voteBody()
			}
		}
	}
	if d.present() {
		s.Proposal = d.proposalBody()
	}
	if d.present() {
		s.Prevote = d.voteBody()
	}
	if d.present() {
		s.Precommit = d.voteBody()
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

// EncodePOL is the wire encoding of the POL votes sent with a re-proposal: 'l' 1 count, then
// each vote's encoding without its tag and version.
func EncodePOL(votes []Vote) []byte {
	e := encoder{buf: make([]byte, 0, 2+4+len(votes)*(VoteSize-2))}
	e.header(tagPOL)
	e.u32(uint32(len(votes)))
	for i := range votes {
		e.voteBody(&votes[i])
	}
	return e.buf
}

// DecodePOL strictly decodes POL votes: at most chain.MaxValidators, each well-formed. It
// does not verify their signatures.
func DecodePOL(b []byte) ([]Vote, error) {
	if len(b) > 2+4+chain.MaxValidators*(VoteSize-2) {
		return nil, fmt.Errorf("%w: POL of %d bytes", ErrMalformed, len(b))
	}
	d := decoder{buf: b}
	d.header(tagPOL, "POL")
	n := d.u32()
	if d.err == nil && uint64(n)*(VoteSize-2) != uint64(len(b)-d.off) {
		d.fail("POL of %d votes in %d bytes", n, len(b)-d.off)
	}
	var votes []Vote
	if d.err == nil && n > 0 {
		votes = make([]Vote, n)
		for i := range votes {
			votes[i] = *d.voteBody()
		}
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	return votes, nil
}
