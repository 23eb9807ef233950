package consensus

import (
	"time"

	"github.com/loyal-ledger/loyal/chain"
)

// Action is an output of Engine.Step: one of Persist, Broadcast, ScheduleTimeout,
// BuildBlock, Commit, Evidence and ProposalEvidence. Step returns an ordered list, which the
// node must handle in order, finishing each action's durable part before the next:
//
//   - Persist before send: every message this validator signs is in a Persist that comes
//     before its Broadcast, in the same list (or, for a message sent again after a restart,
//     before the crash). The node writes the SignedState durably (fsync) BEFORE it handles
//     the next action. A crash in between loses a message but never lets the validator sign
//     a different one. Each Persist supersedes the previous one.
//   - Broadcast may be sent asynchronously and may be lost; the engine tolerates loss.
//   - Commit: the node applies the block (fetching it by hash with the certificate if it
//     never got it) durably, then steps NewHeight for the next height. The node applies
//     nothing that has not come with a Commit action or a verified certificate.
//   - ScheduleTimeout, BuildBlock and the evidence actions have no ordering constraint
//     beyond being handled after the actions before them.
//
// Actions are owned by the caller; the engine keeps no reference to them.
type Action interface{ isAction() }

// Persist carries the whole SignedState to write over the previous one. The engine emits it
// whenever the state changes: when this validator signs, locks or learns a valid block.
type Persist struct {
	State *SignedState
}

// Broadcast sends one message to every peer: exactly one of Proposal and Vote is set, and it
// is always one this validator signed, persisted before (see Action). With a
// proposal the node sends the block body and POL too: for a re-proposal, the prevotes of its
// POLRound that justify it, which the receiver steps in with the proposal.
type Broadcast struct {
	Proposal *Proposal
	POL      []Vote
	Vote     *Vote
}

// ScheduleTimeout asks the node to step TimeoutFired{Height, Round, Step} once After has
// passed. Timeouts are never cancelled: the engine ignores stale ones, so the node may keep a
// plain timer queue.
type ScheduleTimeout struct {
	Height uint64
	Round  uint32
	Step   Step
	After  time.Duration
}

// BuildBlock asks the node to build a block at Height on the parent (ParentHash, ParentTime)
// from its mempool, with a header time later than ParentTime (normally its clock), and to
// step BlockBuilt with its hash and time. The node keeps the block body to send with the
// proposal. The engine asks only when it has no valid block to re-propose.
type BuildBlock struct {
	Height     uint64
	Round      uint32
	ParentHash chain.Hash
	ParentTime uint64
}

// Commit decides Height: BlockHash got precommits from more than two thirds of the
// validators of Height's set in Certificate.Round. Certificate holds them in the order of
// that set (NewHeight.Validators) and passes chain.VerifyCommit against it; the next block
// carries it as its LastCommit. After a Commit the
// engine ignores everything until the node steps NewHeight{Height: Height + 1}.
type Commit struct {
	Height      uint64
	BlockHash   chain.Hash
	Certificate *chain.Commit
}

// Evidence is two votes one validator signed for the same height, round and type but
// different blocks. Both signatures are as the node verified them. It is reported once per
// validator, height, round and type.
type Evidence struct {
	A, B Vote
}

// ProposalEvidence is two different proposals one proposer signed for the same height and
// round, reported once per height and round.
type ProposalEvidence struct {
	A, B Proposal
}

func (Persist) isAction()          {}
func (Broadcast) isAction()        {}
func (ScheduleTimeout) isAction()  {}
func (BuildBlock) isAction()       {}
func (Commit) isAction()           {}
func (Evidence) isAction()         {}
func (ProposalEvidence) isAction() {}
