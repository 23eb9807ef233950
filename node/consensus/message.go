package consensus

import (
	"fmt"
	"math"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/internal/wire"
)

// MaxRound is the highest round any message may carry, so that a POLRound (an int32) can
// name every earlier round. Rounds grow by one per failed round; no network gets near it.
const MaxRound = math.MaxInt32

// Proposal is a proposer's signed offer of a block for (Height, Round). The engine knows the
// block only by its hash and header time; the node gossips the block itself alongside.
type Proposal struct {
	Height uint64
	Round  uint32
	// POLRound is -1 for a fresh block. Otherwise the block is re-proposed because it got
	// more than two thirds of the prevotes in POLRound (< Round), and the proposer sends
	// those prevotes along.
	POLRound  int32
	BlockHash chain.Hash // never zero
	BlockTime uint64     // the block header's time, Unix seconds
	Proposer  chain.Address
	Sig       [65]byte // over ProposalDigest, r ‖ s ‖ v with v 27 or 28
}

// Vote is a validator's signed prevote or precommit for a block (or nil: a zero BlockHash).
// Its signature is over chain.VoteDigest, so a precommit is directly a certificate signature.
type Vote struct {
	Type      chain.VoteType
	Height    uint64
	Round     uint32
	BlockHash chain.Hash // zero = nil
	Validator chain.Address
	Sig       [65]byte
}

// ProposalDigest is what a proposer signs: keccak256 of 'P' 1 chainID height round polRound
// blockHash blockTime, integers fixed-width big-endian and polRound as a two's-complement
// uint32. Its tag differs from chain.VoteDigest's ('V'), so no proposal signature is ever
// a vote signature.
func ProposalDigest(chainID, height uint64, round uint32, polRound int32, blockHash chain.Hash, blockTime uint64) chain.Hash {
	e := encoder{wire.Encoder{Buf: make([]byte, 0, 2+8+8+4+4+32+8)}}
	e.U8(tagProposalDigest)
	e.U8(encodingVersion)
	e.U64(chainID)
	e.U64(height)
	e.U32(round)
	e.U32(uint32(polRound))
	e.Hash(blockHash)
	e.U64(blockTime)
	return crypto.Keccak256Hash(e.Buf)
}

// Digest is the proposal's ProposalDigest under chainID.
func (p *Proposal) Digest(chainID uint64) chain.Hash {
	return ProposalDigest(chainID, p.Height, p.Round, p.POLRound, p.BlockHash, p.BlockTime)
}

// Verify checks the proposal's fields and that Sig recovers to Proposer. The node calls it on
// every proposal from the network before stepping it; that Proposer is the round's proposer
// is checked by Step.
func (p *Proposal) Verify(chainID uint64) error {
	if err := p.check(); err != nil {
		return err
	}
	return verifySig(p.Digest(chainID), p.Sig, p.Proposer)
}

// check is the stateless validation shared by the decoder and Step.
func (p *Proposal) check() error {
	if p.Round > MaxRound {
		return fmt.Errorf("%w: proposal round %d", ErrBadRound, p.Round)
	}
	if p.POLRound < -1 || (p.POLRound >= 0 && uint32(p.POLRound) >= p.Round) {
		return fmt.Errorf("%w: POL round %d in round %d", ErrBadRound, p.POLRound, p.Round)
	}
	if p.BlockHash == (chain.Hash{}) {
		return fmt.Errorf("%w: proposal of the zero block hash", ErrMalformed)
	}
	return nil
}

// conflicts reports whether p and q are different proposals for the same height and round.
func (p *Proposal) conflicts(q *Proposal) bool {
	return p.Height == q.Height && p.Round == q.Round &&
		(p.POLRound != q.POLRound || p.BlockHash != q.BlockHash || p.BlockTime != q.BlockTime)
}

// Digest is the vote's chain.VoteDigest under chainID.
func (v *Vote) Digest(chainID uint64) chain.Hash {
	return chain.VoteDigest(chainID, v.Type, v.Height, v.Round, v.BlockHash)
}

// Verify checks the vote's fields and that Sig recovers to Validator. The node calls it on
// every vote from the network before stepping it; membership in the validator set is checked
// by Step.
func (v *Vote) Verify(chainID uint64) error {
	if err := v.check(); err != nil {
		return err
	}
	return verifySig(v.Digest(chainID), v.Sig, v.Validator)
}

func (v *Vote) check() error {
	if v.Type != chain.Prevote && v.Type != chain.Precommit {
		return fmt.Errorf("%w: %d", ErrBadVoteType, v.Type)
	}
	if v.Round > MaxRound {
		return fmt.Errorf("%w: vote round %d", ErrBadRound, v.Round)
	}
	return nil
}

// IsNil reports whether v is a vote for nil.
func (v *Vote) IsNil() bool { return v.BlockHash == (chain.Hash{}) }

func verifySig(digest chain.Hash, sig [65]byte, want chain.Address) error {
	got, err := chain.RecoverVoter(digest, sig)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if got != want {
		return fmt.Errorf("%w: signed by %s, claims %s", ErrBadSignature, got, want)
	}
	return nil
}
