package chain

import (
	"fmt"
	"slices"
	"sort"
)

// Version numbers the consensus rules: how transactions are decoded, checked and applied,
// and how blocks are built and certified. A change to any of these on a running chain is a
// new Version that takes effect at an activation height recorded on chain
// (docs/adr/0005-rules-at-a-height.md); blocks below that height keep the rules they were
// made under, so re-executing the chain from genesis gives the same state roots.
type Version uint32

const (
	// Version1 is the protocol as launched: the transaction kinds of docs/signing.md, the
	// ledger semantics of this package's doc, and genesis's limits and validators.
	Version1 Version = 1

	// LatestVersion is the newest version this code can execute. A node that meets an
	// activation of a later version stops at its height with ErrUnknownProtocol instead of
	// executing blocks under rules it does not know.
	LatestVersion = Version1
)

// Rules are the consensus rules in force at one height: the protocol version, the limits,
// and the validator set that certifies the block at that height. Treat a Rules as read-only:
// a Schedule hands out the same value to every caller.
type Rules struct {
	ChainID    uint64      // fixed for the life of a chain; a new one is a new chain
	Version    Version     // which code paths apply
	Params     Params      // the block and transaction limits
	Validators []Validator // who certifies blocks at this height, in index order
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
// rules (Version1, genesis's limits and validators) from height 0, the genesis state, and
// adds each activation the chain records at its height. Today no transaction records one,
// so a schedule holds a single epoch; the ledger, block sync and consensus nevertheless ask
// At(height) rather than reading genesis, so that the changes the coming governance records
// reach all of them at once and the same way.
//
// A Schedule is not safe for concurrent use with Activate; the ledger guards its own.
type Schedule struct {
	epochs []Activation // by strictly increasing Height; epochs[0].Height == 0
}

// NewSchedule starts the schedule of the chain that g begins.
func NewSchedule(g *Genesis) *Schedule {
	return &Schedule{epochs: []Activation{{Height: 0, Rules: g.Rules()}}}
}

// Rules are the rules genesis puts in force: Version1 with its limits and validators.
func (g *Genesis) Rules() Rules {
	return Rules{ChainID: g.ChainID, Version: Version1, Params: g.Params, Validators: slices.Clone(g.Validators)}
}

// At returns the rules in force at height: those of the last activation at or below it.
func (s *Schedule) At(height uint64) *Rules {
	// The first epoch starting above height, minus one; epochs[0] starts at 0.
	i := sort.Search(len(s.epochs), func(i int) bool { return s.epochs[i].Height > height }) - 1
	return &s.epochs[i].Rules
}

// Activate records a change of rules at a height above every earlier activation. It refuses
// a version this code cannot execute, a version lower than the one in force, a chain id
// change, and limits or a validator set that fail the checks genesis's pass.
func (s *Schedule) Activate(a Activation) error {
	last := &s.epochs[len(s.epochs)-1]
	switch {
	case a.Height <= last.Height:
		return fmt.Errorf("%w: activation at height %d is not above the last one (%d)", ErrBadActivation, a.Height, last.Height)
	case a.Rules.Version > LatestVersion:
		return fmt.Errorf("%w: version %d at height %d (this node knows up to %d)", ErrUnknownProtocol, a.Rules.Version, a.Height, LatestVersion)
	case a.Rules.Version < last.Rules.Version:
		return fmt.Errorf("%w: version %d would go back from %d", ErrBadActivation, a.Rules.Version, last.Rules.Version)
	case a.Rules.ChainID != last.Rules.ChainID:
		return fmt.Errorf("%w: the chain id never changes (a new chain id is a new chain)", ErrBadActivation)
	}
	if err := a.Rules.Params.check(); err != nil {
		return fmt.Errorf("%w: %v", ErrBadActivation, err)
	}
	if n := len(a.Rules.Validators); n == 0 || n > MaxValidators {
		return fmt.Errorf("%w: need 1 to %d validators, have %d", ErrBadActivation, MaxValidators, n)
	}
	a.Rules.Validators = slices.Clone(a.Rules.Validators)
	s.epochs = append(s.epochs, a)
	return nil
}

// Activations returns the changes of rules after genesis, oldest first.
func (s *Schedule) Activations() []Activation { return slices.Clone(s.epochs[1:]) }
