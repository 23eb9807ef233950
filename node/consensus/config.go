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
	// Validators is the validator set in genesis order. The proposer of (height, round) is
	// Validators[(height+round) % len(Validators)], and certificates list signatures in this
	// order.
	Validators []chain.Address
	// Self is this node's consensus address. If it is not in Validators the engine is an
	// observer: it follows rounds and reports commits but never signs.
	Self chain.Address
	// Signer signs for Self. Required when Self is a validator, and its Address must be Self;
	// ignored (may be nil) for an observer.
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
	if len(c.Validators) == 0 || len(c.Validators) > chain.MaxValidators {
		return fmt.Errorf("%w: %d validators, want 1 to %d", ErrBadConfig, len(c.Validators), chain.MaxValidators)
	}
	for i, v := range c.Validators {
		if v == (chain.Address{}) {
			return fmt.Errorf("%w: validator %d is the zero address", ErrBadConfig, i)
		}
		for _, w := range c.Validators[:i] {
			if v == w {
				return fmt.Errorf("%w: validator %s listed twice", ErrBadConfig, v)
			}
		}
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

// Proposer returns the proposer of (height, round): Validators[(height+round) % n].
func (c *Config) Proposer(height uint64, round uint32) chain.Address {
	n := uint64(len(c.Validators))
	return c.Validators[(height%n+uint64(round)%n)%n]
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
