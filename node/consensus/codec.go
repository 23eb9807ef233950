package consensus

import (
	"fmt"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/internal/wire"
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

// encoder and decoder add the consensus messages' parts to package wire's primitives (shared
// with package chain).
type encoder struct{ wire.Encoder }

type decoder struct{ wire.Decoder }

func newDecoder(b []byte) decoder {
	return decoder{wire.NewDecoder(b, &wire.Errors{Malformed: ErrMalformed})}
}

func (e *encoder) header(tag byte) {
	e.U8(tag)
	e.U8(encodingVersion)
}

func (e *encoder) blockRef(r BlockRef) {
	e.U32(uint32(r.Round))
	e.Hash(r.Hash)
	e.U64(r.Time)
}

func (e *encoder) proposalBody(p *Proposal) {
	e.U64(p.Height)
	e.U32(p.Round)
	e.U32(uint32(p.POLRound))
	e.Hash(p.BlockHash)
	e.U64(p.BlockTime)
	e.Address(p.Proposer)
	e.Sig(p.Sig)
}

func (e *encoder) voteBody(v *Vote) {
	e.U8(uint8(v.Type))
	e.U64(v.Height)
	e.U32(v.Round)
	e.Hash(v.BlockHash)
	e.Address(v.Validator)
	e.Sig(v.Sig)
}

// optProposal and optVote write a presence byte, then the message body if present.
func (e *encoder) optProposal(p *Proposal) {
	if p == nil {
		e.U8(0)
		return
	}
	e.U8(1)
	e.proposalBody(p)
}

func (e *encoder) optVote(v *Vote) {
	if v == nil {
		e.U8(0)
		return
	}
	e.U8(1)
	e.voteBody(v)
}

// Encode is the proposal's wire encoding: 'p' 1 height round polRound hash time proposer sig.
func (p *Proposal) Encode() []byte {
	e := encoder{wire.Encoder{Buf: make([]byte, 0, ProposalSize)}}
	e.header(tagProposal)
	e.proposalBody(p)
	return e.Buf
}

// Encode is the vote's wire encoding: 'v' 1 type height round hash validator sig.
func (v *Vote) Encode() []byte {
	e := encoder{wire.Encoder{Buf: make([]byte, 0, VoteSize)}}
	e.header(tagVote)
	e.voteBody(v)
	return e.Buf
}

// Encode is the persisted encoding of the state: 's' 1 height round locked valid, the POL's
// vote count and votes, then the proposal, prevote and precommit, each after a presence byte.
func (s *SignedState) Encode() []byte {
	e := encoder{wire.Encoder{Buf: make([]byte, 0, 2+8+4+2*blockRefSize+4+len(s.ValidPOL)*(VoteSize-2)+3+(ProposalSize-2)+2*(VoteSize-2))}}
	e.header(tagSignedState)
	e.U64(s.Height)
	e.U32(s.Round)
	e.blockRef(s.Locked)
	e.blockRef(s.Valid)
	e.U32(uint32(len(s.ValidPOL)))
	for i := range s.ValidPOL {
		e.voteBody(&s.ValidPOL[i])
	}
	e.optProposal(s.Proposal)
	e.optVote(s.Prevote)
	e.optVote(s.Precommit)
	return e.Buf
}

func (d *decoder) header(tag byte, what string) {
	if t := d.U8(); d.Err == nil && t != tag {
		d.Fail("not a %s (tag %#x)", what, t)
	}
	if v := d.U8(); d.Err == nil && v != encodingVersion {
		d.Err = fmt.Errorf("%w: %s version %d", ErrUnknownVersion, what, v)
	}
}

func (d *decoder) present() bool {
	switch b := d.U8(); b {
	case 0:
		return false
	case 1:
		return true
	default:
		d.Fail("presence byte must be 0 or 1, got %d", b)
		return false
	}
}

func (d *decoder) blockRef() BlockRef {
	return BlockRef{Round: int32(d.U32()), Hash: d.Hash(), Time: d.U64()}
}

func (d *decoder) proposalBody() *Proposal {
	p := &Proposal{Height: d.U64(), Round: d.U32(), POLRound: int32(d.U32()), BlockHash: d.Hash(),
		BlockTime: d.U64(), Proposer: d.Address(), Sig: d.Sig()}
	if d.Err == nil {
		d.Err = p.check()
	}
	return p
}

func (d *decoder) voteBody() *Vote {
	v := &Vote{Type: chain.VoteType(d.U8()), Height: d.U64(), Round: d.U32(), BlockHash: d.Hash(),
		Validator: d.Address(), Sig: d.Sig()}
	if d.Err == nil {
		d.Err = v.check()
	}
	return v
}

// DecodeProposal strictly decodes a proposal's wire encoding. It does not verify the
// signature (Proposal.Verify does).
func DecodeProposal(b []byte) (*Proposal, error) {
	if len(b) != ProposalSize {
		return nil, fmt.Errorf("%w: proposal of %d bytes, want %d", ErrMalformed, len(b), ProposalSize)
	}
	d := newDecoder(b)
	d.header(tagProposal, "proposal")
	p := d.proposalBody()
	if err := d.Finish(); err != nil {
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
	d := newDecoder(b)
	d.header(tagVote, "vote")
	v := d.voteBody()
	if err := d.Finish(); err != nil {
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
	d := newDecoder(b)
	d.header(tagSignedState, "signed state")
	s := &SignedState{Height: d.U64(), Round: d.U32(), Locked: d.blockRef(), Valid: d.blockRef()}
	if n := d.U32(); d.Err == nil {
		if uint64(n)*(VoteSize-2) > uint64(len(b)-d.Off) {
			d.Fail("POL of %d votes cannot fit in %d bytes", n, len(b)-d.Off)
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
	if err := d.Finish(); err != nil {
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
	e := encoder{wire.Encoder{Buf: make([]byte, 0, 2+4+len(votes)*(VoteSize-2))}}
	e.header(tagPOL)
	e.U32(uint32(len(votes)))
	for i := range votes {
		e.voteBody(&votes[i])
	}
	return e.Buf
}

// DecodePOL strictly decodes POL votes: at most chain.MaxValidators, each well-formed. It
// does not verify their signatures.
func DecodePOL(b []byte) ([]Vote, error) {
	if len(b) > 2+4+chain.MaxValidators*(VoteSize-2) {
		return nil, fmt.Errorf("%w: POL of %d bytes", ErrMalformed, len(b))
	}
	d := newDecoder(b)
	d.header(tagPOL, "POL")
	n := d.U32()
	if d.Err == nil && uint64(n)*(VoteSize-2) != uint64(len(b)-d.Off) {
		d.Fail("POL of %d votes in %d bytes", n, len(b)-d.Off)
	}
	var votes []Vote
	if d.Err == nil && n > 0 {
		votes = make([]Vote, n)
		for i := range votes {
			votes[i] = *d.voteBody()
		}
	}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	return votes, nil
}
