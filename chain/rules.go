package chain

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
)

// Version numbers the consensus rules: how transactions are decoded, checked and applied,
// and how blocks are built and certified. A change to any of these on a running chain is a
// new Version that takes effect at an activation height the chain records
// (docs/adr/0005-rules-at-a-height.md); blocks below that height keep the rules they were
// made under, so re-executing the chain from genesis gives the same state roots.
type Version uint32

const (
	// Version1 is the protocol as launched: the transaction kinds of docs/signing.md, the
	// ledger semantics of this package's doc, and genesis's limits and validators.
	Version1 Version = 1

	// Version2 adds partner governance (docs/adr/0009-partner-governance.md): the propose
	// and approve kinds, partners admitted, removed and re-keyed by more than two thirds of
	// the partners, and exchange routes closed at a retired program's either end. A genesis
	// with a governance section starts the chain under it.
	Version2 Version = 2

	// Version3 adds validator governance (docs/adr/0003-consensus.md, "Validator-set
	// changes"): the propose_validator kind, by which partners add, remove and re-key
	// validators with the proposer's proof of possession; each change takes effect
	// ActivationDelay blocks after the block that decides it; and every header commits to the
	// validator set that certifies the next block (Header.NextValidators).
	Version3 Version = 3

	// LatestVersion is the newest version this code can execute. An activation of a later
	// version is refused with ErrUnknownProtocol (Schedule.Activate), so a node never
	// executes blocks under rules it does not know (ADR 0005).
	LatestVersion = Version3
)

// Rules are the consensus rules in force at one height: the protocol version, the limits,
// and the validator set that certifies the block at that height. Treat a Rules as read-only:
// a Schedule hands out the same value to every caller, from any goroutine.
type Rules struct {
	ChainID    uint64      // fixed for the life of a chain; a new one is a new chain
	Genesis    Hash        // the genesis hash, fixed with the chain id: the EIP-712 domain's salt
	Version    Version     // which code paths apply
	Params     Params      // the block and transaction limits
	Validators []Validator // who certifies blocks at this height, in index order
	// Governance are the partners' rules for proposals (Version2 on; zero before).
	Governance GovernanceParams
}

// ValidatorIndex returns the index of the validator with consensus address a, or -1.
func (r *Rules) ValidatorIndex(a Address) int {
	for i, v := range r.Validators {
		if v.Address == a {
			return i
		}
	}
	return -1
}

// ValidatorAddresses returns the validators' consensus addresses in index order: the set a
// commit certificate at this height is checked against.
func (r *Rules) ValidatorAddresses() []Address {
	out := make([]Address, len(r.Validators))
	for i, v := range r.Validators {
		out[i] = v.Address
	}
	return out
}

// Activation is a change of rules decided on chain: from Height on, Rules are in force.
type Activation struct {
	Height uint64
	Rules  Rules
}

// Schedule answers, for every height, which rules are in force. It starts with genesis's
// rules (its protocol version, limits and validators) from height 0, the genesis state, and
// adds each activation at its height. From Version3 the chain records validator-set changes
// (ADR 0003) and Follow adds them from the state; nothing else changes rules yet. The ledger,
// block sync, consensus, the allow-list, the verifier and proof checks all ask At(height)
// rather than reading genesis, so a change reaches all of them at once and the same way.
//
// A Schedule is safe for concurrent use: At never blocks, and an Activate is seen whole or
// not at all (the epochs are replaced, never changed in place).
type Schedule struct {
	mu     sync.Mutex                   // serializes Activate
	epochs atomic.Pointer[[]Activation] // by strictly increasing Height; the first at 0
}

// NewSchedule starts the schedule of the chain that g begins.
func NewSchedule(g *Genesis) *Schedule {
	s := &Schedule{}
	s.epochs.Store(&[]Activation{{Height: 0, Rules: g.Rules()}})
	return s
}

// Rules are the rules genesis puts in force: its protocol version with its limits and
// validators.
func (g *Genesis) Rules() Rules {
	r := Rules{ChainID: g.ChainID, Genesis: g.Hash(), Version: g.Version(), Params: g.Params, Validators: slices.Clone(g.Validators)}
	if g.Governance != nil {
		r.Governance = *g.Governance
	}
	return r
}

// At returns the rules in force at height: those of the last activation at or below it.
func (s *Schedule) At(height uint64) *Rules {
	epochs := *s.epochs.Load()
	// The first epoch starting above height, minus one; epochs[0] starts at 0.
	i := sort.Search(len(epochs), func(i int) bool { return epochs[i].Height > height }) - 1
	return &epochs[i].Rules
}

// Activate records a change of rules at a height above every earlier activation. It refuses
// a version this code cannot execute, a version lower than the one in force, a chain id
// change, and limits or a validator set that fail the checks genesis's pass (all but the
// validators' partners, which the governance that decides the change checks against the
// partner set of its day).
func (s *Schedule) Activate(a Activation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	epochs := *s.epochs.Load()
	last := &epochs[len(epochs)-1]
	switch {
	case a.Height <= last.Height:
		return fmt.Errorf("%w: activation at height %d is not above the last one (%d)", ErrBadActivation, a.Height, last.Height)
	case a.Rules.Version > LatestVersion:
		return fmt.Errorf("%w: version %d at height %d (this node knows up to %d)", ErrUnknownProtocol, a.Rules.Version, a.Height, LatestVersion)
	case a.Rules.Version < last.Rules.Version:
		return fmt.Errorf("%w: version %d would go back from %d", ErrBadActivation, a.Rules.Version, last.Rules.Version)
	case a.Rules.ChainID != last.Rules.ChainID || a.Rules.Genesis != last.Rules.Genesis:
		return fmt.Errorf("%w: the chain id and genesis never change (a new one is a new chain)", ErrBadActivation)
	case last.Rules.Version < Version2 && a.Rules.Version >= Version2:
		// Governance keeps records (the partner count, each program's partner) that a
		// version 1 chain never wrote; until a migration writes them, version 2 starts only
		// at genesis (ADR 0009).
		return fmt.Errorf("%w: version 2 cannot be activated on a version 1 chain; it starts at genesis", ErrBadActivation)
	case last.Rules.Version < Version3 && a.Rules.Version >= Version3:
		// Validator governance keeps the validator set in state from genesis on, and headers
		// commit to it; a chain that started without them starts version 3 as a new chain.
		return fmt.Errorf("%w: version 3 cannot be activated on an earlier chain; it starts at genesis", ErrBadActivation)
	}
	if err := a.Rules.Params.check(); err != nil {
		return fmt.Errorf("%w: %v", ErrBadActivation, err)
	}
	if err := checkValidators(a.Rules.Version, a.Rules.Params, a.Rules.Validators, nil); err != nil {
		return fmt.Errorf("%w: %v", ErrBadActivation, err)
	}
	if a.Rules.Version >= Version2 && last.Rules.Version >= Version2 && a.Rules.Governance != last.Rules.Governance {
		// Deadlines never decrease with the proposal id while proposal_seconds stays: readers
		// find the open proposals by that (ADR 0009). A change needs them revisited first.
		return fmt.Errorf("%w: governance parameters are genesis's for now", ErrBadActivation)
	}
	a.Rules.Validators = slices.Clone(a.Rules.Validators)
	next := append(slices.Clip(epochs), a)
	s.epochs.Store(&next)
	return nil
}

// Activations returns the changes of rules after genesis, oldest first.
func (s *Schedule) Activations() []Activation { return slices.Clone((*s.epochs.Load())[1:]) }
