package chain_test

import (
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/chain"
)

// countingReader counts the committed reads a block makes.
type countingReader struct {
	base  chain.StateReader
	reads int
}

func (c *countingReader) Get(key []byte) ([]byte, error) {
	c.reads++
	return c.base.Get(key)
}

// memoChain is a genesis with two programs whose points expire a day after they are earned,
// and its committed state after an earn at genesis day's second block.
func memoChain(t *testing.T) (*chain.Schedule, memReader, uint64) {
	t.Helper()
	val := exampleKey("validator")
	g := &chain.Genesis{
		ChainID: testChainID, Network: "memo", GenesisTime: at(day0, 100),
		Partners: []chain.Partner{{Name: "Acme", Address: who.acme}, {Name: "Bolt", Address: who.bolt}},
		Validators: []chain.Validator{{
			Name: "v", Partner: who.acme, PubKey: crypto.CompressPubkey(&val.PublicKey), Address: crypto.PubkeyToAddress(val.PublicKey),
		}},
		Params: chain.DefaultParams(),
		Programs: []chain.GenesisProgram{
			{Symbol: "ACME", Name: "Acme", Owner: who.acme, Policy: chain.Policy{ExpiryDays: 1}},
			{Symbol: "BOLT", Name: "Bolt", Owner: who.bolt, Policy: chain.Policy{ExpiryDays: 1}},
		},
	}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	rules := chain.NewSchedule(g)
	state := memReader{}
	st := chain.NewState(state, rules.At(0), 0, g.GenesisTime)
	if err := g.InitState(st); err != nil {
		t.Fatal(err)
	}
	state.apply(st.Changes())
	st = chain.NewState(state, rules.At(1), 1, at(day0, 200))
	if err := st.BeginBlock(); err != nil {
		t.Fatal(err)
	}
	earn := chain.NewTx(testChainID, 0, 0, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: who.alice, Amount: 70, OrderRef: "o-1"}}})
	if _, err := st.ApplyTx(earn, who.acme); err != nil {
		t.Fatal(err)
	}
	state.apply(st.Changes())
	return rules, state, at(day0, 200)
}

// A second block of a day already processed reads nothing at all in BeginBlockAfter, where
// BeginBlock reads the program list and every program; both write nothing.
func TestBeginBlockAfterReadsNoProgramTheSameDay(t *testing.T) {
	rules, state, last := memoChain(t)
	for _, tc := range []struct {
		name  string
		begin func(*chain.State) error
		reads int
	}{
		{"BeginBlock", (*chain.State).BeginBlock, 3}, // the list, ACME, BOLT
		{"BeginBlockAfter", func(st *chain.State) error { return st.BeginBlockAfter(chain.DayOf(last)) }, 0},
	} {
		r := &countingReader{base: state}
		st := chain.NewState(r, rules.At(2), 2, last+60)
		if err := tc.begin(st); err != nil {
			t.Fatal(err)
		}
		if r.reads != tc.reads || len(st.Changes()) != 0 {
			t.Errorf("%s: %d reads, %d changes; want %d reads, none", tc.name, r.reads, len(st.Changes()), tc.reads)
		}
	}
}

// A block of a later day runs the whole of BeginBlock: the same changes (ACME's 70 points
// expire, both programs move to the new day) as BeginBlock makes.
func TestBeginBlockAfterALaterDayIsBeginBlock(t *testing.T) {
	rules, state, last := memoChain(t)
	changes := map[string][]chain.Change{}
	for name, begin := range map[string]func(*chain.State) error{
		"BeginBlock":      (*chain.State).BeginBlock,
		"BeginBlockAfter": func(st *chain.State) error { return st.BeginBlockAfter(chain.DayOf(last)) },
	} {
		st := chain.NewState(state, rules.At(2), 2, at(day0+3, 10))
		if err := begin(st); err != nil {
			t.Fatal(err)
		}
		changes[name] = st.Changes()
	}
	if len(changes["BeginBlock"]) != 3 { // ACME, BOLT and ACME's expiry day deleted
		t.Fatalf("BeginBlock made %d changes, want 3", len(changes["BeginBlock"]))
	}
	if !reflect.DeepEqual(changes["BeginBlock"], changes["BeginBlockAfter"]) {
		t.Fatalf("changes differ:\nBeginBlock      %v\nBeginBlockAfter %v", changes["BeginBlock"], changes["BeginBlockAfter"])
	}
	after := state.overlay(changes["BeginBlockAfter"])
	if p := after.program(t, "ACME"); p.ExpiredThrough != day0+3 || p.Stats.Expired != 70 {
		t.Fatalf("ACME after the later day: expired through %d, %d expired; want %d, 70", p.ExpiredThrough, p.Stats.Expired, day0+3)
	}
}
