package consensus

import (
	"time"

	"github.com/loyal-ledger/loyal/chain"
)

// Step is a step of a round. Timeouts name the step they end.
type Step uint8

// Steps of a round, in order. StepCommit means the height is decided and the engine waits
// for the node's NewHeight.
const (
	StepPropose Step = iota + 1
	StepPrevote
	StepPrecommit
	StepCommit
)

func (s Step) String() string {
	switch s {
	case StepPropose:
		return "propose"
	case StepPrevote:
		return "prevote"
	case StepPrecommit:
		return "precommit"
	case StepCommit:
		return "commit"
	}
	return "none"
}

// Event is an input to Engine.Step: one of NewHeight, ProposalReceived, VoteReceived,
// TimeoutFired and BlockBuilt. Every event carries Now, the node's local wall-clock time when
// it steps the event; the engine reads no clock of its own and uses Now only to judge
// whether a fresh proposal's block time is within Config.MaxDrift.
type Event interface{ isEvent() }

// NewHeight starts consensus on Height, whose parent block (the last committed one) has
// ParentHash and ParentTime (Unix seconds). The node steps it once at start, with its
// ledger height + 1, and after every block it commits, whether the commit came from a Commit
// action or from block sync. Height must grow with every NewHeight.
//
// Validators is the validator set that certifies Height, in index order (the node's
// ledger.RulesAt(Height)); NextValidators is the set at Height+1 (RulesAt(Height+1)), which
// the node always knows, since a set change decided in block H takes effect at H+2. The
// engine rebinds to Validators for the whole height: the proposer of each round, who may
// vote, the quorum, whether Self signs (an engine whose Self is not in the set is an
// observer for the height) and the order of the certificate. It accepts and buffers the
// early votes of Height+1 from the members of NextValidators, and replays those of the
// members of the next height's set when that height starts.
//
// A nil Validators keeps the set the engine has for Height: the previous NewHeight's
// NextValidators if Height is the height after it, else the current set (Config.Validators
// before the first NewHeight). A nil NextValidators means the same set as at Height. Both
// are checked like Config.Validators (1 to chain.MaxValidators addresses, none zero, none
// twice); a bad set, or Self in Validators while Config.Signer is nil, makes Step return
// ErrBadConfig and change nothing. The engine copies both slices.
type NewHeight struct {
	Now            time.Time
	Height         uint64
	ParentHash     chain.Hash
	ParentTime     uint64
	Validators     []chain.Address
	NextValidators []chain.Address
}

// ProposalReceived delivers a proposal whose signature the node verified (Proposal.Verify),
// with the POL votes that came with it (each verified with Vote.Verify; the engine uses those
// that are prevotes for the block in POLRound by validators, and adds them to what it knows).
// BlockValid says whether the node holds the block, its hash and header time match the
// proposal, and its content is valid on top of the parent (transactions, parent link,
// last commit); the engine judges the block time against the clock itself. The node should
// step proposals only for the engine's current height: it cannot validate a block of a later
// height yet, so it keeps those (bounded) and steps them after the NewHeight.
type ProposalReceived struct {
	Now        time.Time
	Proposal   Proposal
	POL        []Vote
	BlockValid bool
}

// VoteReceived delivers a vote whose signature the node verified (Vote.Verify).
type VoteReceived struct {
	Now  time.Time
	Vote Vote
}

// TimeoutFired reports that a ScheduleTimeout's time has come. Stale timeouts are ignored.
type TimeoutFired struct {
	Now    time.Time
	Height uint64
	Round  uint32
	Step   Step
}

// BlockBuilt answers a BuildBlock action with the block the node built: its hash and header
// time (later than the parent's).
type BlockBuilt struct {
	Now       time.Time
	Height    uint64
	Round     uint32
	BlockHash chain.Hash
	BlockTime uint64
}

func (NewHeight) isEvent()        {}
func (ProposalReceived) isEvent() {}
func (VoteReceived) isEvent()     {}
func (TimeoutFired) isEvent()     {}
func (BlockBuilt) isEvent()       {}
