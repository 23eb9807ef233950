package chain_test

import (
	"bytes"
	"errors"
	"slices"
	"sort"
	"testing"

	"pgregory.net/rapid"

	"github.com/loyal-ledger/loyal/chain"
)

// The governance of ADR 0009 on the state in a map: who may propose and approve, the
// threshold against the partners of each moment, execution once, and what admitting,
// removing and re-keying a partner do to programs, routes, points and keys.

var dora, eve, acme2 = actor("dora"), actor("eve"), actor("acme second key")

// newGov is a Version2 network of partners acme, bolt, cafe and dora with a week to approve;
// acme owns ACME (operator acmeOp), dora owns DORA, both with an open route at 1:1, alice holds
// 100 ACME and 50 DORA.
func newGov(tb rapid.TB) *stateFixture {
	f := newStateFixture(tb, chain.DefaultParams(), []chain.Address{who.acme, who.bolt, who.cafe, dora}, func(g *chain.Genesis) {
		g.ProtocolVersion, g.Governance = chain.Version2, &chain.GovernanceParams{ProposalSeconds: 86_400}
	})
	f.register(who.acme, "ACME", chain.Policy{}, who.acmeOp)
	f.register(dora, "DORA", chain.Policy{})
	for _, owner := range []chain.Address{who.acme, dora} {
		f.ok(owner, setRate("ACME", "DORA", 1, 1, 0))
		f.ok(owner, setRate("DORA", "ACME", 1, 1, 0))
	}
	f.earn(who.acme, "ACME", who.alice, 100, "a1")
	f.earn(dora, "DORA", who.alice, 50, "d1")
	return f
}

func admit(a chain.Address, name string) *chain.Propose {
	return &chain.Propose{Action: chain.ActionAdmitPartner, Partner: a, Name: name}
}
func remove(a chain.Address) *chain.Propose {
	return &chain.Propose{Action: chain.ActionRemovePartner, Partner: a}
}
func rotate(a, to chain.Address) *chain.Propose {
	return &chain.Propose{Action: chain.ActionRotateOwnerKey, Partner: a, NewKey: to}
}
func approve(id uint64) *chain.Approve { return &chain.Approve{Proposal: id} }

// scan is a chain.StateScanner over the map, in key order.
func (m memReader) scan(prefix []byte, fn func(k, v []byte) error) error {
	var keys []string
	for k := range m {
		if bytes.HasPrefix([]byte(k), prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := fn([]byte(k), m[k]); err != nil {
			return err
		}
	}
	return nil
}

func (f *stateFixture) partners() map[chain.Address]string {
	f.tb.Helper()
	out := map[chain.Address]string{}
	if err := chain.ForEachPartner(f.base.scan, func(p chain.PartnerInfo) error { out[p.Address] = p.Name; return nil }); err != nil {
		f.tb.Fatal(err)
	}
	return out
}

func (f *stateFixture) proposal(id uint64) *chain.Proposal {
	f.tb.Helper()
	v, ok := f.base[string(chain.ProposalKey(id))]
	if !ok {
		f.tb.Fatalf("no proposal %d", id)
	}
	p, err := chain.DecodeProposal(v)
	if err != nil {
		f.tb.Fatal(err)
	}
	return p
}

func TestGovernanceThreshold(t *testing.T) {
	// More than two thirds: the approvals needed for n eligible partners.
	for n, need := range map[int]int{1: 1, 2: 2, 3: 3, 4: 3, 5: 4, 6: 5, 7: 5, 9: 7, 10: 7} {
		if got := chain.ApprovalsNeededForTest(n); got != need {
			t.Errorf("%d partners need %d approvals, got %d", n, need, got)
		}
	}
	// What readers are told is needed is what execution needs.
	for n := 1; n <= chain.MaxPartners; n++ {
		if _, needed := chain.Tally(&chain.Proposal{}, func(chain.Address) bool { return false }, n); needed != chain.ApprovalsNeededForTest(n) {
			t.Fatalf("%d partners: Tally says %d are needed, execution needs %d", n, needed, chain.ApprovalsNeededForTest(n))
		}
	}
}

func TestGovernance(t *testing.T) {
	cases := []stateCase{
		{"admit: executes at the approval that passes two thirds, once", func(t *testing.T, f *stateFixture) {
			es := f.ok(who.acme, admit(eve, "Eve's Books"))
			eq(t, "proposal entries", es, []chain.Entry{{Account: who.acme, Cause: chain.CauseProposal, Ref: "1:admit_partner", Counterparty: eve}})
			p := f.proposal(1)
			eq(t, "status", p.StatusAt(f.time), "open")
			eq(t, "deadline", p.Deadline, f.time+86_400)
			eq(t, "approvals", p.Approvals, []chain.Address{who.acme})
			es = f.ok(who.bolt, approve(1))
			eq(t, "2 of 4 do not pass", es, []chain.Entry{{Account: who.bolt, Cause: chain.CauseApproval, Ref: "1:admit_partner", Counterparty: eve}})
			if _, ok := f.partners()[eve]; ok {
				t.Fatal("eve admitted with 2 of 4")
			}
			es = f.ok(who.cafe, approve(1))
			eq(t, "3 of 4 execute", es, []chain.Entry{
				{Account: who.cafe, Cause: chain.CauseApproval, Ref: "1:admit_partner", Counterparty: eve},
				{Account: eve, Cause: chain.CausePartnerAdmitted, Ref: "1:admit_partner"},
			})
			eq(t, "eve's name", f.partners()[eve], "Eve's Books")
			eq(t, "partners", len(f.partners()), 5)
			p = f.proposal(1)
			eq(t, "status", p.StatusAt(f.time), "executed")
			eq(t, "closed", p.Closed, f.height)
			f.reject(dora, approve(1), chain.ErrProposalClosed)
			f.register(eve, "EVE", chain.Policy{})
			eq(t, "eve owns EVE", f.program("EVE").Owner, eve)
			// Eve counts from now on: 5 partners need 4.
			f.ok(eve, admit(who.mallory, "M"))
			f.ok(who.acme, approve(2))
			f.ok(who.bolt, approve(2))
			if _, ok := f.partners()[who.mallory]; ok {
				t.Fatal("3 of 5 admitted mallory")
			}
			f.ok(who.cafe, approve(2))
			eq(t, "4 of 5", f.partners()[who.mallory], "M")
		}},
		{"one partner's proposal executes at once", func(t *testing.T, f *stateFixture) {
			f2 := newStateFixture(t, chain.DefaultParams(), []chain.Address{who.acme}, func(g *chain.Genesis) {
				g.ProtocolVersion, g.Governance = chain.Version2, chain.DefaultGovernance()
			})
			f2.reject(who.acme, remove(who.acme), chain.ErrLastPartner)
			es := f2.ok(who.acme, admit(eve, "Eve"))
			eq(t, "entries", es, []chain.Entry{
				{Account: who.acme, Cause: chain.CauseProposal, Ref: "1:admit_partner", Counterparty: eve},
				{Account: eve, Cause: chain.CausePartnerAdmitted, Ref: "1:admit_partner"},
			})
		}},
		rejects("a stranger proposes (not_partner)", who.mallory, admit(eve, "Eve"), chain.ErrNotPartner),
		rejects("admitting a partner (already_partner)", who.acme, admit(who.bolt, "Bolt"), chain.ErrAlreadyPartner),
		rejects("removing a stranger (not_partner)", who.acme, remove(who.mallory), chain.ErrNotPartner),
		rejects("rotating a stranger's key (not_partner)", who.acme, rotate(who.mallory, eve), chain.ErrNotPartner),
		rejects("rotating to a partner's key (already_partner)", who.acme, rotate(who.acme, who.bolt), chain.ErrAlreadyPartner),
		rejects("an admission without a name (malformed)", who.acme, admit(eve, ""), chain.ErrMalformed),
		rejects("a removal with a new key (malformed)", who.acme, &chain.Propose{Action: chain.ActionRemovePartner, Partner: dora, NewKey: eve}, chain.ErrMalformed),
		rejects("an unknown action (malformed)", who.acme, &chain.Propose{Action: 9, Partner: eve}, chain.ErrMalformed),
		rejects("the zero address (zero_address)", who.acme, admit(chain.Address{}, "Z"), chain.ErrZeroAddress),
		rejects("approving proposal 0 (unknown_proposal)", who.acme, approve(0), chain.ErrUnknownProposal),
		rejects("approving a proposal never made (unknown_proposal)", who.acme, approve(7), chain.ErrUnknownProposal),
		{"approvals: a stranger's, twice, after the deadline", func(t *testing.T, f *stateFixture) {
			f.ok(who.acme, admit(eve, "Eve"))
			f.reject(who.mallory, approve(1), chain.ErrNotPartner)
			f.reject(who.acme, approve(1), chain.ErrAlreadyApproved)
			f.ok(who.bolt, approve(1))
			f.reject(who.bolt, approve(1), chain.ErrAlreadyApproved)
			deadline := f.proposal(1).Deadline
			f.block(deadline, func(b *blk) { b.reject(eve, approve(1), chain.ErrNotPartner) })
			f.block(deadline+1, func(b *blk) { b.reject(who.cafe, approve(1), chain.ErrProposalExpired) })
			eq(t, "status", f.proposal(1).StatusAt(f.time), "expired")
		}},
		{"a proposal whose precondition no longer holds fails with its code, once", func(t *testing.T, f *stateFixture) {
			f.ok(who.acme, admit(eve, "Eve"))
			f.ok(who.bolt, admit(eve, "Eve again"))
			f.ok(who.bolt, approve(1))
			f.ok(who.cafe, approve(1))
			f.ok(who.acme, approve(2))
			f.ok(who.cafe, approve(2)) // eve is a partner now: 3 of 5 do not pass
			eq(t, "open", f.proposal(2).StatusAt(f.time), "open")
			es := f.ok(dora, approve(2))
			eq(t, "entries", es, []chain.Entry{
				{Account: dora, Cause: chain.CauseApproval, Ref: "2:admit_partner", Counterparty: eve},
				{Account: who.bolt, Cause: chain.CauseProposalFailed, Ref: "2:admit_partner:already_partner", Counterparty: eve},
			})
			p := f.proposal(2)
			eq(t, "status", p.StatusAt(f.time), "failed")
			eq(t, "code", p.Code, "already_partner")
			eq(t, "name kept", f.partners()[eve], "Eve")
			f.reject(eve, approve(2), chain.ErrProposalClosed)
		}},
		{"remove: the partner is not counted for its own removal; its programs retire, its customers keep their points", func(t *testing.T, f *stateFixture) {
			f.ok(dora, remove(dora))
			f.ok(who.acme, approve(1))
			f.ok(who.bolt, approve(1))
			if _, ok := f.partners()[dora]; !ok {
				t.Fatal("removed with 2 of the 3 others (dora's own approval must not count)")
			}
			es := f.ok(who.cafe, approve(1))
			eq(t, "entries", es, []chain.Entry{
				{Account: who.cafe, Cause: chain.CauseApproval, Ref: "1:remove_partner", Counterparty: dora},
				{Account: dora, Cause: chain.CausePartnerRemoved, Ref: "1:remove_partner"},
			})
			if _, ok := f.partners()[dora]; ok {
				t.Fatal("dora still a partner")
			}
			eq(t, "DORA retired", f.program("DORA").Retired, true)
			eq(t, "ACME not retired", f.program("ACME").Retired, false)
			f.reject(dora, &chain.Earn{Program: "DORA", Credits: []chain.Credit{{To: who.bob, Amount: 1, OrderRef: "d2"}}}, chain.ErrProgramRetired)
			f.reject(dora, &chain.RegisterProgram{Symbol: "DORA2", Name: "x"}, chain.ErrNotPartner)
			f.reject(dora, admit(eve, "Eve"), chain.ErrNotPartner)
			f.reject(who.alice, exch("ACME", "DORA", 5, 0), chain.ErrProgramRetired)
			f.reject(who.alice, exch("DORA", "ACME", 5, 0), chain.ErrRouteClosed)
			// The removed partner's keys no longer manage its program: the points stay its
			// customers'. Settling what it is owed is still recorded.
			f.reject(dora, &chain.Reverse{Program: "DORA", OrderRef: "d1", Amount: 50}, chain.ErrPartnerRemoved)
			f.reject(dora, &chain.UpdateProgram{Program: "DORA", SetOperators: true, Operators: []chain.Address{who.mallory}}, chain.ErrPartnerRemoved)
			f.reject(dora, &chain.UpdateProgram{Program: "DORA", NewOwner: who.mallory}, chain.ErrPartnerRemoved)
			f.reject(dora, setRate("DORA", "ACME", 2, 1, 0), chain.ErrPartnerRemoved)
			f.reject(who.acme, setRate("ACME", "DORA", 2, 1, 0), chain.ErrPartnerRemoved)
			f.ok(who.alice, &chain.Transfer{Program: "DORA", To: who.bob, Amount: 20})
			f.ok(who.bob, &chain.Redeem{Program: "DORA", Amount: 5, RewardRef: "r"})
			eq(t, "alice DORA", f.total(who.alice, "DORA"), 30)
			eq(t, "bob DORA", f.total(who.bob, "DORA"), 15)
			eq(t, "partners", len(f.partners()), 3)
		}},
		{"a removed partner's approvals stop counting", func(t *testing.T, f *stateFixture) {
			f.ok(dora, admit(eve, "Eve")) // 1: dora, then acme
			f.ok(who.acme, approve(1))    // 2 of 4
			f.ok(who.acme, remove(dora))  // 2
			f.ok(who.bolt, approve(2))    // acme, bolt of acme, bolt, cafe
			f.ok(who.cafe, approve(2))    // dora removed: 3 partners
			f.ok(who.bolt, approve(1))    // acme, bolt count (dora's does not): 2 of 3 is not more than two thirds
			if _, ok := f.partners()[eve]; ok {
				t.Fatal("a removed partner's approval was counted")
			}
			eq(t, "approvals kept on record", f.proposal(1).Approvals, []chain.Address{dora, who.acme, who.bolt})
			f.ok(who.cafe, approve(1))
			eq(t, "admitted by 3 of 3", f.partners()[eve], "Eve")
		}},
		{"a removal that the shrinking partner set would pass executes at its next approval", func(t *testing.T, f *stateFixture) {
			f.ok(who.acme, remove(who.bolt)) // 1
			f.ok(who.cafe, approve(1))       // acme, cafe of acme, cafe, dora
			f.ok(who.acme, remove(dora))     // 2
			f.ok(who.bolt, approve(2))
			f.ok(who.cafe, approve(2)) // dora removed: acme, bolt, cafe
			eq(t, "still open", f.proposal(1).StatusAt(f.time), "open")
			f.ok(who.bolt, approve(1)) // bolt's own does not count; acme, cafe of acme, cafe
			if _, ok := f.partners()[who.bolt]; ok {
				t.Fatal("bolt not removed by 2 of 2 eligible")
			}
			eq(t, "partners", len(f.partners()), 2)
		}},
		{"rotate: programs and operator places move, the old key is refused from that block on", func(t *testing.T, f *stateFixture) {
			f.ok(who.acme, &chain.UpdateProgram{Program: "ACME", SetOperators: true, Operators: []chain.Address{who.acmeOp, who.acme}})
			f.ok(who.acme, rotate(who.acme, acme2))
			f.ok(who.bolt, approve(1))
			f.next(func(b *blk) {
				es := b.ok(who.cafe, approve(1))
				eq(t, "entries", es, []chain.Entry{
					{Account: who.cafe, Cause: chain.CauseApproval, Ref: "1:rotate_owner_key", Counterparty: who.acme},
					{Account: who.acme, Cause: chain.CauseOwnerKeyRotated, Ref: "1:rotate_owner_key", Counterparty: acme2},
					{Account: acme2, Cause: chain.CauseOwnerKeyRotated, Ref: "1:rotate_owner_key", Counterparty: who.acme},
				})
				// In the same block, after the rotation:
				b.reject(who.acme, &chain.UpdateProgram{Program: "ACME", Retire: true}, chain.ErrRetiredKey)
			})
			eq(t, "owner", f.program("ACME").Owner, acme2)
			eq(t, "operators", f.program("ACME").Operators, []chain.Address{who.acmeOp})
			eq(t, "partner name kept", f.partners()[acme2], "partner 0")
			if _, ok := f.partners()[who.acme]; ok {
				t.Fatal("old key still a partner")
			}
			f.reject(who.acme, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: who.bob, Amount: 1, OrderRef: "x"}}}, chain.ErrRetiredKey)
			f.reject(who.acme, &chain.RegisterProgram{Symbol: "OLD", Name: "x"}, chain.ErrRetiredKey)
			f.reject(who.acme, admit(eve, "Eve"), chain.ErrRetiredKey)
			f.reject(who.acme, setRate("ACME", "DORA", 2, 1, 0), chain.ErrRetiredKey)
			f.reject(who.bolt, admit(who.acme, "back"), chain.ErrRetiredKey)
			f.reject(who.bolt, rotate(who.bolt, who.acme), chain.ErrRetiredKey)
			f.reject(acme2, &chain.UpdateProgram{Program: "ACME", NewOwner: who.acme}, chain.ErrRetiredKey)
			f.reject(acme2, &chain.UpdateProgram{Program: "ACME", SetOperators: true, Operators: []chain.Address{who.acme}}, chain.ErrRetiredKey)
			f.ok(acme2, &chain.UpdateProgram{Program: "ACME", SetOperators: true, Operators: []chain.Address{who.acmeOp, who.boltOp}})
			f.earn(who.acmeOp, "ACME", who.bob, 7, "after")
			eq(t, "bob ACME", f.total(who.bob, "ACME"), 7)
			// The partner under its new key: its programs are still its own for a removal.
			f.ok(acme2, remove(acme2))
			f.ok(who.bolt, approve(2))
			f.ok(who.cafe, approve(2))
			f.ok(dora, approve(2))
			eq(t, "ACME retired with its partner", f.program("ACME").Retired, true)
		}},
		{"a removed partner's key can never become another partner's key (former_partner)", func(t *testing.T, f *stateFixture) {
			f.ok(who.acme, admit(eve, "Eve")) // 1: acme
			f.ok(dora, approve(1))            // dora's approval is on record
			f.ok(who.acme, remove(dora))      // 2
			f.ok(who.bolt, approve(2))
			f.ok(who.cafe, approve(2))
			// Were cafe's key rotated to dora's, dora's approval would count for cafe's seat.
			f.reject(who.cafe, rotate(who.cafe, dora), chain.ErrFormerPartner)
			// Dora herself may be admitted again.
			f.ok(who.acme, admit(dora, "Dora again"))
		}},
		{"a rotation drops the old key's approvals until the new key approves", func(t *testing.T, f *stateFixture) {
			f.ok(who.acme, admit(eve, "Eve"))       // 1: acme
			f.ok(who.bolt, rotate(who.acme, acme2)) // 2
			f.ok(who.cafe, approve(2))
			f.ok(dora, approve(2)) // rotated
			f.ok(who.bolt, approve(1))
			f.ok(who.cafe, approve(1)) // acme's approval no longer counts: bolt, cafe of 4
			if _, ok := f.partners()[eve]; ok {
				t.Fatal("an old key's approval was counted")
			}
			f.reject(who.acme, approve(1), chain.ErrRetiredKey)
			f.ok(acme2, approve(1))
			eq(t, "admitted", f.partners()[eve], "Eve")
		}},
	}
	runCases(t, newGov, cases)
}

func TestGovernanceNeedsVersion2(t *testing.T) {
	f := newStd(t)
	f.reject(who.acme, admit(eve, "Eve"), chain.ErrUnknownKind)
	f.reject(who.acme, approve(1), chain.ErrUnknownKind)
}

func TestGovernanceRetiredRouteVersion1(t *testing.T) {
	// Version1 keeps its rule: only the target's retirement stops an exchange.
	f := newStd(t)
	f.register(who.acme, "ACME", chain.Policy{})
	f.register(who.bolt, "BOLT", chain.Policy{})
	for _, owner := range []chain.Address{who.acme, who.bolt} {
		f.ok(owner, setRate("ACME", "BOLT", 1, 1, 0))
	}
	f.earn(who.acme, "ACME", who.alice, 10, "a")
	f.ok(who.acme, &chain.UpdateProgram{Program: "ACME", Retire: true})
	f.ok(who.alice, exch("ACME", "BOLT", 4, 0))
	eq(t, "alice BOLT", f.total(who.alice, "BOLT"), 4)
}

func TestGovernanceGenesisNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(g *chain.Genesis)
	}{
		{"a partner name with an escape", func(g *chain.Genesis) { g.Partners[0].Name = "acme\x1b[2K" }},
		{"a partner name with a carriage return", func(g *chain.Genesis) { g.Partners[0].Name = "acme\rbolt" }},
		{"an empty partner name", func(g *chain.Genesis) { g.Partners[0].Name = "" }},
		{"a validator name with a newline", func(g *chain.Genesis) { g.Validators[0].Name = "node\nnode" }},
		{"a multiaddr with an escape", func(g *chain.Genesis) { g.Validators[0].Addrs = []string{"/dns4/a\x1b[2K/tcp/1"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := govGenesis(t)
			tc.edit(g)
			if err := g.Validate(); !errors.Is(err, chain.ErrBadGenesis) {
				t.Fatalf("validated: %v", err)
			}
			// Version 1 keeps its rules: such names were valid there.
			g.ProtocolVersion, g.Governance = 0, nil
			if tc.name != "an empty partner name" {
				if err := g.Validate(); err != nil {
					t.Fatalf("version 1 refuses it: %v", err)
				}
			}
		})
	}
}

func TestGovernanceCannotBeActivatedOnVersion1(t *testing.T) {
	g := govGenesis(t)
	g.ProtocolVersion, g.Governance = 0, nil
	s := chain.NewSchedule(g)
	r := g.Rules()
	r.Version, r.Governance = chain.Version2, *chain.DefaultGovernance()
	if err := s.Activate(chain.Activation{Height: 10, Rules: r}); !errors.Is(err, chain.ErrBadActivation) {
		t.Fatalf("activated version 2 on a version 1 chain: %v", err)
	}
}

func TestGovernanceParametersStayGenesis(t *testing.T) {
	g := govGenesis(t)
	s := chain.NewSchedule(g)
	r := g.Rules()
	if err := s.Activate(chain.Activation{Height: 10, Rules: r}); err != nil {
		t.Fatalf("the same rules again: %v", err)
	}
	r.Governance.ProposalSeconds /= 2
	if err := s.Activate(chain.Activation{Height: 20, Rules: r}); !errors.Is(err, chain.ErrBadActivation) {
		t.Fatalf("a shorter proposal time: %v", err)
	}
}

// govGenesis is a valid Version2 genesis of two partners.
func govGenesis(t *testing.T) *chain.Genesis {
	t.Helper()
	var g *chain.Genesis
	newStateFixture(t, chain.DefaultParams(), []chain.Address{who.acme, who.bolt}, func(x *chain.Genesis) {
		x.ProtocolVersion, x.Governance = chain.Version2, chain.DefaultGovernance()
		g = x
	})
	c := *g
	c.Partners = slices.Clone(g.Partners)
	c.Validators = slices.Clone(g.Validators)
	return &c
}
