package consensus

import (
	"fmt"
	"slices"

	"github.com/loyal-ledger/loyal/chain"
)

// BlockRef names a block the engine may re-propose: its hash and header time, and the round
// in which more than two thirds of the validators prevoted it. Round -1 (with a zero Hash and
// Time) means none.
type BlockRef struct {
	Round int32
	Hash  chain.Hash
	Time  uint64
}

// noBlock is the empty BlockRef.
var noBlock = BlockRef{Round: -1}

// IsNone reports whether r names no block.
func (r BlockRef) IsNone() bool { return r.Round < 0 }

// SignedState is what a validator must keep on disk to never contradict itself after a
// crash: the last proposal, prevote and precommit it signed at Height, and its lock. The
// engine emits it whole in every Persist action; the node overwrites the previous copy
// atomically (it is at most SignedStateSize bytes; Encode gives the bytes) and passes the last
// one to New when it restarts.
//
// The node must also keep the bodies of the Locked and Valid blocks until Height is
// committed: after a restart the engine may re-propose them by hash.
type SignedState struct {
	Height uint64
	// Round is the round the engine was in when it wrote the state; it resumes there.
	Round uint32
	// Locked is the block this validator precommitted and may prevote only (lockedValue and
	// lockedRound of the Tendermint paper).
	Locked BlockRef
	// Valid is the latest block known to have a POL (validValue and validRound); it is what
	// this validator re-proposes.
	Valid BlockRef
	// ValidPOL is that POL: the prevotes for Valid.Hash in Valid.Round (more than two thirds
	// of the validators), sent along with a re-proposal so that its receivers can check it.
	ValidPOL []Vote
	// Proposal, Prevote and Precommit are the latest of each that this validator signed at
	// Height, or nil.
	Proposal  *Proposal
	Prevote   *Vote
	Precommit *Vote
}

// clone returns a deep copy.
func (s *SignedState) clone() *SignedState {
	c := *s
	c.ValidPOL = slices.Clone(s.ValidPOL)
	if s.Proposal != nil {
		p := *s.Proposal
		c.Proposal = &p
	}
	if s.Prevote != nil {
		v := *s.Prevote
		c.Prevote = &v
	}
	if s.Precommit != nil {
		v := *s.Precommit
		c.Precommit = &v
	}
	return &c
}

// check validates the state on its own: well-formed refs, messages at Height no later than
// Round and of the right types, the lock no later than the valid block.
func (s *SignedState) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadState, fmt.Sprintf(format, args...))
	}
	if s.Round > MaxRound {
		return bad("round %d", s.Round)
	}
	for _, r := range []BlockRef{s.Locked, s.Valid} {
		if r.Round < -1 || (r.Round >= 0 && uint32(r.Round) > s.Round) {
			return bad("block round %d in round %d", r.Round, s.Round)
		}
		if r.IsNone() != (r.Hash == chain.Hash{}) || (r.IsNone() && r.Time != 0) {
			return bad("block ref round %d with hash %s time %d", r.Round, r.Hash, r.Time)
		}
	}
	if s.Locked.Round > s.Valid.Round {
		return bad("locked in round %d after the valid block's round %d", s.Locked.Round, s.Valid.Round)
	}
	if s.Valid.IsNone() != (len(s.ValidPOL) == 0) {
		return bad("valid block round %d with %d POL votes", s.Valid.Round, len(s.ValidPOL))
	}
	for i, v := range s.ValidPOL {
		if v.Type != chain.Prevote || v.Height != s.Height || v.Round != uint32(s.Valid.Round) || v.BlockHash != s.Valid.Hash {
			return bad("POL vote %d is not a prevote for the valid block", i)
		}
		for _, w := range s.ValidPOL[:i] {
			if w.Validator == v.Validator {
				return bad("POL vote %d repeats validator %s", i, v.Validator)
			}
		}
	}
	if p := s.Proposal; p != nil && (p.Height != s.Height || p.Round > s.Round) {
		return bad("proposal for %d/%d in %d/%d", p.Height, p.Round, s.Height, s.Round)
	}
	for _, v := range []struct {
		vote *Vote
		typ  chain.VoteType
	}{{s.Prevote, chain.Prevote}, {s.Precommit, chain.Precommit}} {
		if v.vote == nil {
			continue
		}
		if v.vote.Type != v.typ || v.vote.Height != s.Height || v.vote.Round > s.Round {
			return bad("vote of type %d for %d/%d in %d/%d", v.vote.Type, v.vote.Height, v.vote.Round, s.Height, s.Round)
		}
	}
	return nil
}

// verify checks that every message in s is signed by self under chainID.
func (s *SignedState) verify(chainID uint64, self chain.Address) error {
	if p := s.Proposal; p != nil {
		if p.Proposer != self {
			return fmt.Errorf("%w: proposal by %s, not %s", ErrBadState, p.Proposer, self)
		}
		if err := p.Verify(chainID); err != nil {
			return fmt.Errorf("%w: %w", ErrBadState, err)
		}
	}
	for i := range s.ValidPOL {
		if err := s.ValidPOL[i].Verify(chainID); err != nil {
			return fmt.Errorf("%w: POL vote %d: %w", ErrBadState, i, err)
		}
	}
	for _, v := range []*Vote{s.Prevote, s.Precommit} {
		if v == nil {
			continue
		}
		if v.Validator != self {
			return fmt.Errorf("%w: vote by %s, not %s", ErrBadState, v.Validator, self)
		}
		if err := v.Verify(chainID); err != nil {
			return fmt.Errorf("%w: %w", ErrBadState, err)
		}
	}
	return nil
}

// checkSet checks s against the validator set of its height, in which self is Self's index:
// Self is a validator there, and the POL is of more than two thirds of the set.
func (s *SignedState) checkSet(set valSet, self int) error {
	if self < 0 {
		return fmt.Errorf("%w: an observer has no signed state (Self is not a validator at height %d)", ErrBadState, s.Height)
	}
	for _, v := range s.ValidPOL {
		if _, ok := set.index[v.Validator]; !ok {
			return fmt.Errorf("%w: POL vote by non-validator %s", ErrBadState, v.Validator)
		}
	}
	if q := chain.Quorum(len(set.addrs)); !s.Valid.IsNone() && len(s.ValidPOL) < q {
		return fmt.Errorf("%w: POL of %d votes, need %d", ErrBadState, len(s.ValidPOL), q)
	}
	return nil
}
