package consensus

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/chain"
)

// started returns an engine of cfg that stepped NewHeight 1 with sets vals and next.
func started(t *testing.T, cfg Config, vals, next []chain.Address) *Engine {
	t.Helper()
	e, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Step(NewHeight{Now: time.Unix(1001, 0), Height: 1, ParentHash: blockHash("G"), ParentTime: 1000, Validators: vals, NextValidators: next}); err != nil {
		t.Fatal(err)
	}
	return e
}

// A bad validator set in a NewHeight is rejected with ErrBadConfig and changes nothing: the
// engine is equal to a twin that never saw it, before and after its first NewHeight.
func TestNewHeightRejectsBadSets(t *testing.T) {
	tooMany := make([]chain.Address, chain.MaxValidators+1)
	for i := range tooMany {
		tooMany[i] = chain.Address{byte(i >> 8), byte(i), 1}
	}
	dup := []chain.Address{testAddr(0), testAddr(1), testAddr(0)}
	zero := []chain.Address{testAddr(0), {}, testAddr(2)}
	cases := []struct {
		name       string
		cfg        Config
		vals, next []chain.Address
		want       string
	}{
		{"empty set", testConfig(4, 0), []chain.Address{}, nil,
			"consensus: invalid config: NewHeight %d: Validators: 0 validators, want 1 to 1024"},
		{"too many", testConfig(4, 0), tooMany, nil,
			"consensus: invalid config: NewHeight %d: Validators: 1025 validators, want 1 to 1024"},
		{"zero address", testConfig(4, 0), zero, nil,
			"consensus: invalid config: NewHeight %d: Validators: validator 1 is the zero address"},
		{"duplicate", testConfig(4, 0), dup, nil,
			"consensus: invalid config: NewHeight %d: Validators: validator " + testAddr(0).Hex() + " listed twice"},
		{"empty next set", testConfig(4, 0), nil, []chain.Address{},
			"consensus: invalid config: NewHeight %d: NextValidators: 0 validators, want 1 to 1024"},
		{"too many next", testConfig(4, 0), nil, tooMany,
			"consensus: invalid config: NewHeight %d: NextValidators: 1025 validators, want 1 to 1024"},
		{"zero next address", testConfig(4, 0), testValidators(3), zero,
			"consensus: invalid config: NewHeight %d: NextValidators: validator 1 is the zero address"},
		{"duplicate next", testConfig(4, 0), testValidators(4), dup,
			"consensus: invalid config: NewHeight %d: NextValidators: validator " + testAddr(0).Hex() + " listed twice"},
		{"self without signer", testConfig(4, -1), []chain.Address{testAddr(0), testAddr(7)}, nil,
			"consensus: invalid config: Self " + testAddr(7).Hex() + " is a validator at height %d but there is no Signer"},
	}
	for _, c := range cases {
		for _, h := range []uint64{1, 2} {
			// a steps the bad NewHeight (after NewHeight 1 if h is 2); twin does not.
			var a, twin *Engine
			if h == 1 {
				a, _ = New(c.cfg, nil)
				twin, _ = New(c.cfg, nil)
			} else {
				a, twin = started(t, c.cfg, nil, nil), started(t, c.cfg, nil, nil)
			}
			acts, err := a.Step(NewHeight{Now: time.Unix(1002, 0), Height: h, ParentHash: blockHash("A"), ParentTime: 1001,
				Validators: c.vals, NextValidators: c.next})
			if !errors.Is(err, ErrBadConfig) || err.Error() != fmt.Sprintf(c.want, h) || acts != nil {
				t.Errorf("%s at height %d: %v, %d actions; want %q", c.name, h, err, len(acts), fmt.Sprintf(c.want, h))
			}
			if !reflect.DeepEqual(a, twin) {
				t.Errorf("%s at height %d: the rejected NewHeight changed the engine", c.name, h)
			}
		}
	}
}

// Nil sets keep the engine's: the set announced as next for the height after the current
// one, else the current set. Non-nil sets are copied: the caller may reuse them.
func TestNewHeightNilSets(t *testing.T) {
	vals := testValidators(4)
	next := []chain.Address{testAddr(0), testAddr(1), testAddr(2), testAddr(5)}
	e := started(t, testConfig(4, 0), vals, next)
	next[3] = testAddr(6) // the engine kept a copy
	if !slices.Equal(e.nextSet.addrs, []chain.Address{testAddr(0), testAddr(1), testAddr(2), testAddr(5)}) {
		t.Fatalf("next set %v", e.nextSet.addrs)
	}
	// Height 2 with nil sets: the announced next set, and the same set after it.
	if _, err := e.Step(NewHeight{Height: 2, ParentHash: blockHash("A"), ParentTime: 1001}); err != nil {
		t.Fatal(err)
	}
	want := []chain.Address{testAddr(0), testAddr(1), testAddr(2), testAddr(5)}
	if !slices.Equal(e.set.addrs, want) || !slices.Equal(e.nextSet.addrs, want) || e.quorum != 3 || e.f != 1 || e.self != 0 {
		t.Fatalf("height 2: set %v, next %v, quorum %d, f %d, self %d", e.set.addrs, e.nextSet.addrs, e.quorum, e.f, e.self)
	}
	// Skipping to height 5 (block sync of several heights) with nil sets keeps the current
	// set: the engine knows no other.
	if _, err := e.Step(NewHeight{Height: 5, ParentHash: blockHash("D"), ParentTime: 1004, NextValidators: testValidators(7)}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.set.addrs, want) || !slices.Equal(e.nextSet.addrs, testValidators(7)) {
		t.Fatalf("height 5: set %v, next %v", e.set.addrs, e.nextSet.addrs)
	}
	if _, err := e.Step(NewHeight{Height: 7, ParentHash: blockHash("F"), ParentTime: 1006}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.set.addrs, want) || e.quorum != 3 {
		t.Fatalf("height 7 after a skip: set %v, quorum %d", e.set.addrs, e.quorum)
	}
	if _, err := e.Step(NewHeight{Height: 8, ParentHash: blockHash("G"), ParentTime: 1007, Validators: testValidators(7)}); err != nil {
		t.Fatal(err)
	}
	if len(e.set.addrs) != 7 || e.quorum != 5 || e.f != 2 || len(e.seen) != 7 || len(e.next) != 7 {
		t.Fatalf("height 8: %d validators, quorum %d, f %d, %d seen, %d next slots", len(e.set.addrs), e.quorum, e.f, len(e.seen), len(e.next))
	}
}

// A persisted state is checked by New against Config.Validators, and again by the NewHeight
// of its height against the set it names; a state of an earlier height is ignored whatever
// the new set.
func TestRestoreChecksTheSetOfItsHeight(t *testing.T) {
	at9 := func(vals []chain.Address) error {
		e, err := New(testConfig(4, 0), testState(t)) // height 9, v0's, POL of v0, v1, v2
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Step(NewHeight{Height: 9, ParentHash: blockHash("H"), ParentTime: 1000, Validators: vals})
		if err == nil && e.Status().Locked != testState(t).Locked {
			t.Errorf("set %v: resumed with lock %+v", vals, e.Status().Locked)
		}
		return err
	}
	cases := []struct {
		name string
		vals []chain.Address
		want string // "" for success
	}{
		{"same set", nil, ""},
		{"v3 rotated to v5", []chain.Address{testAddr(0), testAddr(1), testAddr(2), testAddr(5)}, ""},
		{"self left", []chain.Address{testAddr(1), testAddr(2), testAddr(3)},
			"consensus: invalid persisted state: an observer has no signed state (Self is not a validator at height 9)"},
		{"POL voter left", []chain.Address{testAddr(0), testAddr(1), testAddr(3)},
			"consensus: invalid persisted state: POL vote by non-validator " + testAddr(2).Hex()},
		{"POL below the new quorum", testValidators(7), "consensus: invalid persisted state: POL of 3 votes, need 5"},
	}
	for _, c := range cases {
		err := at9(c.vals)
		if c.want == "" && err != nil || c.want != "" && (!errors.Is(err, ErrBadState) || err.Error() != c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// At height 10 the state of height 9 is stale: Self may have left, the engine observes.
	e, err := New(testConfig(4, 0), testState(t))
	if err != nil {
		t.Fatal(err)
	}
	acts, err := e.Step(NewHeight{Height: 10, ParentHash: blockHash("I"), ParentTime: 1000, Validators: []chain.Address{testAddr(1), testAddr(2), testAddr(3)}})
	if err != nil || !e.Status().Observer || !e.Status().Locked.IsNone() || len(acts) != 1 {
		t.Fatalf("stale state at height 10: %v, %+v, %d actions", err, e.Status(), len(acts))
	}
}
