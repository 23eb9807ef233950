package chain_test

import (
	"errors"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
)

func TestScheduleStartsWithGenesisRules(t *testing.T) {
	g := validGenesis(t)
	s := chain.NewSchedule(g)
	for _, h := range []uint64{0, 1, 2, 1 << 40} {
		r := s.At(h)
		if r.Version != chain.Version1 || r.ChainID != g.ChainID || r.Params != g.Params || len(r.Validators) != len(g.Validators) {
			t.Fatalf("At(%d) = %+v, want genesis's rules under version 1", h, r)
		}
		for i, v := range g.Validators {
			if r.ValidatorIndex(v.Address) != i || r.ValidatorAddresses()[i] != v.Address {
				t.Fatalf("At(%d): validator %d out of place", h, i)
			}
		}
	}
	if got := s.Activations(); len(got) != 0 {
		t.Fatalf("a new chain has %d activations", len(got))
	}
}

func TestScheduleAnswersEachHeightWithItsOwnRules(t *testing.T) {
	g := validGenesis(t)
	s := chain.NewSchedule(g)
	tighter := g.Rules()
	tighter.Params.MaxLots = 32
	fewer := tighter
	fewer.Validators = fewer.Validators[:1]
	for _, a := range []chain.Activation{{Height: 10, Rules: tighter}, {Height: 20, Rules: fewer}} {
		if err := s.Activate(a); err != nil {
			t.Fatalf("Activate at %d: %v", a.Height, err)
		}
	}
	for _, tc := range []struct {
		height     uint64
		maxLots    int
		validators int
	}{
		{0, g.Params.MaxLots, len(g.Validators)},
		{9, g.Params.MaxLots, len(g.Validators)},
		{10, 32, len(g.Validators)},
		{19, 32, len(g.Validators)},
		{20, 32, 1},
		{1 << 50, 32, 1},
	} {
		r := s.At(tc.height)
		if r.Params.MaxLots != tc.maxLots || len(r.Validators) != tc.validators {
			t.Errorf("At(%d): max_lots %d with %d validators, want %d with %d", tc.height, r.Params.MaxLots, len(r.Validators), tc.maxLots, tc.validators)
		}
	}
	if got := s.Activations(); len(got) != 2 || got[0].Height != 10 || got[1].Height != 20 {
		t.Fatalf("Activations() = %+v", got)
	}
}

func TestScheduleRefusesBadActivations(t *testing.T) {
	g := validGenesis(t)
	later := func(edit func(r *chain.Rules)) chain.Rules { r := g.Rules(); edit(&r); return r }
	for _, tc := range []struct {
		name string
		a    chain.Activation
		want error
	}{
		{"at genesis", chain.Activation{Height: 0, Rules: g.Rules()}, chain.ErrBadActivation},
		{"unknown version", chain.Activation{Height: 5, Rules: later(func(r *chain.Rules) { r.Version = chain.LatestVersion + 1 })}, chain.ErrUnknownProtocol},
		{"version back", chain.Activation{Height: 5, Rules: later(func(r *chain.Rules) { r.Version = 0 })}, chain.ErrBadActivation},
		{"new chain id", chain.Activation{Height: 5, Rules: later(func(r *chain.Rules) { r.ChainID++ })}, chain.ErrBadActivation},
		{"bad limits", chain.Activation{Height: 5, Rules: later(func(r *chain.Rules) { r.Params.MaxLots = 1 })}, chain.ErrBadActivation},
		{"no validators", chain.Activation{Height: 5, Rules: later(func(r *chain.Rules) { r.Validators = nil })}, chain.ErrBadActivation},
		{"a validator's address not its key's", chain.Activation{Height: 5, Rules: later(func(r *chain.Rules) {
			r.Validators = append([]chain.Validator(nil), r.Validators...)
			r.Validators[0].Address[0] ^= 1
		})}, chain.ErrBadActivation},
		{"a key twice", chain.Activation{Height: 5, Rules: later(func(r *chain.Rules) {
			r.Validators = append(append([]chain.Validator(nil), r.Validators...), r.Validators[0])
		})}, chain.ErrBadActivation},
	} {
		s := chain.NewSchedule(g)
		if err := s.Activate(tc.a); !errors.Is(err, tc.want) {
			t.Errorf("%s: Activate = %v, want %v", tc.name, err, tc.want)
		}
		if len(s.Activations()) != 0 || s.At(tc.a.Height).Version != chain.Version1 {
			t.Errorf("%s: a refused activation changed the schedule", tc.name)
		}
	}
	s := chain.NewSchedule(g)
	if err := s.Activate(chain.Activation{Height: 7, Rules: g.Rules()}); err != nil {
		t.Fatal(err)
	}
	if err := s.Activate(chain.Activation{Height: 7, Rules: g.Rules()}); !errors.Is(err, chain.ErrBadActivation) {
		t.Fatalf("a second activation at the same height: %v", err)
	}
}

// A block executes under the version in force at its height: a kind the registry gives a
// later version is unknown there, whatever else is right about the transaction.
func TestStateRefusesKindsNewerThanItsVersion(t *testing.T) {
	tx := chain.NewTx(testChainID, 0, 0, &chain.Transfer{Program: "ACME", To: who.bob, Amount: 1})
	before := &chain.Rules{ChainID: testChainID, Version: chain.Version1 - 1, Params: chain.DefaultParams()}
	st := chain.NewState(memReader{}, before, 1, 1_750_000_000)
	if _, err := st.ApplyTx(tx, who.alice); !errors.Is(err, chain.ErrUnknownKind) {
		t.Fatalf("a transfer under version %d: %v, want unknown_kind", before.Version, err)
	}
	if got := st.Changes(); len(got) != 0 {
		t.Fatalf("a refused transaction changed %d records", len(got))
	}
}

// Readers on other goroutines (the API, the mempool, consensus) see each activation whole.
func TestScheduleIsSafeForConcurrentReaders(t *testing.T) {
	g := validGenesis(t)
	s := chain.NewSchedule(g)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for h := uint64(1); h <= 200; h++ {
			r := g.Rules()
			r.Params.MaxLots = 2 + int(h%100)
			if err := s.Activate(chain.Activation{Height: h * 10, Rules: r}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := 0; i < 2000; i++ {
		h := uint64(i)
		r := s.At(h)
		if want := g.Params.MaxLots; h < 10 && r.Params.MaxLots != want {
			t.Fatalf("At(%d).MaxLots = %d before any activation could apply, want %d", h, r.Params.MaxLots, want)
		}
	}
	<-done
	if got := s.At(2000).Params.MaxLots; got != 2+200%100 {
		t.Fatalf("At(2000).MaxLots = %d", got)
	}
}
