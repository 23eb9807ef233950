package consensus

import (
	"errors"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/chain"
)

// Timeouts grow by TimeoutIncrement per round and stop at TimeoutMax, whatever the round.
func TestTimeoutGrowthCapped(t *testing.T) {
	cfg := Config{TimeoutPropose: 3 * time.Second, TimeoutPrevote: time.Second, TimeoutPrecommit: time.Second,
		TimeoutIncrement: 500 * time.Millisecond, TimeoutMax: 10 * time.Second}
	cases := []struct {
		step  Step
		round uint32
		want  time.Duration
	}{
		{StepPropose, 0, 3 * time.Second},
		{StepPropose, 1, 3500 * time.Millisecond},
		{StepPropose, 14, 10 * time.Second},
		{StepPropose, 15, 10 * time.Second},
		{StepPrevote, 0, time.Second},
		{StepPrevote, 4, 3 * time.Second},
		{StepPrevote, 18, 10 * time.Second},
		{StepPrevote, 19, 10 * time.Second},
		{StepPrecommit, 2, 2 * time.Second},
		{StepPrecommit, MaxRound, 10 * time.Second},
		{StepPrecommit, ^uint32(0), 10 * time.Second}, // no overflow
	}
	for _, c := range cases {
		if got := cfg.Timeout(c.step, c.round); got != c.want {
			t.Errorf("%v round %d: %v, want %v", c.step, c.round, got, c.want)
		}
	}
	var zero Config // the defaults
	if got := zero.Timeout(StepPropose, 1); got != DefaultTimeoutPropose+DefaultTimeoutIncrement {
		t.Errorf("default propose timeout in round 1: %v", got)
	}
	if got := zero.Timeout(StepPrevote, 1_000_000); got != DefaultTimeoutMax {
		t.Errorf("default timeout in round 1e6: %v", got)
	}
}

// The proposer of (height, round) is Validators[(height+round) % n].
func TestProposerRotation(t *testing.T) {
	cfg := testConfig(4, 0)
	cases := []struct {
		height uint64
		round  uint32
		want   int
	}{
		{1, 0, 1}, {1, 1, 2}, {1, 2, 3}, {1, 3, 0}, {1, 4, 1},
		{2, 0, 2}, {4, 0, 0}, {5, 7, 0},
		{^uint64(0), 0, 3}, {^uint64(0), ^uint32(0), 2}, // no overflow: (2^64-1)%4 = 3, (2^32-1)%4 = 3
	}
	for _, c := range cases {
		if got := cfg.Proposer(c.height, c.round); got != testAddr(c.want) {
			t.Errorf("proposer of %d/%d is %v, want v%d", c.height, c.round, got, c.want)
		}
	}
	// Each validator proposes once every n consecutive rounds.
	seen := map[chain.Address]int{}
	for r := uint32(0); r < 4; r++ {
		seen[cfg.Proposer(10, r)]++
	}
	if len(seen) != 4 {
		t.Errorf("four rounds have %d distinct proposers", len(seen))
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	cases := map[string]func(*Config){
		"no validators":      func(c *Config) { c.Validators = nil },
		"duplicate":          func(c *Config) { c.Validators[2] = c.Validators[1] },
		"zero address":       func(c *Config) { c.Validators[3] = chain.Address{} },
		"validator, no key":  func(c *Config) { c.Signer = nil },
		"signer is not Self": func(c *Config) { c.Signer = keySigner{testKeys[1]} },
		"step above the cap": func(c *Config) { c.TimeoutPropose = time.Minute; c.TimeoutMax = time.Second },
		"negative increment": func(c *Config) { c.TimeoutIncrement = -1 },
	}
	for name, f := range cases {
		cfg := testConfig(4, 0)
		f(&cfg)
		if _, err := New(cfg, nil); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := New(testConfig(4, -1), nil); err != nil {
		t.Errorf("observer without a signer: %v", err)
	}
}

func TestNewRejectsBadState(t *testing.T) {
	cases := map[string]struct {
		self int
		f    func(*SignedState)
	}{
		"another validator's state": {1, func(*SignedState) {}},
		"an observer's state":       {-1, func(*SignedState) {}},
		"forged vote":               {0, func(s *SignedState) { s.Prevote.Sig = s.Precommit.Sig }},
		"forged POL vote":           {0, func(s *SignedState) { s.ValidPOL[1].Sig = s.ValidPOL[0].Sig }},
		"POL below a quorum":        {0, func(s *SignedState) { s.ValidPOL = s.ValidPOL[:2] }},
		"inconsistent":              {0, func(s *SignedState) { s.Locked.Round = 3 }},
	}
	for name, c := range cases {
		s := testState(t)
		c.f(s)
		if _, err := New(testConfig(4, c.self), s); !errors.Is(err, ErrBadState) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := New(testConfig(4, 0), testState(t)); err != nil {
		t.Errorf("good state: %v", err)
	}
}

func TestStepBeforeStart(t *testing.T) {
	e, err := New(testConfig(4, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Step(VoteReceived{Vote: signedVote(t, 1, chain.Prevote, 1, 0, chain.Hash{})}); !errors.Is(err, ErrNotStarted) {
		t.Errorf("vote before NewHeight: %v", err)
	}
	if _, err := e.Step(TimeoutFired{Height: 1, Step: StepPropose}); !errors.Is(err, ErrNotStarted) {
		t.Errorf("timeout before NewHeight: %v", err)
	}
	if _, err := e.Step(NewHeight{Height: 0}); !errors.Is(err, ErrOldHeight) {
		t.Errorf("height 0: %v", err)
	}
}
