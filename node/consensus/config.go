package consensus

import (
	"fmt"
	"time"

	"github.com/loyal-ledger/loyal/chain"
)

// Signer signs this validator's votes and proposals with its consensus key. SignVote signs a
// 32-byte digest (a chain.VoteDigest or a ProposalDigest) and returns r ‖ s ‖ v with v 27 or
// 28, as chain.SignVote does. It must be deterministic (RFC 6979, as go-ethereum's signer
// is) for the engine to be replayable, and it is called only from Step.
type Signer interface {
	Address() chain.Address
	SignVote(digest chain.Hash) ([65]byte, error)
}

// Default values used for the zero fields of Config.
const (
	DefaultTimeoutPropose   = 3 * time.Second
	DefaultTimeoutPrevote   = 1 * time.Second
	DefaultTimeoutPrecommit = 1 * time.Second
	DefaultTimeoutIncrement = 500 * time.Millisecond
	DefaultTimeoutMax       = 30 * time.Second
	DefaultMaxDrift         = 10 * time.Second
)

// Config is an engine's fixed configuration. Zero durations mean the defaults above. New
// copies it; the caller may modify it afterwards.
type Config struct {
	// ChainID is bound into every digest the engine signs.
	ChainID uint64
	// Validators is the validator set at the first height the engine runs (the ledger height
	// + 1 when the node starts), in index order; the node takes it from the rules in force
	// there. It is the set until a NewHeight names another (NewHeight.Validators and
	// .NextValidators): the set is per height, and at each height the proposer of (height,
	// round) is set[(height+round) % len(set)] and certificates list signatures in the set's
	// order. New checks a persisted SignedState against this set.
	Validators []chain.Address
	// Self is this node's consensus address. At a height whose set does not hold it the engine
	// is an observer: it follows rounds and reports commits but signs nothing. Self may join
	// or leave the set from one height to the next.
	Self chain.Address
	// Signer signs for Self. Required when Self is in a validator set the engine runs with (New
	// and NewHeight return an error otherwise), and its Address must be Self; ignored (may be
	// nil) while the engine is an observer.
	Signer Signer

	// TimeoutPropose, TimeoutPrevote and TimeoutPrecommit are the round-0 timeouts of each
	// step. Each round adds TimeoutIncrement, up to TimeoutMax (see Config.Timeout).
	TimeoutPropose   time.Duration
	TimeoutPrevote   time.Duration
	TimeoutPrecommit time.Duration
	TimeoutIncrement time.Duration
	TimeoutMax       time.Duration

	// MaxDrift bounds how far a fresh proposal's block time (Unix seconds) may be from the
	// receiver's local time, in either direction; a block outside it is prevoted nil.
	MaxDrift time.Duration
}

// withDefaults returns c with the zero durations filled in.
func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.TimeoutPropose, DefaultTimeoutPropose)
	def(&c.TimeoutPrevote, DefaultTimeoutPrevote)
	def(&c.TimeoutPrecommit, DefaultTimeoutPrecommit)
	def(&c.TimeoutIncrement, DefaultTimeoutIncrement)
	def(&c.TimeoutMax, DefaultTimeoutMax)
	def(&c.MaxDrift, DefaultMaxDrift)
	return c
}

// validate checks a config that already has its defaults.
func (c *Config) validate() error {
	if _, err := newValSet(c.Validators); err != nil {
		return fmt.Errorf("%w: %v", ErrBadConfig, err)
	}
	for _, d := range []time.Duration{c.TimeoutPropose, c.TimeoutPrevote, c.TimeoutPrecommit} {
		if d < 0 || d > c.TimeoutMax {
			return fmt.Errorf("%w: step timeout %v outside (0, TimeoutMax=%v]", ErrBadConfig, d, c.TimeoutMax)
		}
	}
	if c.TimeoutIncrement < 0 || c.MaxDrift < 0 {
		return fmt.Errorf("%w: negative duration", ErrBadConfig)
	}
	if c.Signer != nil && c.Signer.Address() != c.Self {
		return fmt.Errorf("%w: signer is %s, Self is %s", ErrBadConfig, c.Signer.Address(), c.Self)
	}
	if c.Signer == nil && c.index(c.Self) >= 0 {
		return fmt.Errorf("%w: Self %s is a validator but there is no Signer", ErrBadConfig, c.Self)
	}
	return nil
}

// index returns a's position in Validators, or -1.
func (c *Config) index(a chain.Address) int {
	for i, v := range c.Validators {
		if v == a {
			return i
		}
	}
	return -1
}

// Proposer returns the proposer of (height, round) when Validators is the set at height:
// Validators[(height+round) % n]. (With validator-set changes, use the set in force at
// height, as the engine does.)
func (c *Config) Proposer(height uint64, round uint32) chain.Address {
	return proposerIn(c.Validators, height, round)
}

// proposerIn is the proposer of (height, round) under the set vals of that height.
func proposerIn(vals []chain.Address, height uint64, round uint32) chain.Address {
	n := uint64(len(vals))
	return vals[(height%n+uint64(round)%n)%n]
}

// valSet is the validator set of one height: the addresses in index order and their indices.
// It is never modified once made, so heights with the same set share it.
type valSet struct {
	addrs []chain.Address
	index map[chain.Address]int // for lookups only, never iterated
}

// newValSet checks a validator set (1 to chain.MaxValidators addresses, none zero, none
// twice) and indexes it. It keeps addrs: the caller passes a copy it will not modify.
func newValSet(addrs []chain.Address) (valSet, error) {
	if len(addrs) == 0 || len(addrs) > chain.MaxValidators {
		return valSet{}, fmt.Errorf("%d validators, want 1 to %d", len(addrs), chain.MaxValidators)
	}
	s := valSet{addrs: addrs, index: make(map[chain.Address]int, len(addrs))}
	for i, a := range addrs {
		if a == (chain.Address{}) {
			return valSet{}, fmt.Errorf("validator %d is the zero address", i)
		}
		if _, dup := s.index[a]; dup {
			return valSet{}, fmt.Errorf("validator %s listed twice", a)
		}
		s.index[a] = i
	}
	return s, nil
}

// indexOf returns a's index in the set, or -1.
func (s valSet) indexOf(a chain.Address) int {
	if i, ok := s.index[a]; ok {
		return i
	}
	return -1
}

func (s valSet) proposer(height uint64, round uint32) chain.Address {
	return proposerIn(s.addrs, height, round)
}

// Timeout returns how long step waits in round: the step's base timeout plus
// round × TimeoutIncrement, capped at TimeoutMax. Zero fields count as their defaults.
func (c Config) Timeout(step Step, round uint32) time.Duration {
	c = c.withDefaults()
	var base time.Duration
	switch step {
	case StepPropose:
		base = c.TimeoutPropose
	case StepPrevote:
		base = c.TimeoutPrevote
	default:
		base = c.TimeoutPrecommit
	}
	if base >= c.TimeoutMax {
		return c.TimeoutMax
	}
	if c.TimeoutIncrement > 0 && time.Duration(round) > (c.TimeoutMax-base)/c.TimeoutIncrement {
		return c.TimeoutMax
	}
	return base + time.Duration(round)*c.TimeoutIncrement
}
