package chain_test

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/loyal-ledger/loyal/chain"
)

// d1 is the day the usual programs are registered, at 10:00 UTC; the shorthands then send one
// transaction a minute, so a test stays on d1 unless it moves on explicitly.
const d1 = day0 + 1

const never = chain.NeverExpires

// stateCase is one rule of a transaction kind, checked on a fresh ledger.
type stateCase struct {
	name string
	run  func(t *testing.T, f *stateFixture)
}

// rejects is a case that sends one transaction and expects it rejected with want.
func rejects(name string, sender chain.Address, p chain.Payload, want *chain.Error) stateCase {
	return stateCase{name, func(t *testing.T, f *stateFixture) { f.reject(sender, p, want) }}
}

func runCases(t *testing.T, setup func(tb rapid.TB) *stateFixture, cases []stateCase) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("duplicate case name %q", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) { c.run(t, setup(t)) })
	}
}

// withPrograms is the usual network with ACME (owner acme, operator acmeOp) and BOLT (owner
// bolt, operator boltOp) registered on d1 with these policies.
func withPrograms(acmePol, boltPol chain.Policy) func(tb rapid.TB) *stateFixture {
	return func(tb rapid.TB) *stateFixture {
		f := newStd(tb)
		f.block(at(d1, 36000), func(b *blk) {
			b.ok(who.acme, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme Rewards", Policy: acmePol, Operators: []chain.Address{who.acmeOp}})
			b.ok(who.bolt, &chain.RegisterProgram{Symbol: "BOLT", Name: "Bolt Miles", Policy: boltPol, Operators: []chain.Address{who.boltOp}})
		})
		return f
	}
}

// withPoints is withPrograms with no policies, and 100 available ACME for alice (order "seed").
func withPoints(tb rapid.TB) *stateFixture {
	f := withPrograms(chain.Policy{}, chain.Policy{})(tb)
	f.earn(who.acme, "ACME", who.alice, 100, "seed")
	return f
}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func credits(cs ...chain.Credit) *chain.Earn { return &chain.Earn{Program: "ACME", Credits: cs} }

func credit(to chain.Address, amount uint64, ref string) chain.Credit {
	return chain.Credit{To: to, Amount: amount, OrderRef: ref}
}

func nOperators(n int) []chain.Address {
	ops := make([]chain.Address, n)
	for i := range ops {
		ops[i] = actor(fmt.Sprintf("operator %d", i))
	}
	return ops
}

func TestRegisterProgram(t *testing.T) {
	setup := func(tb rapid.TB) *stateFixture {
		f := newStd(tb)
		f.block(at(d1, 36000), func(b *blk) {
			b.ok(who.acme, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme Rewards"})
		})
		return f
	}
	reg := func(sym string, pol chain.Policy) *chain.RegisterProgram {
		return &chain.RegisterProgram{Symbol: sym, Name: "x", Policy: pol}
	}
	tiers := func(ts ...chain.Tier) chain.Policy { return chain.Policy{Tiers: ts} }
	manyTiers := make([]chain.Tier, 33)
	for i := range manyTiers {
		manyTiers[i] = chain.Tier{Name: fmt.Sprintf("T%d", i), Threshold: uint64(i + 1)}
	}
	cases := []stateCase{
		{"a partner registers a program and becomes its owner", func(t *testing.T, f *stateFixture) {
			pol := chain.Policy{PendingDays: 2, ExpiryDays: 30, TierWindowDays: 90, Tiers: []chain.Tier{{Name: "Silver", Threshold: 100}, {Name: "Gold", Threshold: 500}}}
			f.ok(who.cafe, &chain.RegisterProgram{Symbol: "CAFE9", Name: "Cafe Club", Policy: pol, Operators: []chain.Address{who.carol}})
			eq(t, "program", f.program("CAFE9"), &chain.Program{
				Symbol: "CAFE9", Name: "Cafe Club", Owner: who.cafe, Operators: []chain.Address{who.carol},
				Policy: pol, ExpiredThrough: d1,
			})
			eq(t, "program list", f.base.programList(t), []string{"ACME", "CAFE9"})
		}},
		rejects("only a partner may register (not_partner)", who.alice, reg("ALICE", chain.Policy{}), chain.ErrNotPartner),
		rejects("an operator is not a partner (not_partner)", who.acmeOp, reg("OPS", chain.Policy{}), chain.ErrNotPartner),
		rejects("a symbol is taken once, whoever asks (program_exists)", who.bolt, reg("ACME", chain.Policy{}), chain.ErrProgramExists),
		rejects("the owner cannot register its symbol twice (program_exists)", who.acme, reg("ACME", chain.Policy{}), chain.ErrProgramExists),
		{"a genesis program's symbol is taken (program_exists)", func(t *testing.T, _ *stateFixture) {
			f := newStateFixture(t, chain.DefaultParams(), []chain.Address{who.acme, who.bolt}, func(g *chain.Genesis) {
				g.Programs = []chain.GenesisProgram{{Symbol: "GEN", Name: "Genesis", Owner: who.acme}}
			})
			f.reject(who.bolt, reg("GEN", chain.Policy{}), chain.ErrProgramExists)
			f.ok(who.bolt, reg("GEN2", chain.Policy{}))
			eq(t, "program list", f.base.programList(t), []string{"GEN", "GEN2"})
		}},
		rejects("symbol of one character (bad_symbol)", who.bolt, reg("B", chain.Policy{}), chain.ErrBadSymbol),
		rejects("symbol of thirteen characters (bad_symbol)", who.bolt, reg("BOLTBOLTBOLTB", chain.Policy{}), chain.ErrBadSymbol),
		rejects("empty symbol (bad_symbol)", who.bolt, reg("", chain.Policy{}), chain.ErrBadSymbol),
		rejects("lower-case symbol (bad_symbol)", who.bolt, reg("bolt", chain.Policy{}), chain.ErrBadSymbol),
		rejects("symbol with punctuation (bad_symbol)", who.bolt, reg("BO-LT", chain.Policy{}), chain.ErrBadSymbol),
		rejects("symbol with non-ASCII letters (bad_symbol)", who.bolt, reg("BÖLT", chain.Policy{}), chain.ErrBadSymbol),
		{"symbols of 2 and 12 characters of A-Z0-9 are fine", func(t *testing.T, f *stateFixture) {
			f.ok(who.bolt, reg("B0", chain.Policy{}))
			f.ok(who.bolt, reg("BOLT12345678", chain.Policy{}))
		}},
		rejects("decreasing tier thresholds (bad_policy)", who.bolt, reg("BOLT", tiers(chain.Tier{Name: "Gold", Threshold: 500}, chain.Tier{Name: "Silver", Threshold: 100})), chain.ErrBadPolicy),
		rejects("equal tier thresholds (bad_policy)", who.bolt, reg("BOLT", tiers(chain.Tier{Name: "Silver", Threshold: 100}, chain.Tier{Name: "Gold", Threshold: 100})), chain.ErrBadPolicy),
		rejects("tier without a name (bad_policy)", who.bolt, reg("BOLT", tiers(chain.Tier{Threshold: 100})), chain.ErrBadPolicy),
		rejects("tier name over 32 bytes (bad_policy)", who.bolt, reg("BOLT", tiers(chain.Tier{Name: strings.Repeat("n", 33), Threshold: 100})), chain.ErrBadPolicy),
		rejects("more than 32 tiers (bad_policy)", who.bolt, reg("BOLT", tiers(manyTiers...)), chain.ErrBadPolicy),
		rejects("pending_days over the protocol bound (bad_policy)", who.bolt, reg("BOLT", chain.Policy{PendingDays: chain.MaxPendingDays + 1}), chain.ErrBadPolicy),
		rejects("expiry_days over the protocol bound (bad_policy)", who.bolt, reg("BOLT", chain.Policy{ExpiryDays: chain.MaxExpiryDays + 1}), chain.ErrBadPolicy),
		rejects("tier_window_days over the protocol bound (bad_policy)", who.bolt, reg("BOLT", chain.Policy{TierWindowDays: chain.MaxTierWindowDays + 1}), chain.ErrBadPolicy),
		{"policy bounds themselves are allowed", func(t *testing.T, f *stateFixture) {
			f.ok(who.bolt, reg("BOLT", chain.Policy{PendingDays: chain.MaxPendingDays, ExpiryDays: chain.MaxExpiryDays, TierWindowDays: chain.MaxTierWindowDays}))
		}},
		rejects("name longer than the genesis max_memo_len (field_too_long)", who.bolt,
			&chain.RegisterProgram{Symbol: "BOLT", Name: strings.Repeat("n", chain.DefaultParams().MaxMemoLen+1)}, chain.ErrFieldTooLong),
		rejects("name longer than the decode bound (field_too_long)", who.bolt,
			&chain.RegisterProgram{Symbol: "BOLT", Name: strings.Repeat("n", 1025)}, chain.ErrFieldTooLong),
		{"a name of exactly max_memo_len is fine", func(t *testing.T, f *stateFixture) {
			f.ok(who.bolt, &chain.RegisterProgram{Symbol: "BOLT", Name: strings.Repeat("n", chain.DefaultParams().MaxMemoLen)})
		}},
		{"the name limit is the genesis max_memo_len (field_too_long)", func(t *testing.T, _ *stateFixture) {
			params := chain.DefaultParams()
			params.MaxMemoLen = 10
			f := newStateFixture(t, params, []chain.Address{who.acme}, nil)
			f.reject(who.acme, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme Club 1"}, chain.ErrFieldTooLong)
			f.ok(who.acme, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme Club0"})
		}},
		rejects("name not valid UTF-8 (malformed)", who.bolt, &chain.RegisterProgram{Symbol: "BOLT", Name: "Bolt \xff"}, chain.ErrMalformed),
		rejects("tier name not valid UTF-8 (bad_policy)", who.bolt, reg("BOLT", tiers(chain.Tier{Name: "\xc3", Threshold: 1})), chain.ErrBadPolicy),
		rejects("zero-address operator (zero_address)", who.bolt,
			&chain.RegisterProgram{Symbol: "BOLT", Operators: []chain.Address{who.boltOp, {}}}, chain.ErrZeroAddress),
		rejects("operator listed twice (malformed)", who.bolt,
			&chain.RegisterProgram{Symbol: "BOLT", Operators: []chain.Address{who.boltOp, who.boltOp}}, chain.ErrMalformed),
		rejects("more than 64 operators (too_many_items)", who.bolt,
			&chain.RegisterProgram{Symbol: "BOLT", Operators: nOperators(65)}, chain.ErrTooManyItems),
		{"the program list stays sorted", func(t *testing.T, f *stateFixture) {
			f.next(func(b *blk) {
				b.ok(who.bolt, reg("ZED", chain.Policy{}))
				b.ok(who.bolt, reg("AB", chain.Policy{}))
				b.ok(who.cafe, reg("BOLT", chain.Policy{}))
			})
			eq(t, "program list", f.base.programList(t), []string{"AB", "ACME", "BOLT", "ZED"})
		}},
	}
	runCases(t, setup, cases)
}

func TestUpdateProgram(t *testing.T) {
	setup := withPrograms(chain.Policy{ExpiryDays: 30}, chain.Policy{})
	policy := func(p chain.Policy) *chain.UpdateProgram {
		return &chain.UpdateProgram{Program: "ACME", SetPolicy: true, Policy: p}
	}
	cases := []stateCase{
		rejects("an operator is not the owner (not_owner)", who.acmeOp, policy(chain.Policy{}), chain.ErrNotOwner),
		rejects("another partner is not the owner (not_owner)", who.bolt, policy(chain.Policy{}), chain.ErrNotOwner),
		rejects("a customer is not the owner (not_owner)", who.alice, &chain.UpdateProgram{Program: "ACME", Retire: true}, chain.ErrNotOwner),
		rejects("unknown program (unknown_program)", who.acme, &chain.UpdateProgram{Program: "NOPE", Retire: true}, chain.ErrUnknownProgram),
		rejects("bad program symbol (bad_symbol)", who.acme, &chain.UpdateProgram{Program: "acme", Retire: true}, chain.ErrBadSymbol),
		rejects("an update that changes nothing (malformed)", who.acme, &chain.UpdateProgram{Program: "ACME"}, chain.ErrMalformed),
		rejects("a policy without set_policy (malformed)", who.acme, &chain.UpdateProgram{Program: "ACME", Policy: chain.Policy{ExpiryDays: 1}, Retire: true}, chain.ErrMalformed),
		rejects("operators without set_operators (malformed)", who.acme, &chain.UpdateProgram{Program: "ACME", Operators: []chain.Address{who.bob}, Retire: true}, chain.ErrMalformed),
		rejects("operator listed twice (malformed)", who.acme, &chain.UpdateProgram{Program: "ACME", SetOperators: true, Operators: []chain.Address{who.bob, who.bob}}, chain.ErrMalformed),
		rejects("zero-address operator (zero_address)", who.acme, &chain.UpdateProgram{Program: "ACME", SetOperators: true, Operators: []chain.Address{{}}}, chain.ErrZeroAddress),
		rejects("more than 64 operators (too_many_items)", who.acme, &chain.UpdateProgram{Program: "ACME", SetOperators: true, Operators: nOperators(65)}, chain.ErrTooManyItems),
		rejects("decreasing tiers (bad_policy)", who.acme, policy(chain.Policy{Tiers: []chain.Tier{{Name: "Gold", Threshold: 9}, {Name: "Silver", Threshold: 1}}}), chain.ErrBadPolicy),
		{"a new policy applies only to points earned afterwards", func(t *testing.T, f *stateFixture) {
			f.earn(who.acme, "ACME", who.alice, 100, "o1") // available now, expires d1+30
			f.ok(who.acme, policy(chain.Policy{PendingDays: 2, ExpiryDays: 5}))
			eq(t, "policy", f.program("ACME").Policy, chain.Policy{PendingDays: 2, ExpiryDays: 5})
			f.earn(who.acme, "ACME", who.alice, 40, "o2") // available d1+3, expires d1+8
			eq(t, "lots", f.balance(who.alice, "ACME").Lots, []chain.Lot{
				{Amount: 40, Expiry: d1 + 8, Available: d1 + 3}, {Amount: 100, Expiry: d1 + 30},
			})
			eq(t, "order o1", *f.order("ACME", "o1"), chain.Order{To: who.alice, Amount: 100, EarnedDay: d1, Expiry: d1 + 30, Available: 0, Height: 2})
			eq(t, "order o2", *f.order("ACME", "o2"), chain.Order{To: who.alice, Amount: 40, EarnedDay: d1, Expiry: d1 + 8, Available: d1 + 3, Height: 4})
			f.onDay(d1+7, nil)
			eq(t, "available on d1+7", f.avail(who.alice, "ACME"), 140)
			f.onDay(d1+8, nil)
			eq(t, "total on d1+8", f.total(who.alice, "ACME"), 100)
			eq(t, "expired on d1+8", f.program("ACME").Stats.Expired, 40)
			f.block(dayStart(d1+30)-1, nil)
			eq(t, "total just before d1+30", f.total(who.alice, "ACME"), 100)
			f.onDay(d1+30, nil)
			eq(t, "total on d1+30", f.total(who.alice, "ACME"), 0)
			eq(t, "expired on d1+30", f.program("ACME").Stats.Expired, 140)
		}},
		{"a new owner can update and earn; the old one cannot", func(t *testing.T, f *stateFixture) {
			cold := actor("acme cold key 2")
			f.ok(who.acme, &chain.UpdateProgram{Program: "ACME", NewOwner: cold})
			p := f.program("ACME")
			eq(t, "owner", p.Owner, cold)
			eq(t, "operators kept", p.Operators, []chain.Address{who.acmeOp})
			eq(t, "policy kept", p.Policy, chain.Policy{ExpiryDays: 30})
			f.reject(who.acme, policy(chain.Policy{}), chain.ErrNotOwner)
			f.reject(who.acme, &chain.Earn{Program: "ACME", Credits: []chain.Credit{credit(who.alice, 1, "old")}}, chain.ErrNotOperator)
			f.ok(cold, policy(chain.Policy{ExpiryDays: 7}))
			f.earn(cold, "ACME", who.alice, 5, "new")
			f.earn(who.acmeOp, "ACME", who.alice, 6, "op")
			eq(t, "alice", f.total(who.alice, "ACME"), 11)
		}},
		{"a retired program takes no earns, but its points still move", func(t *testing.T, f *stateFixture) {
			f.earn(who.acme, "ACME", who.alice, 100, "o1")
			f.ok(who.acme, &chain.UpdateProgram{Program: "ACME", Retire: true})
			eq(t, "retired", f.program("ACME").Retired, true)
			f.reject(who.acme, credits(credit(who.alice, 1, "o2")), chain.ErrProgramRetired)
			f.reject(who.acmeOp, credits(credit(who.bob, 1, "o3")), chain.ErrProgramRetired)
			f.ok(who.alice, &chain.Transfer{Program: "ACME", To: who.bob, Amount: 30})
			f.ok(who.alice, &chain.Redeem{Program: "ACME", Amount: 20, RewardRef: "mug"})
			f.ok(who.acmeOp, &chain.Reverse{Program: "ACME", OrderRef: "o1", Amount: 10})
			eq(t, "alice", f.total(who.alice, "ACME"), 40)
			eq(t, "bob", f.total(who.bob, "ACME"), 30)
			eq(t, "stats", f.program("ACME").Stats, chain.ProgramStats{Earned: 100, Redeemed: 20, Reversed: 10})
		}},
		{"replaced operators lose the right to earn and reverse (not_operator)", func(t *testing.T, f *stateFixture) {
			op2 := actor("acme-op-2")
			f.earn(who.acmeOp, "ACME", who.alice, 10, "o1")
			f.ok(who.acme, &chain.UpdateProgram{Program: "ACME", SetOperators: true, Operators: []chain.Address{op2}})
			eq(t, "operators", f.program("ACME").Operators, []chain.Address{op2})
			f.reject(who.acmeOp, credits(credit(who.alice, 1, "o2")), chain.ErrNotOperator)
			f.reject(who.acmeOp, &chain.Reverse{Program: "ACME", OrderRef: "o1", Amount: 1}, chain.ErrNotOperator)
			f.earn(op2, "ACME", who.alice, 3, "o3")
			f.ok(who.acme, &chain.UpdateProgram{Program: "ACME", SetOperators: true})
			eq(t, "no operators", len(f.program("ACME").Operators), 0)
			f.reject(op2, credits(credit(who.alice, 1, "o4")), chain.ErrNotOperator)
			f.earn(who.acme, "ACME", who.alice, 2, "o5")
			eq(t, "alice", f.total(who.alice, "ACME"), 15)
		}},
	}
	runCases(t, setup, cases)
}

func TestEarn(t *testing.T) {
	setup := withPrograms(chain.Policy{}, chain.Policy{})
	smallParams := func(t *testing.T, edit func(p *chain.Params)) *stateFixture {
		params := chain.DefaultParams()
		edit(&params)
		f := newStateFixture(t, params, []chain.Address{who.acme}, nil)
		f.register(who.acme, "ACME", chain.Policy{})
		return f
	}
	cases := []stateCase{
		{"one earn credits many customers", func(t *testing.T, f *stateFixture) {
			es := f.ok(who.acmeOp, credits(credit(who.alice, 10, "o1"), credit(who.bob, 20, "o2"), credit(who.alice, 5, "o3")))
			mk := func(a chain.Address, n uint64, ref string) chain.Entry {
				return chain.Entry{Account: a, Program: "ACME", Cause: chain.CauseEarn, Credit: n, Ref: ref, Counterparty: who.acmeOp, ExpiryDay: never}
			}
			eq(t, "entries", es, []chain.Entry{mk(who.alice, 10, "o1"), mk(who.bob, 20, "o2"), mk(who.alice, 5, "o3")})
			eq(t, "alice", *f.balance(who.alice, "ACME"), chain.Balance{Lots: []chain.Lot{{Amount: 15, Expiry: never}}, Earned: 15})
			eq(t, "bob", *f.balance(who.bob, "ACME"), chain.Balance{Lots: []chain.Lot{{Amount: 20, Expiry: never}}, Earned: 20})
			eq(t, "stats", f.program("ACME").Stats, chain.ProgramStats{Earned: 35})
			eq(t, "order o2", *f.order("ACME", "o2"), chain.Order{To: who.bob, Amount: 20, EarnedDay: d1, Expiry: never, Height: 2})
		}},
		{"an order ref is credited once per program, across transactions (duplicate_order)", func(t *testing.T, f *stateFixture) {
			f.earn(who.acmeOp, "ACME", who.alice, 10, "o1")
			f.reject(who.acmeOp, credits(credit(who.bob, 5, "o2"), credit(who.carol, 7, "o1")), chain.ErrDuplicateOrder)
			f.reject(who.acme, credits(credit(who.alice, 10, "o1")), chain.ErrDuplicateOrder)
			eq(t, "bob", f.total(who.bob, "ACME"), 0)
			eq(t, "carol", f.total(who.carol, "ACME"), 0)
			eq(t, "alice", f.total(who.alice, "ACME"), 10)
			eq(t, "order o2", f.order("ACME", "o2"), (*chain.Order)(nil))
			eq(t, "order o1 unchanged", *f.order("ACME", "o1"), chain.Order{To: who.alice, Amount: 10, EarnedDay: d1, Expiry: never, Height: 2})
			eq(t, "stats", f.program("ACME").Stats, chain.ProgramStats{Earned: 10})
		}},
		{"an order ref is credited once within one transaction (duplicate_order)", func(t *testing.T, f *stateFixture) {
			f.reject(who.acmeOp, credits(credit(who.alice, 10, "o1"), credit(who.bob, 10, "o1")), chain.ErrDuplicateOrder)
			eq(t, "alice", f.total(who.alice, "ACME"), 0)
			eq(t, "order o1", f.order("ACME", "o1"), (*chain.Order)(nil))
			eq(t, "stats", f.program("ACME").Stats, chain.ProgramStats{})
		}},
		{"an order ref of another program does not count", func(t *testing.T, f *stateFixture) {
			f.earn(who.acme, "ACME", who.alice, 10, "o1")
			f.earn(who.bolt, "BOLT", who.alice, 20, "o1")
			eq(t, "alice ACME", f.total(who.alice, "ACME"), 10)
			eq(t, "alice BOLT", f.total(who.alice, "BOLT"), 20)
		}},
		{"owner and operator may earn", func(t *testing.T, f *stateFixture) {
			f.earn(who.acme, "ACME", who.alice, 1, "o1")
			f.earn(who.acmeOp, "ACME", who.alice, 2, "o2")
			eq(t, "alice", f.total(who.alice, "ACME"), 3)
		}},
		rejects("a stranger may not earn (not_operator)", who.mallory, credits(credit(who.mallory, 1, "o1")), chain.ErrNotOperator),
		rejects("another program's owner may not earn (not_operator)", who.bolt, credits(credit(who.alice, 1, "o1")), chain.ErrNotOperator),
		rejects("another program's operator may not earn (not_operator)", who.boltOp, credits(credit(who.alice, 1, "o1")), chain.ErrNotOperator),
		rejects("unknown program (unknown_program)", who.acme, &chain.Earn{Program: "NOPE", Credits: []chain.Credit{credit(who.alice, 1, "o1")}}, chain.ErrUnknownProgram),
		rejects("bad program symbol (bad_symbol)", who.acme, &chain.Earn{Program: "ac", Credits: []chain.Credit{credit(who.alice, 1, "o1")}}, chain.ErrBadSymbol),
		rejects("an earn without credits (malformed)", who.acme, credits(), chain.ErrMalformed),
		rejects("a credit to the zero address (zero_address)", who.acme, credits(credit(who.alice, 1, "o1"), credit(chain.Address{}, 1, "o2")), chain.ErrZeroAddress),
		rejects("a credit of zero points (amount_zero)", who.acme, credits(credit(who.alice, 1, "o1"), credit(who.bob, 0, "o2")), chain.ErrAmountZero),
		rejects("a credit without an order ref (empty_ref)", who.acme, credits(credit(who.alice, 1, "")), chain.ErrEmptyRef),
		rejects("an order ref longer than max_ref_len (field_too_long)", who.acme,
			credits(credit(who.alice, 1, "o1"), credit(who.bob, 1, strings.Repeat("r", chain.DefaultParams().MaxRefLen+1))), chain.ErrFieldTooLong),
		rejects("an order ref longer than the decode bound (field_too_long)", who.acme, credits(credit(who.alice, 1, strings.Repeat("r", 1025))), chain.ErrFieldTooLong),
		rejects("an order ref not valid UTF-8 (malformed)", who.acme, credits(credit(who.alice, 1, "o1"), credit(who.bob, 1, "o\xff")), chain.ErrMalformed),
		{"an order ref of exactly max_ref_len is fine", func(t *testing.T, f *stateFixture) {
			ref := strings.Repeat("r", chain.DefaultParams().MaxRefLen)
			f.earn(who.acme, "ACME", who.alice, 1, ref)
			eq(t, "order", f.order("ACME", ref).Amount, 1)
		}},
		{"credits beyond the genesis max_credits_per_earn (too_many_items)", func(t *testing.T, _ *stateFixture) {
			f := smallParams(t, func(p *chain.Params) { p.MaxCreditsPerEarn = 3 })
			f.reject(who.acme, credits(credit(who.alice, 1, "a"), credit(who.bob, 1, "b"), credit(who.carol, 1, "c"), credit(who.mallory, 1, "d")), chain.ErrTooManyItems)
			eq(t, "alice", f.total(who.alice, "ACME"), 0)
			f.ok(who.acme, credits(credit(who.alice, 1, "a"), credit(who.bob, 1, "b"), credit(who.carol, 1, "c")))
			eq(t, "stats", f.program("ACME").Stats.Earned, 3)
		}},
		{"the order ref limit is the genesis max_ref_len (field_too_long)", func(t *testing.T, _ *stateFixture) {
			f := smallParams(t, func(p *chain.Params) { p.MaxRefLen = 4 })
			f.reject(who.acme, credits(credit(who.alice, 1, "12345")), chain.ErrFieldTooLong)
			f.earn(who.acme, "ACME", who.alice, 1, "1234")
		}},
		{"pending points are spendable from the start of day earn_day+pending_days+1, whatever the hour", func(t *testing.T, f *stateFixture) {
			f.setPolicy(who.acme, "ACME", chain.Policy{PendingDays: 3})
			d := d1 + 1
			f.block(at(d, 1), func(b *blk) { b.ok(who.acme, credits(credit(who.alice, 100, "early"))) })
			f.block(at(d, 86399), func(b *blk) { b.ok(who.acme, credits(credit(who.alice, 50, "late"))) })
			eq(t, "lots", f.balance(who.alice, "ACME").Lots, []chain.Lot{{Amount: 150, Expiry: never, Available: d + 4}})
			eq(t, "order", *f.order("ACME", "early"), chain.Order{To: who.alice, Amount: 100, EarnedDay: d, Expiry: never, Available: d + 4, Height: 3})
			eq(t, "pending", f.pending(who.alice, "ACME"), 150)
			eq(t, "available", f.avail(who.alice, "ACME"), 0)
			f.block(at(d+3, 86399), func(b *blk) {
				b.reject(who.alice, &chain.Transfer{Program: "ACME", To: who.bob, Amount: 1}, chain.ErrInsufficientPoints)
				b.reject(who.alice, &chain.Redeem{Program: "ACME", Amount: 1, RewardRef: "r"}, chain.ErrInsufficientPoints)
			})
			eq(t, "available on the last pending day", f.avail(who.alice, "ACME"), 0)
			f.block(dayStart(d+4), func(b *blk) {
				b.ok(who.alice, &chain.Transfer{Program: "ACME", To: who.bob, Amount: 150})
			})
			eq(t, "bob", f.avail(who.bob, "ACME"), 150)
			eq(t, "alice", f.total(who.alice, "ACME"), 0)
		}},
		{"with pending_days 0 points are spendable at once", func(t *testing.T, f *stateFixture) {
			f.next(func(b *blk) {
				b.ok(who.acme, credits(credit(who.alice, 10, "o1")))
				b.ok(who.alice, &chain.Transfer{Program: "ACME", To: who.bob, Amount: 10})
			})
			eq(t, "bob", f.avail(who.bob, "ACME"), 10)
		}},
		{"points expire at the start of day available+expiry_days, counted once, the account untouched", func(t *testing.T, f *stateFixture) {
			f.setPolicy(who.acme, "ACME", chain.Policy{PendingDays: 2, ExpiryDays: 5})
			d := d1 + 1
			f.block(at(d, 50000), func(b *blk) { b.ok(who.acme, credits(credit(who.alice, 100, "o1"))) })
			eq(t, "lots", f.balance(who.alice, "ACME").Lots, []chain.Lot{{Amount: 100, Expiry: d + 8, Available: d + 3}})
			eq(t, "schedule", f.base.schedule(t)["ACME"], map[chain.Day]uint64{d + 8: 100})
			f.block(dayStart(d+8)-1, nil)
			eq(t, "available on the last day", f.avail(who.alice, "ACME"), 100)
			eq(t, "expired on the last day", f.program("ACME").Stats.Expired, 0)
			record := string(f.base[string(chain.AccountKey(who.alice))])
			f.block(dayStart(d+8), nil)
			eq(t, "expired at the start of the expiry day", f.program("ACME").Stats.Expired, 100)
			eq(t, "outstanding", f.program("ACME").Stats.Outstanding(), 0)
			eq(t, "total", f.total(who.alice, "ACME"), 0)
			eq(t, "account record untouched", string(f.base[string(chain.AccountKey(who.alice))]), record)
			eq(t, "schedule", len(f.base.schedule(t)["ACME"]), 0)
			f.block(dayStart(d+8)+1000, nil)
			f.onDay(d+9, nil)
			f.onDay(d+40, nil)
			eq(t, "still counted once", f.program("ACME").Stats.Expired, 100)
			es := f.ok(who.acme, credits(credit(who.alice, 7, "o2")))
			eq(t, "touching the account reports the expiry", es[0], chain.Entry{Account: who.alice, Program: "ACME", Cause: chain.CauseExpire, Debit: 100})
			eq(t, "entries", len(es), 2)
			eq(t, "expired lot dropped", f.balance(who.alice, "ACME").Lots, []chain.Lot{{Amount: 7, Expiry: d + 40 + 8, Available: d + 43}})
			eq(t, "counted once after the touch", f.program("ACME").Stats.Expired, 100)
		}},
		{"with pending_days 0 expiry counts from the earn day", func(t *testing.T, f *stateFixture) {
			f.setPolicy(who.acme, "ACME", chain.Policy{ExpiryDays: 3})
			f.earn(who.acme, "ACME", who.alice, 100, "o1")
			eq(t, "lots", f.balance(who.alice, "ACME").Lots, []chain.Lot{{Amount: 100, Expiry: d1 + 3}})
			f.block(dayStart(d1+3)-1, nil)
			eq(t, "before", f.total(who.alice, "ACME"), 100)
			f.block(dayStart(d1+3), nil)
			eq(t, "after", f.total(who.alice, "ACME"), 0)
			eq(t, "expired", f.program("ACME").Stats.Expired, 100)
		}},
		{"a block jumping over several expiry days counts each day once", func(t *testing.T, f *stateFixture) {
			f.setPolicy(who.acme, "ACME", chain.Policy{ExpiryDays: 2})
			f.earn(who.acme, "ACME", who.alice, 10, "o1")
			f.setPolicy(who.acme, "ACME", chain.Policy{ExpiryDays: 4})
			f.earn(who.acme, "ACME", who.bob, 20, "o2")
			f.setPolicy(who.acme, "ACME", chain.Policy{ExpiryDays: 9})
			f.earn(who.acme, "ACME", who.bob, 40, "o3")
			f.onDay(d1+5, nil)
			eq(t, "expired", f.program("ACME").Stats.Expired, 30)
			eq(t, "bob", f.total(who.bob, "ACME"), 40)
			f.onDay(d1+30, nil)
			eq(t, "expired", f.program("ACME").Stats.Expired, 70)
		}},
		{"the earned total cannot overflow (overflow)", func(t *testing.T, f *stateFixture) {
			f.earn(who.acme, "ACME", who.alice, math.MaxUint64-1, "o1")
			f.reject(who.acme, credits(credit(who.bob, 1, "o2"), credit(who.carol, 1, "o3")), chain.ErrOverflow)
			eq(t, "bob", f.total(who.bob, "ACME"), 0)
			eq(t, "order o2", f.order("ACME", "o2"), (*chain.Order)(nil))
			f.earn(who.acme, "ACME", who.bob, 1, "o2")
			eq(t, "earned", f.program("ACME").Stats.Earned, uint64(math.MaxUint64))
			f.reject(who.acme, credits(credit(who.carol, 1, "o3")), chain.ErrOverflow)
			f.reject(who.acme, credits(credit(who.carol, math.MaxUint64, "o3")), chain.ErrOverflow)
		}},
		{"tiers follow points earned within the tier window", func(t *testing.T, f *stateFixture) {
			pol := chain.Policy{TierWindowDays: 3, Tiers: []chain.Tier{{Name: "Silver", Threshold: 100}, {Name: "Gold", Threshold: 300}}}
			f.setPolicy(who.acme, "ACME", pol)
			tier := func() string {
				b := f.balance(who.alice, "ACME")
				name := chain.TierOf(pol, windowEarned(b, f.today(), pol.TierWindowDays))
				eq(t, "Balance.Tier", b.Tier(pol, f.today()), name)
				return name
			}
			f.earn(who.acme, "ACME", who.alice, 150, "o1")
			eq(t, "tier on d1", tier(), "Silver")
			f.onDay(d1+1, func(b *blk) { b.ok(who.acme, credits(credit(who.alice, 200, "o2"))) })
			eq(t, "earned days", f.balance(who.alice, "ACME").EarnedDays, []chain.DayAmount{{Day: d1, Amount: 150}, {Day: d1 + 1, Amount: 200}})
			eq(t, "lifetime", f.balance(who.alice, "ACME").Earned, 350)
			eq(t, "tier on d1+1", tier(), "Gold")
			f.onDay(d1+2, func(b *blk) { b.ok(who.alice, &chain.Redeem{Program: "ACME", Amount: 300, RewardRef: "r"}) })
			eq(t, "tier ignores the balance", tier(), "Gold")
			f.onDay(d1+3, nil)
			eq(t, "tier on d1+3", tier(), "Silver")
			f.onDay(d1+4, nil)
			eq(t, "tier on d1+4", tier(), "")
		}},
	}
	runCases(t, setup, cases)
}

func TestReverse(t *testing.T) {
	setup := withPrograms(chain.Policy{}, chain.Policy{})
	rev := func(ref string, n uint64) *chain.Reverse {
		return &chain.Reverse{Program: "ACME", OrderRef: ref, Amount: n}
	}
	withOrder := func(f *stateFixture) { f.earn(who.acmeOp, "ACME", who.alice, 100, "o1") }
	cases := []stateCase{
		{"an order never earned cannot be reversed (unknown_order)", func(t *testing.T, f *stateFixture) {
			f.earn(who.bolt, "BOLT", who.alice, 100, "b1")
			f.reject(who.acme, rev("b1", 1), chain.ErrUnknownOrder)
			f.reject(who.acme, rev("nope", 1), chain.ErrUnknownOrder)
		}},
		rejects("a stranger may not reverse (not_operator)", who.mallory, rev("o1", 1), chain.ErrNotOperator),
		rejects("another program's owner may not reverse (not_operator)", who.bolt, rev("o1", 1), chain.ErrNotOperator),
		rejects("unknown program (unknown_program)", who.acme, &chain.Reverse{Program: "NOPE", OrderRef: "o1", Amount: 1}, chain.ErrUnknownProgram),
		rejects("bad program symbol (bad_symbol)", who.acme, &chain.Reverse{Program: "A", OrderRef: "o1", Amount: 1}, chain.ErrBadSymbol),
		rejects("an empty order ref (empty_ref)", who.acme, rev("", 1), chain.ErrEmptyRef),
		rejects("zero points (amount_zero)", who.acme, rev("o1", 0), chain.ErrAmountZero),
		rejects("an order ref longer than max_ref_len (field_too_long)", who.acme, rev(strings.Repeat("r", chain.DefaultParams().MaxRefLen+1), 1), chain.ErrFieldTooLong),
		rejects("an order ref longer than the decode bound (field_too_long)", who.acme, rev(strings.Repeat("r", 1025), 1), chain.ErrFieldTooLong),
		rejects("an order ref not valid UTF-8 (malformed)", who.acme, rev("o\xff", 1), chain.ErrMalformed),
		{"never more than the order earned minus what was reversed (reverse_exceeds_order); partial then rest", func(t *testing.T, f *stateFixture) {
			withOrder(f)
			f.reject(who.acme, rev("o1", 101), chain.ErrReverseTooMuch)
			es := f.ok(who.acmeOp, rev("o1", 60))
			eq(t, "entries", es, []chain.Entry{{Account: who.alice, Program: "ACME", Cause: chain.CauseReverse, Debit: 60, Ref: "o1", Counterparty: who.acmeOp}})
			eq(t, "alice after 60", *f.balance(who.alice, "ACME"), chain.Balance{Lots: []chain.Lot{{Amount: 40, Expiry: never}}, Earned: 40})
			eq(t, "order after 60", f.order("ACME", "o1").Reversed, 60)
			eq(t, "stats after 60", f.program("ACME").Stats, chain.ProgramStats{Earned: 100, Reversed: 60})
			f.reject(who.acme, rev("o1", 41), chain.ErrReverseTooMuch)
			f.ok(who.acme, rev("o1", 40))
			eq(t, "alice holding gone", f.base.account(t, who.alice).Balance("ACME") == nil, true)
			eq(t, "order after 100", f.order("ACME", "o1").Reversed, 100)
			eq(t, "stats after 100", f.program("ACME").Stats, chain.ProgramStats{Earned: 100, Reversed: 100})
			f.reject(who.acme, rev("o1", 1), chain.ErrReverseTooMuch)
		}},
		{"the order's pending points go first, then available points oldest expiry first", func(t *testing.T, f *stateFixture) {
			f.setPolicy(who.acme, "ACME", chain.Policy{ExpiryDays: 10})
			f.earn(who.acme, "ACME", who.alice, 50, "a") // (d1+10, available)
			f.setPolicy(who.acme, "ACME", chain.Policy{ExpiryDays: 20})
			f.earn(who.acme, "ACME", who.alice, 30, "b") // (d1+20, available)
			f.setPolicy(who.acme, "ACME", chain.Policy{PendingDays: 5, ExpiryDays: 30})
			f.earn(who.acme, "ACME", who.alice, 100, "o")                                       // (d1+36, from d1+6)
			f.onDay(d1+1, func(b *blk) { b.ok(who.acme, credits(credit(who.alice, 40, "p"))) }) // (d1+37, from d1+7)
			f.ok(who.acme, rev("o", 60))
			eq(t, "after reversing 60 of the pending order", f.balance(who.alice, "ACME").Lots, []chain.Lot{
				{Amount: 50, Expiry: d1 + 10}, {Amount: 30, Expiry: d1 + 20}, {Amount: 40, Expiry: d1 + 36, Available: d1 + 6}, {Amount: 40, Expiry: d1 + 37, Available: d1 + 7},
			})
			f.onDay(d1+6, func(b *blk) { b.ok(who.acme, rev("o", 40)) }) // o is available now: oldest expiry first
			eq(t, "after reversing the matured rest", f.balance(who.alice, "ACME").Lots, []chain.Lot{
				{Amount: 10, Expiry: d1 + 10}, {Amount: 30, Expiry: d1 + 20}, {Amount: 40, Expiry: d1 + 36}, {Amount: 40, Expiry: d1 + 37, Available: d1 + 7},
			})
			f.ok(who.acme, rev("p", 15)) // p still pending: its own lot
			eq(t, "after reversing part of the pending p", f.balance(who.alice, "ACME").Lots, []chain.Lot{
				{Amount: 10, Expiry: d1 + 10}, {Amount: 30, Expiry: d1 + 20}, {Amount: 40, Expiry: d1 + 36}, {Amount: 25, Expiry: d1 + 37, Available: d1 + 7},
			})
			es := f.ok(who.acme, rev("a", 50)) // a was never pending: oldest expiry first, the pending p untouched
			eq(t, "debit", es[len(es)-1].Debit, 50)
			eq(t, "after reversing a", f.balance(who.alice, "ACME").Lots, []chain.Lot{
				{Amount: 30, Expiry: d1 + 36}, {Amount: 25, Expiry: d1 + 37, Available: d1 + 7},
			})
			eq(t, "stats", f.program("ACME").Stats, chain.ProgramStats{Earned: 220, Reversed: 165})
		}},
		{"spent points are recorded as unrecovered, never a negative balance", func(t *testing.T, f *stateFixture) {
			withOrder(f)
			f.ok(who.alice, &chain.Transfer{Program: "ACME", To: who.bob, Amount: 70})
			es := f.ok(who.acmeOp, rev("o1", 100))
			eq(t, "entries", es, []chain.Entry{{Account: who.alice, Program: "ACME", Cause: chain.CauseReverse, Debit: 30, Unrecovered: 70, Ref: "o1", Counterparty: who.acmeOp}})
			eq(t, "alice", f.total(who.alice, "ACME"), 0)
			eq(t, "alice holding gone", f.base.account(t, who.alice).Balance("ACME") == nil, true)
			eq(t, "bob keeps the gift", f.total(who.bob, "ACME"), 70)
			eq(t, "stats", f.program("ACME").Stats, chain.ProgramStats{Earned: 100, Reversed: 30, Unrecovered: 70})
			eq(t, "outstanding", f.program("ACME").Stats.Outstanding(), 70)
			eq(t, "order", f.order("ACME", "o1").Reversed, 100)
		}},
		{"other orders' pending points are not taken; the shortfall is unrecovered", func(t *testing.T, f *stateFixture) {
			withOrder(f)
			f.ok(who.alice, &chain.Redeem{Program: "ACME", Amount: 90, RewardRef: "tv"})
			f.setPolicy(who.acme, "ACME", chain.Policy{PendingDays: 3})
			f.earn(who.acme, "ACME", who.alice, 50, "o2")
			es := f.ok(who.acme, rev("o1", 100))
			eq(t, "debit", es[0].Debit, 10)
			eq(t, "unrecovered", es[0].Unrecovered, 90)
			eq(t, "pending o2 kept", f.balance(who.alice, "ACME").Lots, []chain.Lot{{Amount: 50, Expiry: never, Available: d1 + 4}})
		}},
		{"lifetime and windowed earned, and so the tier, drop by the whole reversed amount", func(t *testing.T, f *stateFixture) {
			pol := chain.Policy{TierWindowDays: 7, Tiers: []chain.Tier{{Name: "Silver", Threshold: 50}, {Name: "Gold", Threshold: 100}}}
			f.setPolicy(who.acme, "ACME", pol)
			tier := func() string {
				b := f.balance(who.alice, "ACME")
				name := chain.TierOf(pol, windowEarned(b, f.today(), pol.TierWindowDays))
				eq(t, "Balance.Tier", b.Tier(pol, f.today()), name)
				return name
			}
			f.earn(who.acme, "ACME", who.alice, 120, "o1")
			eq(t, "tier", tier(), "Gold")
			f.ok(who.alice, &chain.Redeem{Program: "ACME", Amount: 100, RewardRef: "r"})
			f.onDay(d1+1, func(b *blk) { b.ok(who.acme, credits(credit(who.alice, 30, "o2"))) })
			es := f.ok(who.acme, rev("o1", 80)) // alice holds 20 left of o1 and 30 of o2
			eq(t, "recovered", es[0].Debit, 50)
			eq(t, "unrecovered", es[0].Unrecovered, 30)
			b := f.balance(who.alice, "ACME")
			eq(t, "lifetime earned", b.Earned, 70)
			eq(t, "earned days", b.EarnedDays, []chain.DayAmount{{Day: d1, Amount: 40}, {Day: d1 + 1, Amount: 30}})
			eq(t, "tier", tier(), "Silver")
			eq(t, "balance", b.Total(f.today()), 0)
			es = f.ok(who.acme, rev("o2", 30))
			eq(t, "unrecovered o2", es[0].Unrecovered, 30)
			eq(t, "earned days after reversing o2", f.balance(who.alice, "ACME").EarnedDays, []chain.DayAmount{{Day: d1, Amount: 40}})
			eq(t, "tier after reversing o2", tier(), "")
		}},
		{"lifetime tiers drop by the whole reversed amount", func(t *testing.T, f *stateFixture) {
			pol := chain.Policy{Tiers: []chain.Tier{{Name: "Silver", Threshold: 50}}}
			f.setPolicy(who.acme, "ACME", pol)
			f.earn(who.acme, "ACME", who.alice, 60, "o1")
			f.ok(who.alice, &chain.Transfer{Program: "ACME", To: who.bob, Amount: 60})
			f.ok(who.acme, rev("o1", 11))
			eq(t, "earned", f.balance(who.alice, "ACME").Earned, 49)
			eq(t, "tier", chain.TierOf(pol, f.balance(who.alice, "ACME").Earned), "")
		}},
		// max_lots bounds available lots only: pending lots never merge (they come only from
		// the program's own earns), so a reversal always finds an order's pending points, and a
		// merge can never turn an order's available points pending and out of its reach.
		{"pending lots never merge, so a reversal finds the order's pending points whatever max_lots", func(t *testing.T, _ *stateFixture) {
			f := maxLots2(t)
			d := f.today()
			f.setPolicy(who.acme, "ACME", chain.Policy{PendingDays: 1})
			f.earn(who.acme, "ACME", who.alice, 100, "o") // (never, d+2)
			f.setPolicy(who.acme, "ACME", chain.Policy{PendingDays: 4})
			f.earn(who.acme, "ACME", who.alice, 10, "k1") // (never, d+5)
			f.setPolicy(who.acme, "ACME", chain.Policy{PendingDays: 6})
			f.earn(who.acme, "ACME", who.alice, 10, "k2") // (never, d+7): three pending lots, max 2
			eq(t, "pending lots kept apart", f.balance(who.alice, "ACME").Lots, []chain.Lot{
				{Amount: 100, Expiry: never, Available: d + 2}, {Amount: 10, Expiry: never, Available: d + 5}, {Amount: 10, Expiry: never, Available: d + 7},
			})
			es := f.ok(who.acme, rev("o", 100))
			eq(t, "recovered", es[len(es)-1].Debit, 100)
			eq(t, "unrecovered (nothing was spent)", es[len(es)-1].Unrecovered, 0)
			eq(t, "alice keeps only k1 and k2", f.total(who.alice, "ACME"), 20)
			f.onDay(d+7, nil)
			eq(t, "alice can never spend o's points", f.avail(who.alice, "ACME"), 20)
		}},
		{"a merge never makes an order's available points pending and out of the reversal's reach", func(t *testing.T, _ *stateFixture) {
			f := maxLots2(t)
			d := f.today()
			f.earn(who.acme, "ACME", who.alice, 100, "o") // (never, available)
			f.setPolicy(who.acme, "ACME", chain.Policy{PendingDays: 1})
			f.earn(who.acme, "ACME", who.alice, 10, "k1") // (never, d+2)
			f.setPolicy(who.acme, "ACME", chain.Policy{PendingDays: 2})
			f.earn(who.acme, "ACME", who.alice, 10, "k2") // (never, d+3)
			eq(t, "lots", f.balance(who.alice, "ACME").Lots, []chain.Lot{
				{Amount: 100, Expiry: never}, {Amount: 10, Expiry: never, Available: d + 2}, {Amount: 10, Expiry: never, Available: d + 3},
			})
			es := f.ok(who.acme, rev("o", 100))
			eq(t, "recovered", es[len(es)-1].Debit, 100)
			eq(t, "unrecovered (nothing was spent)", es[len(es)-1].Unrecovered, 0)
			eq(t, "alice keeps only k1 and k2", f.total(who.alice, "ACME"), 20)
			f.onDay(d+3, nil)
			eq(t, "alice can never spend o's points", f.avail(who.alice, "ACME"), 20)
		}},
	}
	runCases(t, setup, cases)
}

// maxLots2 is a network whose accounts hold at most 2 lots per program, with ACME (no
// policy) registered on day0.
func maxLots2(t *testing.T) *stateFixture {
	params := chain.DefaultParams()
	params.MaxLots = 2
	f := newStateFixture(t, params, []chain.Address{who.acme}, nil)
	f.register(who.acme, "ACME", chain.Policy{})
	return f
}

func TestTransfer(t *testing.T) {
	tr := func(to chain.Address, n uint64, memo string) *chain.Transfer {
		return &chain.Transfer{Program: "ACME", To: to, Amount: n, Memo: memo}
	}
	cases := []stateCase{
		{"moves available points and says why", func(t *testing.T, f *stateFixture) {
			es := f.ok(who.alice, tr(who.bob, 30, "birthday"))
			eq(t, "entries", es, []chain.Entry{
				{Account: who.alice, Program: "ACME", Cause: chain.CauseTransferOut, Debit: 30, Ref: "birthday", Counterparty: who.bob},
				{Account: who.bob, Program: "ACME", Cause: chain.CauseTransferIn, Credit: 30, Ref: "birthday", Counterparty: who.alice},
			})
			eq(t, "alice", *f.balance(who.alice, "ACME"), chain.Balance{Lots: []chain.Lot{{Amount: 70, Expiry: never}}, Earned: 100})
			eq(t, "bob (a gift is not earned)", *f.balance(who.bob, "ACME"), chain.Balance{Lots: []chain.Lot{{Amount: 30, Expiry: never}}})
			f.ok(who.alice, tr(who.bob, 70, ""))
			eq(t, "alice", f.total(who.alice, "ACME"), 0)
			eq(t, "bob", f.total(who.bob, "ACME"), 100)
			eq(t, "stats", f.program("ACME").Stats, chain.ProgramStats{Earned: 100})
		}},
		rejects("more than the available points (insufficient_points)", who.alice, tr(who.bob, 101, ""), chain.ErrInsufficientPoints),
		rejects("points of a program one never held (insufficient_points)", who.bob, tr(who.alice, 1, ""), chain.ErrInsufficientPoints),
		{"pending points do not count (insufficient_points)", func(t *testing.T, f *stateFixture) {
			f.setPolicy(who.acme, "ACME", chain.Policy{PendingDays: 1})
			f.earn(who.acme, "ACME", who.alice, 50, "o2")
			f.reject(who.alice, tr(who.bob, 101, ""), chain.ErrInsufficientPoints)
			f.ok(who.alice, tr(who.bob, 100, ""))
		}},
		rejects("no transfer to oneself (self_transfer)", who.alice, tr(who.alice, 1, ""), chain.ErrSelfTransfer),
		rejects("unknown program (unknown_program)", who.alice, &chain.Transfer{Program: "NOPE", To: who.bob, Amount: 1}, chain.ErrUnknownProgram),
		rejects("bad program symbol (bad_symbol)", who.alice, &chain.Transfer{Program: "NO PE", To: who.bob, Amount: 1}, chain.ErrBadSymbol),
		rejects("to the zero address (zero_address)", who.alice, tr(chain.Address{}, 1, ""), chain.ErrZeroAddress),
		rejects("zero points (amount_zero)", who.alice, tr(who.bob, 0, ""), chain.ErrAmountZero),
		rejects("memo longer than max_memo_len (field_too_long)", who.alice, tr(who.bob, 1, strings.Repeat("m", chain.DefaultParams().MaxMemoLen+1)), chain.ErrFieldTooLong),
		rejects("memo longer than the decode bound (field_too_long)", who.alice, tr(who.bob, 1, strings.Repeat("m", 1025)), chain.ErrFieldTooLong),
		rejects("memo not valid UTF-8 (malformed)", who.alice, tr(who.bob, 1, "gift \xe2\x82"), chain.ErrMalformed),
		{"a memo of exactly max_memo_len is fine", func(t *testing.T, f *stateFixture) {
			f.ok(who.alice, tr(who.bob, 1, strings.Repeat("m", chain.DefaultParams().MaxMemoLen)))
		}},
		{"oldest expiry is spent first and lots keep their expiry at the recipient", func(t *testing.T, f *stateFixture) {
			f.setPolicy(who.acme, "ACME", chain.Policy{ExpiryDays: 10})
			f.earn(who.acme, "ACME", who.carol, 50, "a")
			f.setPolicy(who.acme, "ACME", chain.Policy{ExpiryDays: 20})
			f.earn(who.acme, "ACME", who.carol, 30, "b")
			f.setPolicy(who.acme, "ACME", chain.Policy{ExpiryDays: 5})
			f.earn(who.acme, "ACME", who.carol, 20, "c") // earned last, expires first
			f.ok(who.carol, tr(who.bob, 60, ""))
			eq(t, "carol", f.balance(who.carol, "ACME").Lots, []chain.Lot{{Amount: 10, Expiry: d1 + 10}, {Amount: 30, Expiry: d1 + 20}})
			eq(t, "bob", f.balance(who.bob, "ACME").Lots, []chain.Lot{{Amount: 20, Expiry: d1 + 5}, {Amount: 40, Expiry: d1 + 10}})
			f.onDay(d1+5, nil)
			eq(t, "bob after d1+5", f.total(who.bob, "ACME"), 40)
			eq(t, "expired", f.program("ACME").Stats.Expired, 20)
			f.ok(who.bob, tr(who.mallory, 40, ""))
			eq(t, "mallory", f.balance(who.mallory, "ACME").Lots, []chain.Lot{{Amount: 40, Expiry: d1 + 10}})
			f.onDay(d1+10, nil)
			eq(t, "mallory after d1+10", f.total(who.mallory, "ACME"), 0)
			eq(t, "expired", f.program("ACME").Stats.Expired, 70)
		}},
		{"dust transfers cannot grow an account past max_lots nor extend an expiry", testDustTransfers},
		{"matured lots join the bound on available lots when the account is next touched", func(t *testing.T, _ *stateFixture) {
			f := maxLots2(t)
			d := f.today()
			for i, pd := range []uint32{1, 2, 3} {
				f.setPolicy(who.acme, "ACME", chain.Policy{PendingDays: pd, ExpiryDays: 10 + uint32(i)})
				f.earn(who.acme, "ACME", who.alice, uint64(10*(i+1)), fmt.Sprintf("o%d", i))
			}
			eq(t, "pending lots", f.balance(who.alice, "ACME").Lots, []chain.Lot{
				{Amount: 10, Expiry: d + 12, Available: d + 2}, {Amount: 20, Expiry: d + 14, Available: d + 3}, {Amount: 30, Expiry: d + 16, Available: d + 4},
			})
			f.onDay(d+4, nil)
			eq(t, "all available, account untouched", f.avail(who.alice, "ACME"), 60)
			f.ok(who.alice, tr(who.bob, 1, ""))
			eq(t, "the two earliest merged at the earlier expiry", f.balance(who.alice, "ACME").Lots, []chain.Lot{
				{Amount: 29, Expiry: d + 12}, {Amount: 30, Expiry: d + 16},
			})
			eq(t, "schedule", f.base.schedule(t)["ACME"], map[chain.Day]uint64{d + 12: 30, d + 16: 30})
			f.onDay(d+12, nil)
			eq(t, "expired", f.program("ACME").Stats.Expired, 30)
			eq(t, "alice", f.total(who.alice, "ACME"), 30)
		}},
	}
	runCases(t, withPoints, cases)
}

// testDustTransfers sends an account MaxLots+10 lots of distinct expiry days from three
// senders, in an interleaved order, and checks after each one that the account holds at most
// MaxLots lots, every point sent, and that no point's expiry was extended: for every day D the
// points expiring by D are at least those that did before plus the incoming lot's.
func testDustTransfers(t *testing.T, f *stateFixture) {
	maxLots := f.params.MaxLots
	n := maxLots + 10
	senders := []chain.Address{actor("dust 0"), actor("dust 1"), actor("dust 2")}
	// Each sender gets lots of distinct expiries, 1+i points for the i-th expiry day.
	f.next(func(b *blk) {
		for i := 0; i < n; i++ {
			b.ok(who.acme, &chain.UpdateProgram{Program: "ACME", SetPolicy: true, Policy: chain.Policy{ExpiryDays: uint32(100 + i)}})
			b.ok(who.acme, credits(credit(senders[i*len(senders)/n], uint64(1+i), fmt.Sprintf("dust %d", i))))
		}
	})
	victim := who.carol
	var sent uint64
	f.next(func(b *blk) {
		for i := 0; i < n; i++ {
			s := senders[(i+2)%len(senders)]
			if b.view().balance(t, s, "ACME").Total(b.today()) == 0 {
				s = senders[(i+1)%len(senders)]
			}
			if b.view().balance(t, s, "ACME").Total(b.today()) == 0 {
				s = senders[i%len(senders)]
			}
			lots := b.view().balance(t, s, "ACME").Lots
			in := chain.Lot{Amount: lots[0].Amount, Expiry: lots[0].Expiry}
			before := b.view().balance(t, victim, "ACME")
			b.ok(s, &chain.Transfer{Program: "ACME", To: victim, Amount: in.Amount, Memo: "dust"})
			sent += in.Amount
			after := b.view().balance(t, victim, "ACME")
			if len(after.Lots) > maxLots {
				t.Fatalf("transfer %d: victim holds %d lots, max %d", i, len(after.Lots), maxLots)
			}
			if got := after.Total(b.today()); got != sent {
				t.Fatalf("transfer %d: victim holds %d, was sent %d", i, got, sent)
			}
			latest := in.Expiry
			days := []chain.Day{in.Expiry}
			for _, l := range before.Lots {
				latest = max(latest, l.Expiry)
				days = append(days, l.Expiry)
			}
			for _, l := range after.Lots {
				if l.Expiry > latest {
					t.Fatalf("transfer %d: lot %+v expires after the latest expiry %d the points had", i, l, latest)
				}
				if l.Available != 0 {
					t.Fatalf("transfer %d: transferred points became pending: %+v", i, l)
				}
			}
			for _, d := range days {
				want := before.ExpiringBy(b.today(), d)
				if in.Expiry <= d {
					want += in.Amount
				}
				if got := after.ExpiringBy(b.today(), d); got < want {
					t.Fatalf("transfer %d: %d points expire by day %d, %d did before: an expiry was extended", i, got, d, want)
				}
			}
		}
	})
	eq(t, "lots", len(f.balance(victim, "ACME").Lots), maxLots)
	eq(t, "victim total", f.total(victim, "ACME"), sent)
	eq(t, "all sent", sent, uint64(n*(n+1)/2))
}

func TestRedeem(t *testing.T) {
	red := func(n uint64, ref string) *chain.Redeem {
		return &chain.Redeem{Program: "ACME", Amount: n, RewardRef: ref}
	}
	cases := []stateCase{
		{"burns points and counts them redeemed", func(t *testing.T, f *stateFixture) {
			es := f.ok(who.alice, red(30, "mug-42"))
			eq(t, "entries", es, []chain.Entry{{Account: who.alice, Program: "ACME", Cause: chain.CauseRedeem, Debit: 30, Ref: "mug-42"}})
			eq(t, "alice", f.total(who.alice, "ACME"), 70)
			eq(t, "stats", f.program("ACME").Stats, chain.ProgramStats{Earned: 100, Redeemed: 30})
			eq(t, "outstanding", f.program("ACME").Stats.Outstanding(), 70)
			f.ok(who.alice, red(70, "tv"))
			eq(t, "stats", f.program("ACME").Stats, chain.ProgramStats{Earned: 100, Redeemed: 100})
		}},
		{"redeems oldest expiry first and unschedules what it burns", func(t *testing.T, f *stateFixture) {
			f.setPolicy(who.acme, "ACME", chain.Policy{ExpiryDays: 10})
			f.earn(who.acme, "ACME", who.bob, 50, "a")
			f.setPolicy(who.acme, "ACME", chain.Policy{ExpiryDays: 5})
			f.earn(who.acme, "ACME", who.bob, 20, "b")
			f.ok(who.bob, &chain.Redeem{Program: "ACME", Amount: 30, RewardRef: "r"})
			eq(t, "bob", f.balance(who.bob, "ACME").Lots, []chain.Lot{{Amount: 40, Expiry: d1 + 10}})
			eq(t, "schedule", f.base.schedule(t)["ACME"], map[chain.Day]uint64{d1 + 10: 40})
			f.onDay(d1+10, nil)
			eq(t, "expired", f.program("ACME").Stats.Expired, 40)
		}},
		rejects("an empty reward ref, also from ApplyTx (empty_ref)", who.alice, red(1, ""), chain.ErrEmptyRef),
		rejects("a reward ref longer than max_ref_len (field_too_long)", who.alice, red(1, strings.Repeat("r", chain.DefaultParams().MaxRefLen+1)), chain.ErrFieldTooLong),
		rejects("a reward ref longer than the decode bound (field_too_long)", who.alice, red(1, strings.Repeat("r", 1025)), chain.ErrFieldTooLong),
		rejects("a reward ref not valid UTF-8 (malformed)", who.alice, red(1, "\xff"), chain.ErrMalformed),
		rejects("more than the available points (insufficient_points)", who.alice, red(101, "r"), chain.ErrInsufficientPoints),
		{"pending points cannot be redeemed (insufficient_points)", func(t *testing.T, f *stateFixture) {
			f.setPolicy(who.acme, "ACME", chain.Policy{PendingDays: 2})
			f.earn(who.acme, "ACME", who.bob, 50, "o2")
			f.reject(who.bob, red(1, "r"), chain.ErrInsufficientPoints)
		}},
		rejects("unknown program (unknown_program)", who.alice, &chain.Redeem{Program: "NOPE", Amount: 1, RewardRef: "r"}, chain.ErrUnknownProgram),
		rejects("bad program symbol (bad_symbol)", who.alice, &chain.Redeem{Program: "", Amount: 1, RewardRef: "r"}, chain.ErrBadSymbol),
		rejects("zero points (amount_zero)", who.alice, red(0, "r"), chain.ErrAmountZero),
	}
	runCases(t, withPoints, cases)
}

func setRate(from, to string, num, den, dailyCap uint64) *chain.SetRate {
	return &chain.SetRate{From: from, To: to, Numerator: num, Denominator: den, DailyCap: dailyCap}
}

func exch(from, to string, amount, minOut uint64) *chain.Exchange {
	return &chain.Exchange{From: from, To: to, Amount: amount, MinOut: minOut}
}

func TestSetRate(t *testing.T) {
	cases := []stateCase{
		rejects("a customer owns neither program (not_owner)", who.alice, setRate("ACME", "BOLT", 1, 1, 0), chain.ErrNotOwner),
		rejects("an operator is not an owner (not_owner)", who.acmeOp, setRate("ACME", "BOLT", 1, 1, 0), chain.ErrNotOwner),
		rejects("a partner owning neither program (not_owner)", who.cafe, setRate("ACME", "BOLT", 1, 1, 0), chain.ErrNotOwner),
		rejects("unknown source program (unknown_program)", who.acme, setRate("NOPE", "ACME", 1, 1, 0), chain.ErrUnknownProgram),
		rejects("unknown target program (unknown_program)", who.acme, setRate("ACME", "NOPE", 1, 1, 0), chain.ErrUnknownProgram),
		rejects("a route to itself (same_program)", who.acme, setRate("ACME", "ACME", 1, 1, 0), chain.ErrSameProgram),
		rejects("denominator zero (bad_rate)", who.acme, setRate("ACME", "BOLT", 1, 0, 0), chain.ErrBadRate),
		rejects("a withdrawal with a cap (bad_rate)", who.acme, setRate("ACME", "BOLT", 0, 1, 5), chain.ErrBadRate),
		rejects("bad symbol (bad_symbol)", who.acme, setRate("ACME", "bolt", 1, 1, 0), chain.ErrBadSymbol),
		{"a route opens only when both owners set the identical rate (route_closed)", func(t *testing.T, f *stateFixture) {
			f.reject(who.alice, exch("ACME", "BOLT", 10, 0), chain.ErrRouteClosed)
			f.ok(who.acme, setRate("ACME", "BOLT", 1, 2, 0))
			eq(t, "route", *f.route("ACME", "BOLT"), chain.Route{FromSide: chain.RateSide{Numerator: 1, Denominator: 2}})
			eq(t, "open", f.route("ACME", "BOLT").Open(), false)
			f.reject(who.alice, exch("ACME", "BOLT", 10, 0), chain.ErrRouteClosed)
			f.ok(who.bolt, setRate("ACME", "BOLT", 1, 2, 0))
			eq(t, "open", f.route("ACME", "BOLT").Open(), true)
			f.ok(who.alice, exch("ACME", "BOLT", 10, 0))
			eq(t, "alice BOLT", f.total(who.alice, "BOLT"), 5)
		}},
		{"differing rates keep the route closed, even if equal in value (route_closed)", func(t *testing.T, f *stateFixture) {
			f.ok(who.acme, setRate("ACME", "BOLT", 1, 2, 0))
			f.ok(who.bolt, setRate("ACME", "BOLT", 2, 4, 0))
			f.reject(who.alice, exch("ACME", "BOLT", 10, 0), chain.ErrRouteClosed)
			f.ok(who.bolt, setRate("ACME", "BOLT", 1, 3, 0))
			f.reject(who.alice, exch("ACME", "BOLT", 10, 0), chain.ErrRouteClosed)
			f.ok(who.acme, setRate("ACME", "BOLT", 1, 3, 0))
			f.ok(who.alice, exch("ACME", "BOLT", 10, 0))
			eq(t, "alice BOLT", f.total(who.alice, "BOLT"), 3)
		}},
		{"numerator 0 withdraws one's side (route_closed)", func(t *testing.T, f *stateFixture) {
			f.ok(who.acme, setRate("ACME", "BOLT", 1, 1, 0))
			f.ok(who.bolt, setRate("ACME", "BOLT", 1, 1, 0))
			f.ok(who.alice, exch("ACME", "BOLT", 10, 0))
			f.ok(who.bolt, setRate("ACME", "BOLT", 0, 1, 0))
			eq(t, "route", f.route("ACME", "BOLT").ToSide, chain.RateSide{})
			f.reject(who.alice, exch("ACME", "BOLT", 10, 0), chain.ErrRouteClosed)
			f.ok(who.bolt, setRate("ACME", "BOLT", 1, 1, 0))
			f.ok(who.acme, setRate("ACME", "BOLT", 0, 7, 0))
			f.reject(who.alice, exch("ACME", "BOLT", 10, 0), chain.ErrRouteClosed)
		}},
		{"if both owners set caps the smaller applies (daily_cap_reached)", func(t *testing.T, f *stateFixture) {
			f.ok(who.acme, setRate("ACME", "BOLT", 1, 1, 100))
			f.ok(who.bolt, setRate("ACME", "BOLT", 1, 1, 50))
			eq(t, "cap", f.route("ACME", "BOLT").Cap(), 50)
			f.reject(who.alice, exch("ACME", "BOLT", 51, 0), chain.ErrDailyCapReached)
			f.ok(who.alice, exch("ACME", "BOLT", 50, 0))
			f.reject(who.alice, exch("ACME", "BOLT", 1, 0), chain.ErrDailyCapReached)
		}},
		{"one owner's cap applies when the other sets none (daily_cap_reached)", func(t *testing.T, f *stateFixture) {
			f.ok(who.acme, setRate("ACME", "BOLT", 1, 1, 0))
			f.ok(who.bolt, setRate("ACME", "BOLT", 1, 1, 40))
			f.reject(who.alice, exch("ACME", "BOLT", 41, 0), chain.ErrDailyCapReached)
			f.ok(who.alice, exch("ACME", "BOLT", 40, 0))
		}},
		{"the owner of both programs opens a route alone", func(t *testing.T, f *stateFixture) {
			f.register(who.acme, "ACME2", chain.Policy{})
			f.ok(who.acme, setRate("ACME", "ACME2", 3, 1, 0))
			eq(t, "route", *f.route("ACME", "ACME2"), chain.Route{FromSide: chain.RateSide{Numerator: 3, Denominator: 1}, ToSide: chain.RateSide{Numerator: 3, Denominator: 1}})
			f.ok(who.alice, exch("ACME", "ACME2", 10, 30))
			eq(t, "alice ACME2", f.total(who.alice, "ACME2"), 30)
		}},
		{"a route is one-way (route_closed)", func(t *testing.T, f *stateFixture) {
			f.ok(who.acme, setRate("ACME", "BOLT", 1, 1, 0))
			f.ok(who.bolt, setRate("ACME", "BOLT", 1, 1, 0))
			f.ok(who.alice, exch("ACME", "BOLT", 10, 0))
			f.reject(who.alice, exch("BOLT", "ACME", 10, 0), chain.ErrRouteClosed)
		}},
	}
	runCases(t, withPoints, cases)
}

// withRoute: ACME (expiry 100 days) and BOLT (no expiry), the route ACME→BOLT open at 2/3,
// alice holding 100 available ACME.
func withRoute(tb rapid.TB) *stateFixture {
	f := withPrograms(chain.Policy{ExpiryDays: 100}, chain.Policy{})(tb)
	f.earn(who.acme, "ACME", who.alice, 100, "seed")
	f.next(func(b *blk) {
		b.ok(who.acme, setRate("ACME", "BOLT", 2, 3, 0))
		b.ok(who.bolt, setRate("ACME", "BOLT", 2, 3, 0))
	})
	return f
}

func TestExchange(t *testing.T) {
	cases := []stateCase{
		{"mints floor(amount·num/den) and records what the source owes the target", func(t *testing.T, f *stateFixture) {
			es := f.ok(who.alice, exch("ACME", "BOLT", 10, 0))
			eq(t, "entries", es, []chain.Entry{
				{Account: who.alice, Program: "ACME", Cause: chain.CauseExchangeOut, Debit: 10, Route: "ACME>BOLT"},
				{Account: who.alice, Program: "BOLT", Cause: chain.CauseExchangeIn, Credit: 6, Route: "ACME>BOLT", ExpiryDay: d1 + 100},
			})
			eq(t, "alice ACME", f.total(who.alice, "ACME"), 90)
			eq(t, "alice BOLT", *f.balance(who.alice, "BOLT"), chain.Balance{Lots: []chain.Lot{{Amount: 6, Expiry: d1 + 100}}})
			eq(t, "ACME stats", f.program("ACME").Stats, chain.ProgramStats{Earned: 100, ExchangedOut: 10})
			eq(t, "BOLT stats", f.program("BOLT").Stats, chain.ProgramStats{ExchangedIn: 6})
			eq(t, "position", *f.position("ACME", "BOLT"), chain.Position{Owed: 6})
			eq(t, "no reverse position", *f.position("BOLT", "ACME"), chain.Position{})
			eq(t, "route usage", f.route("ACME", "BOLT").Used, 10)
			eq(t, "route day", f.route("ACME", "BOLT").Day, d1)
			f.ok(who.alice, exch("ACME", "BOLT", 5, 0))
			eq(t, "position", *f.position("ACME", "BOLT"), chain.Position{Owed: 9})
		}},
		{"never below min_out (below_min_out)", func(t *testing.T, f *stateFixture) {
			f.reject(who.alice, exch("ACME", "BOLT", 10, 7), chain.ErrBelowMinOut)
			f.ok(who.alice, exch("ACME", "BOLT", 10, 6))
			eq(t, "alice BOLT", f.total(who.alice, "BOLT"), 6)
		}},
		rejects("an exchange minting nothing (amount_zero)", who.alice, exch("ACME", "BOLT", 1, 0), chain.ErrAmountZero),
		rejects("exchanging zero points (amount_zero)", who.alice, exch("ACME", "BOLT", 0, 0), chain.ErrAmountZero),
		rejects("a program to itself (same_program)", who.alice, exch("ACME", "ACME", 1, 0), chain.ErrSameProgram),
		rejects("bad symbol (bad_symbol)", who.alice, exch("ACME", "B", 1, 0), chain.ErrBadSymbol),
		rejects("unknown source (unknown_program)", who.alice, exch("NOPE", "BOLT", 1, 0), chain.ErrUnknownProgram),
		rejects("unknown target (unknown_program)", who.alice, exch("ACME", "NOPE", 1, 0), chain.ErrUnknownProgram),
		rejects("more than the available points (insufficient_points)", who.alice, exch("ACME", "BOLT", 101, 0), chain.ErrInsufficientPoints),
		{"pending points cannot be exchanged (insufficient_points)", func(t *testing.T, f *stateFixture) {
			f.setPolicy(who.acme, "ACME", chain.Policy{PendingDays: 1})
			f.earn(who.acme, "ACME", who.bob, 50, "b")
			f.reject(who.bob, exch("ACME", "BOLT", 3, 0), chain.ErrInsufficientPoints)
		}},
		{"a retired program mints nothing (program_retired)", func(t *testing.T, f *stateFixture) {
			f.ok(who.bolt, &chain.UpdateProgram{Program: "BOLT", Retire: true})
			f.reject(who.alice, exch("ACME", "BOLT", 10, 0), chain.ErrProgramRetired)
		}},
		{"the daily cap counts source points per UTC day (daily_cap_reached)", func(t *testing.T, f *stateFixture) {
			f.ok(who.acme, setRate("ACME", "BOLT", 2, 3, 25))
			f.ok(who.bolt, setRate("ACME", "BOLT", 2, 3, 25))
			f.ok(who.alice, exch("ACME", "BOLT", 15, 0))
			f.reject(who.alice, exch("ACME", "BOLT", 11, 0), chain.ErrDailyCapReached)
			f.ok(who.alice, exch("ACME", "BOLT", 10, 0))
			f.reject(who.alice, exch("ACME", "BOLT", 1, 0), chain.ErrDailyCapReached)
			f.block(dayStart(d1+1)-1, func(b *blk) { b.reject(who.alice, exch("ACME", "BOLT", 1, 0), chain.ErrDailyCapReached) })
			f.block(dayStart(d1+1), func(b *blk) { b.ok(who.alice, exch("ACME", "BOLT", 25, 0)) })
			f.reject(who.alice, exch("ACME", "BOLT", 3, 0), chain.ErrDailyCapReached)
			eq(t, "route", *f.route("ACME", "BOLT"), chain.Route{
				FromSide: chain.RateSide{Numerator: 2, Denominator: 3, DailyCap: 25}, ToSide: chain.RateSide{Numerator: 2, Denominator: 3, DailyCap: 25},
				Day: d1 + 1, Used: 25,
			})
			eq(t, "alice ACME", f.total(who.alice, "ACME"), 50)
		}},
		{"the minted lot expires at the earlier of the earliest burnt lot's expiry and the target's policy", func(t *testing.T, f *stateFixture) {
			f.setPolicy(who.acme, "ACME", chain.Policy{ExpiryDays: 40})
			f.earn(who.acme, "ACME", who.alice, 50, "late") // alice: 100 at d1+100, 50 at d1+40
			f.setPolicy(who.acme, "ACME", chain.Policy{ExpiryDays: 10})
			f.earn(who.acme, "ACME", who.alice, 30, "early") // and 30 at d1+10
			f.setPolicy(who.bolt, "BOLT", chain.Policy{ExpiryDays: 20})
			f.onDay(d1+2, func(b *blk) {
				b.ok(who.alice, exch("ACME", "BOLT", 45, 0)) // burns 30@d1+10, 15@d1+40: 30 BOLT at min(d1+10, d1+22)
				b.ok(who.alice, exch("ACME", "BOLT", 30, 0)) // burns 30@d1+40: 20 BOLT at min(d1+40, d1+22)
				b.ok(who.alice, exch("ACME", "BOLT", 9, 0))  // burns 5@d1+40, 4@d1+100: 6 BOLT at d1+22
			})
			eq(t, "alice ACME", f.balance(who.alice, "ACME").Lots, []chain.Lot{{Amount: 96, Expiry: d1 + 100}})
			eq(t, "alice BOLT", f.balance(who.alice, "BOLT").Lots, []chain.Lot{{Amount: 30, Expiry: d1 + 10}, {Amount: 26, Expiry: d1 + 22}})
			eq(t, "BOLT schedule", f.base.schedule(t)["BOLT"], map[chain.Day]uint64{d1 + 10: 30, d1 + 22: 26})
			f.onDay(d1+10, nil)
			eq(t, "BOLT expired", f.program("BOLT").Stats.Expired, 30)
			eq(t, "alice BOLT", f.total(who.alice, "BOLT"), 26)
		}},
		{"points that never expire mint points that never expire, if the target's don't", func(t *testing.T, f *stateFixture) {
			f.setPolicy(who.acme, "ACME", chain.Policy{})
			f.earn(who.acme, "ACME", who.bob, 30, "b")
			f.ok(who.bob, exch("ACME", "BOLT", 30, 20))
			eq(t, "bob BOLT", f.balance(who.bob, "BOLT").Lots, []chain.Lot{{Amount: 20, Expiry: never}})
		}},
		{"a round trip cannot refresh an expiry", func(t *testing.T, f *stateFixture) {
			f.next(func(b *blk) {
				b.ok(who.acme, setRate("BOLT", "ACME", 3, 2, 0))
				b.ok(who.bolt, setRate("BOLT", "ACME", 3, 2, 0))
			})
			f.onDay(d1+60, func(b *blk) {
				b.ok(who.alice, exch("ACME", "BOLT", 100, 0)) // 66 BOLT at d1+100
				b.ok(who.alice, exch("BOLT", "ACME", 66, 0))  // 99 ACME at min(d1+100, d1+160)
			})
			eq(t, "alice ACME", f.balance(who.alice, "ACME").Lots, []chain.Lot{{Amount: 99, Expiry: d1 + 100}})
			f.onDay(d1+100, nil)
			eq(t, "alice ACME", f.total(who.alice, "ACME"), 0)
			eq(t, "positions", []chain.Position{*f.position("ACME", "BOLT"), *f.position("BOLT", "ACME")}, []chain.Position{{Owed: 66}, {Owed: 99}})
		}},
		{"the output may not overflow (overflow)", func(t *testing.T, f *stateFixture) {
			f.next(func(b *blk) {
				b.ok(who.acme, setRate("ACME", "BOLT", 4, 1, 0))
				b.ok(who.bolt, setRate("ACME", "BOLT", 4, 1, 0))
			})
			f.reject(who.alice, exch("ACME", "BOLT", 1<<62, 0), chain.ErrOverflow)
		}},
		{"the target's supply may not overflow (overflow)", func(t *testing.T, f *stateFixture) {
			f.earn(who.bolt, "BOLT", who.carol, math.MaxUint64-5, "whale")
			f.reject(who.alice, exch("ACME", "BOLT", 10, 0), chain.ErrOverflow) // would mint 6
			f.reject(who.alice, exch("ACME", "BOLT", 9, 0), chain.ErrOverflow)  // would mint 6
			f.ok(who.alice, exch("ACME", "BOLT", 7, 0))                         // mints 4: supply max−1
			eq(t, "BOLT supply", f.program("BOLT").Stats.Supply(), uint64(math.MaxUint64-1))
		}},
	}
	runCases(t, withRoute, cases)
}

func TestSettle(t *testing.T) {
	setup := func(tb rapid.TB) *stateFixture {
		f := withRoute(tb)
		f.ok(who.alice, exch("ACME", "BOLT", 75, 0)) // ACME owes BOLT 50
		return f
	}
	settle := func(n uint64) *chain.Settle { return &chain.Settle{Program: "BOLT", Counterparty: "ACME", Amount: n} }
	cases := []stateCase{
		{"the creditor acknowledges payment and the open position shrinks", func(t *testing.T, f *stateFixture) {
			eq(t, "open", f.position("ACME", "BOLT").Open(), 50)
			f.ok(who.bolt, settle(20))
			eq(t, "position", *f.position("ACME", "BOLT"), chain.Position{Owed: 50, Settled: 20})
			eq(t, "open", f.position("ACME", "BOLT").Open(), 30)
			f.reject(who.bolt, settle(31), chain.ErrSettleTooMuch)
			f.ok(who.bolt, settle(30))
			eq(t, "open", f.position("ACME", "BOLT").Open(), 0)
			f.reject(who.bolt, settle(1), chain.ErrSettleTooMuch)
			f.ok(who.alice, exch("ACME", "BOLT", 3, 0))
			eq(t, "position", *f.position("ACME", "BOLT"), chain.Position{Owed: 52, Settled: 50})
		}},
		rejects("more than the open position (settle_exceeds_position)", who.bolt, settle(51), chain.ErrSettleTooMuch),
		rejects("a position that does not exist (settle_exceeds_position)", who.acme, &chain.Settle{Program: "ACME", Counterparty: "BOLT", Amount: 1}, chain.ErrSettleTooMuch),
		rejects("the debtor cannot settle its own debt (not_owner)", who.acme, settle(1), chain.ErrNotOwner),
		rejects("the creditor's operator is not its owner (not_owner)", who.boltOp, settle(1), chain.ErrNotOwner),
		rejects("a stranger (not_owner)", who.mallory, settle(1), chain.ErrNotOwner),
		rejects("unknown program (unknown_program)", who.bolt, &chain.Settle{Program: "NOPE", Counterparty: "ACME", Amount: 1}, chain.ErrUnknownProgram),
		rejects("unknown counterparty (unknown_program)", who.bolt, &chain.Settle{Program: "BOLT", Counterparty: "NOPE", Amount: 1}, chain.ErrUnknownProgram),
		rejects("with itself (same_program)", who.bolt, &chain.Settle{Program: "BOLT", Counterparty: "BOLT", Amount: 1}, chain.ErrSameProgram),
		rejects("zero (amount_zero)", who.bolt, settle(0), chain.ErrAmountZero),
		rejects("bad symbol (bad_symbol)", who.bolt, &chain.Settle{Program: "BOLT", Counterparty: "acme", Amount: 1}, chain.ErrBadSymbol),
	}
	runCases(t, setup, cases)
}

func TestNonceAndValidUntil(t *testing.T) {
	gift := func() *chain.Transfer { return &chain.Transfer{Program: "ACME", To: who.bob, Amount: 1} }
	raw := func(nonce, validUntil uint64) *chain.Tx { return chain.NewTx(testChainID, nonce, validUntil, gift()) }
	cases := []stateCase{
		{"the first nonce is 0 and each applied transaction advances it by one", func(t *testing.T, f *stateFixture) {
			eq(t, "nonce", f.base.nonce(who.alice), 0)
			f.next(func(b *blk) {
				for n := uint64(0); n < 3; n++ {
					if _, err := b.send(who.alice, raw(n, 0)); err != nil {
						t.Fatalf("nonce %d: %v", n, err)
					}
				}
			})
			eq(t, "nonce", f.base.nonce(who.alice), 3)
			f.ok(who.alice, gift())
			eq(t, "nonce", f.base.nonce(who.alice), 4)
		}},
		{"a used nonce is too low (nonce_too_low)", func(t *testing.T, f *stateFixture) {
			f.ok(who.alice, gift())
			f.ok(who.alice, gift())
			f.next(func(b *blk) {
				_, err := b.send(who.alice, raw(0, 0))
				checkErr(t, err, chain.ErrNonceTooLow)
				_, err = b.send(who.alice, raw(1, 0))
				checkErr(t, err, chain.ErrNonceTooLow)
			})
			eq(t, "nonce", f.base.nonce(who.alice), 2)
		}},
		{"a nonce past the next one is too high (nonce_too_high)", func(t *testing.T, f *stateFixture) {
			f.next(func(b *blk) {
				_, err := b.send(who.alice, raw(1, 0))
				checkErr(t, err, chain.ErrNonceTooHigh)
				_, err = b.send(who.carol, raw(5, 0))
				checkErr(t, err, chain.ErrNonceTooHigh)
			})
			eq(t, "nonce", f.base.nonce(who.alice), 0)
		}},
		{"a rejected transaction does not use its nonce", func(t *testing.T, f *stateFixture) {
			f.next(func(b *blk) {
				_, err := b.send(who.alice, chain.NewTx(testChainID, 0, 0, &chain.Transfer{Program: "ACME", To: who.bob, Amount: 1000}))
				checkErr(t, err, chain.ErrInsufficientPoints)
				if _, err := b.send(who.alice, raw(0, 0)); err != nil {
					t.Fatalf("nonce 0 after a rejection: %v", err)
				}
			})
			eq(t, "nonce", f.base.nonce(who.alice), 1)
		}},
		{"valid_until is inclusive; past it the transaction is expired (tx_expired)", func(t *testing.T, f *stateFixture) {
			now := f.time + 60
			f.block(now, func(b *blk) {
				_, err := b.send(who.alice, raw(0, now-1))
				checkErr(t, err, chain.ErrExpiredTx)
				if _, err := b.send(who.alice, raw(0, now)); err != nil {
					t.Errorf("valid_until = block time: %v", err)
				}
				if _, err := b.send(who.alice, raw(1, 0)); err != nil {
					t.Errorf("valid_until 0: %v", err)
				}
			})
		}},
		{"another chain's transaction (wrong_chain_id)", func(t *testing.T, f *stateFixture) {
			f.next(func(b *blk) {
				_, err := b.send(who.alice, chain.NewTx(testChainID+1, 0, 0, gift()))
				checkErr(t, err, chain.ErrWrongChainID)
			})
		}},
		{"a transaction larger than the genesis max_tx_bytes (tx_too_large)", func(t *testing.T, _ *stateFixture) {
			params := chain.DefaultParams()
			params.MaxTxBytes = 256
			f := newStateFixture(t, params, []chain.Address{who.acme}, nil)
			f.register(who.acme, "ACME", chain.Policy{})
			f.earn(who.acme, "ACME", who.alice, 10, "o")
			memo := func(n int) *chain.Tx {
				return chain.NewTx(testChainID, f.nonces[who.alice], 0, &chain.Transfer{Program: "ACME", To: who.bob, Amount: 1, Memo: strings.Repeat("m", n)})
			}
			fit := 256 - memo(0).Size()
			f.next(func(b *blk) {
				_, err := b.send(who.alice, memo(fit+1))
				checkErr(t, err, chain.ErrTxTooLarge)
				if _, err := b.send(who.alice, memo(fit)); err != nil {
					t.Errorf("a transaction of exactly max_tx_bytes: %v", err)
				}
			})
		}},
	}
	runCases(t, withPoints, cases)
}
