package consensus

import (
	"fmt"
	"slices"

	"github.com/loyal-ledger/loyal/chain"
)

// The rules of the Tendermint paper (Buchman, Kwon, Milosevic, "The latest gossip on BFT
// consensus", 2018, Algorithm 1), line numbers in comments. Differences:
//   - A block is valid if the node said so (BlockValid); a fresh proposal (POLRound -1) is
//     prevoted only if also timely (later than the parent, within MaxDrift of the local
//     time when it arrived). Locking and committing do not look at time.
//   - Line 36 accepts a valid proposal of the block from any round of the height, and line
//     49 commits on a precommit quorum without the proposal: the node fetches the block.
//   - Every step's timeout starts when the step starts (the proposer's propose timeout too,
//     as its node may be slow to build), not only once a quorum of the step's votes arrived
//     (lines 34 and 47): lost messages must not stall a round. Line 47 is kept for a node
//     still behind in the round.
//   - A re-proposal is broadcast with the prevotes of its POL round (the proposer's
//     validPOL, persisted with the valid block), and they count for the POL at the receiver
//     even if it first got another prevote from an equivocating validator: messages may be
//     lost for good before the network heals, and receivers may have counted a byzantine
//     validator's votes differently than the proposer did.
//   - Round skip (line 55) moves to the highest round r such that f+1 validators sent a
//     message of round r or later: it is above the round of at most f (possibly faulty)
//     validators, as the paper's rule requires, and needs only each one's highest round.

// startRound is StartRound (line 11), resuming what Self signed in round r if it restarted
// there.
func (e *Engine) startRound(r uint32) {
	e.round, e.step = r, StepPropose
	e.precommitTimeoutSet, e.polSeen = false, false
	e.migrateFar()
	if e.committed() {
		return
	}
	if e.self >= 0 && e.set.proposer(e.height, r) == e.cfg.Self {
		switch p := e.signedProposal; {
		case p != nil && p.Round == r: // signed before a restart: send it again
			e.broadcastProposal(p)
			e.storeProposal(&proposalRec{p: p, valid: true, timely: true})
		case !e.valid.IsNone() && uint32(e.valid.Round) < r: // (a restored valid block may be of round r)
			e.propose(e.valid.Hash, e.valid.Time, e.valid.Round, true)
		default:
			e.out = append(e.out, BuildBlock{Height: e.height, Round: r, ParentHash: e.parentHash, ParentTime: e.parentTime})
		}
	}
	for _, v := range []*Vote{e.signedPrevote, e.signedPrecommit} {
		if v != nil && v.Round == r && !e.committed() { // signed before a restart
			e.step = StepPrevote
			if v.Type == chain.Precommit {
				e.step = StepPrecommit
			}
			e.broadcastVote(v)
			e.addVote(e.self, v)
		}
	}
	e.scheduleStep()
}

// checkRules fires every rule whose condition holds, until none does.
func (e *Engine) checkRules() {
	for !e.committed() {
		if e.skipRound() {
			continue
		}
		rs := e.roundState(e.round)
		if e.step == StepPropose && e.prevoteProposal(rs) {
			continue
		}
		if e.step >= StepPrevote && !e.polSeen && e.lockOnPOL(rs) { // 36
			continue
		}
		if e.step == StepPrevote { // 44
			if h, ok := rs.prevotes.quorum(e.quorum); ok && h == (chain.Hash{}) {
				e.precommit(chain.Hash{})
				continue
			}
		}
		if !e.precommitTimeoutSet && rs.precommits.count >= e.quorum { // 47
			e.precommitTimeoutSet = true
			e.schedule(StepPrecommit)
		}
		return
	}
}

// skipRound is line 55: move to the highest round that f+1 validators have reached.
func (e *Engine) skipRound() bool {
	if !e.seenHigh {
		return false
	}
	e.seenHigh = false
	var ahead []int64
	for _, r := range e.seen {
		if r > int64(e.round) {
			ahead = append(ahead, r)
		}
	}
	if len(ahead) <= e.f {
		return false
	}
	slices.Sort(ahead)
	e.startRound(uint32(ahead[len(ahead)-1-e.f]))
	return true
}

// prevoteProposal is lines 22 and 28: prevote on the round's proposal, once it can be judged.
func (e *Engine) prevoteProposal(rs *roundState) bool {
	if rs.proposal == nil {
		return false
	}
	p := rs.proposal.p
	b := e.blocks[p.BlockHash]
	if p.POLRound < 0 { // 22
		ok := b.valid && rs.proposal.timely && (e.locked.IsNone() || e.locked.Hash == p.BlockHash)
		e.prevote(pick(ok, p.BlockHash))
		return true
	}
	if e.polCount(rs.proposal) < e.quorum { // 28
		return false // wait for the POL (or the propose timeout)
	}
	ok := b.valid && (e.locked.Round <= p.POLRound || e.locked.Hash == p.BlockHash)
	e.prevote(pick(ok, p.BlockHash))
	return true
}

// polCount counts the validators known to have prevoted a re-proposal's block in its POL
// round: from the votes received, or sent with the proposal.
func (e *Engine) polCount(rec *proposalRec) int {
	var votes []*Vote
	if pol := e.rounds[uint32(rec.p.POLRound)]; pol != nil {
		votes = pol.prevotes.votes
	}
	n := 0
	for i := range e.set.addrs {
		if (votes != nil && votes[i] != nil && votes[i].BlockHash == rec.p.BlockHash) || (rec.polFrom != nil && rec.polFrom[i]) {
			n++
		}
	}
	return n
}

func pick(ok bool, h chain.Hash) chain.Hash {
	if ok {
		return h
	}
	return chain.Hash{}
}

// lockOnPOL is line 36: a quorum of prevotes for a valid block in this round makes it the
// valid block, and locks and precommits it if still in the prevote step.
func (e *Engine) lockOnPOL(rs *roundState) bool {
	h, ok := rs.prevotes.quorum(e.quorum)
	if !ok || h == (chain.Hash{}) {
		return false
	}
	b, ok := e.blocks[h]
	if !ok || !b.valid {
		return false
	}
	e.polSeen = true
	ref := BlockRef{Round: int32(e.round), Hash: h, Time: b.time}
	changed := e.valid != ref // not after a restart in this round
	if changed {
		e.valid, e.validPOL = ref, nil
		for _, v := range rs.prevotes.forHash(h) {
			e.validPOL = append(e.validPOL, *v)
		}
	}
	if e.step == StepPrevote {
		e.locked = ref
		e.precommit(h) // persists the lock with the precommit
	} else if changed {
		e.persist()
	}
	return true
}

func (e *Engine) prevote(h chain.Hash) {
	e.step = StepPrevote
	e.castVote(chain.Prevote, h)
	e.scheduleStep()
}

func (e *Engine) precommit(h chain.Hash) {
	e.step = StepPrecommit
	e.castVote(chain.Precommit, h)
	e.scheduleStep()
}

// scheduleStep starts the timeout of the step just entered. Unlike the paper, which starts
// the prevote and precommit timeouts only once a quorum of votes of the step has arrived
// (lines 34 and 47), every step is bounded as soon as it starts: messages may be lost for
// good, and a quorum that never arrives must not stall the round. Timeouts never affect
// safety.
func (e *Engine) scheduleStep() {
	switch {
	case e.committed():
	case e.step == StepPrecommit:
		if !e.precommitTimeoutSet {
			e.precommitTimeoutSet = true
			e.schedule(StepPrecommit)
		}
	default:
		e.schedule(e.step)
	}
}

// castVote signs, persists, broadcasts and counts Self's vote of the current round. An
// observer only moves on.
func (e *Engine) castVote(t chain.VoteType, h chain.Hash) {
	if e.self < 0 {
		return
	}
	last := &e.signedPrevote
	if t == chain.Precommit {
		last = &e.signedPrecommit
	}
	if old := *last; old != nil && old.Round >= e.round {
		// Unreachable: startRound puts a restarted engine past the steps it voted in.
		e.fail(fmt.Errorf("%w: %v in round %d after one in round %d", ErrWouldEquivocate, t, e.round, old.Round))
		return
	}
	v := &Vote{Type: t, Height: e.height, Round: e.round, BlockHash: h, Validator: e.cfg.Self}
	sig, err := e.cfg.Signer.SignVote(v.Digest(e.cfg.ChainID))
	if err != nil {
		e.fail(fmt.Errorf("%w: %w", ErrSigner, err))
		return
	}
	v.Sig = sig
	*last = v
	e.persist()
	e.broadcastVote(v)
	e.addVote(e.self, v)
}

// propose signs, persists and broadcasts Self's proposal of the current round, with the POL
// prevotes of a re-proposal, and records it.
func (e *Engine) propose(h chain.Hash, t uint64, polRound int32, timely bool) {
	if old := e.signedProposal; old != nil && old.Round >= e.round {
		e.fail(fmt.Errorf("%w: proposal in round %d after one in round %d", ErrWouldEquivocate, e.round, old.Round))
		return
	}
	p := &Proposal{Height: e.height, Round: e.round, POLRound: polRound, BlockHash: h, BlockTime: t, Proposer: e.cfg.Self}
	sig, err := e.cfg.Signer.SignVote(p.Digest(e.cfg.ChainID))
	if err != nil {
		e.fail(fmt.Errorf("%w: %w", ErrSigner, err))
		return
	}
	p.Sig = sig
	e.signedProposal = p
	e.persist()
	e.broadcastProposal(p)
	e.storeProposal(&proposalRec{p: p, valid: true, timely: timely})
}
