package consensus

import "github.com/loyal-ledger/loyal/chain"

// voteSet holds one round's votes of one type: at most one per validator (the first that
// arrived), with a tally per block hash kept in order of first appearance so that nothing
// depends on map order.
type voteSet struct {
	votes []*Vote // by validator index
	count int     // validators that voted
	tally []hashCount
}

type hashCount struct {
	hash chain.Hash // zero = nil
	n    int
}

func newVoteSet(n int) voteSet { return voteSet{votes: make([]*Vote, n)} }

// add records v for validator idx, unless the validator already voted: then it returns that
// earlier vote and false.
func (s *voteSet) add(idx int, v *Vote) (*Vote, bool) {
	if old := s.votes[idx]; old != nil {
		return old, false
	}
	s.votes[idx] = v
	s.count++
	for i := range s.tally {
		if s.tally[i].hash == v.BlockHash {
			s.tally[i].n++
			return nil, true
		}
	}
	s.tally = append(s.tally, hashCount{hash: v.BlockHash, n: 1})
	return nil, true
}

// countFor is the number of votes for hash (zero = nil).
func (s *voteSet) countFor(hash chain.Hash) int {
	for _, t := range s.tally {
		if t.hash == hash {
			return t.n
		}
	}
	return 0
}

// quorum returns the hash (zero = nil) that has at least q votes, if any. With q a quorum
// there is at most one, since each validator counts once.
func (s *voteSet) quorum(q int) (chain.Hash, bool) {
	for _, t := range s.tally {
		if t.n >= q {
			return t.hash, true
		}
	}
	return chain.Hash{}, false
}

// forHash returns the votes for hash in validator order.
func (s *voteSet) forHash(hash chain.Hash) []*Vote {
	var out []*Vote
	for _, v := range s.votes {
		if v != nil && v.BlockHash == hash {
			out = append(out, v)
		}
	}
	return out
}

// proposalRec is a proposal with the receiver's verdicts on it.
type proposalRec struct {
	p     *Proposal
	valid bool // the node's BlockValid
	// timely is the time check of a fresh proposal (later than the parent, within MaxDrift
	// of the local time when it arrived); only a fresh proposal's prevote depends on it.
	timely bool
	// polFrom marks the validators whose prevote for the block in POLRound came with the
	// proposal (nil if none did). They count for the POL even if the receiver first got
	// another prevote from the same (then byzantine) validator.
	polFrom []bool
}

// roundState is what the engine knows of one round of the current height.
type roundState struct {
	proposal   *proposalRec // the first proposal from the round's proposer
	prevotes   voteSet
	precommits voteSet
	// reported marks, per validator, the vote types already reported as equivocation, and
	// proposalReported the proposal; each is reported once.
	reported         []uint8
	proposalReported bool
}

func newRoundState(n int) *roundState {
	return &roundState{prevotes: newVoteSet(n), precommits: newVoteSet(n), reported: make([]uint8, n)}
}

func (r *roundState) set(t chain.VoteType) *voteSet {
	if t == chain.Prevote {
		return &r.prevotes
	}
	return &r.precommits
}

// farSlot keeps, for one validator, its messages from its highest round beyond the engine's
// round + 1. Only one round per validator is kept, so a byzantine validator cannot make the
// engine hold more than three messages for far rounds; they move into the round's state when
// the engine gets near.
type farSlot struct {
	round     uint32
	proposal  *proposalRec
	prevote   *Vote
	precommit *Vote
	// reported and proposalReported carry equivocation already reported into the round.
	reported         uint8
	proposalReported bool
}

func (f *farSlot) empty() bool { return f.proposal == nil && f.prevote == nil && f.precommit == nil }

// nextSlot buffers, for one validator, its prevote and precommit of the highest round seen
// for the next height, to replay when the height starts.
type nextSlot struct {
	prevote, precommit *Vote
}
