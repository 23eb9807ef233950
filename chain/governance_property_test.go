package chain_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/loyal-ledger/loyal/chain"
)

// The governance of ADR 0009 against a model written from the ADR alone: who may propose and
// approve, with which refusal, the threshold counted at each approval against the partners of
// that moment, execution once (or failure once, when the action's precondition no longer
// holds), the entries of every step, and what admitting, removing and re-keying a partner do
// to the partner set, the rotated-away keys and the programs (their owner, their operators,
// the partner they belong to, and whether they are retired).

// govPool are the addresses governance draws from: genesis partners, outsiders to admit,
// keys to rotate to, and, as the run goes on, removed partners and rotated-away keys.
var govPool = func() []chain.Address {
	out := make([]chain.Address, 10)
	for i := range out {
		out[i] = actor(fmt.Sprintf("governance %d", i))
	}
	return out
}()

// govSymbols are the programs: G0 and G1 may come from genesis, the rest are registered.
var govSymbols = []string{"G0", "G1", "PA", "PB", "PC", "PD", "PE", "PF"}

func govName(a chain.Address) string {
	if i := slices.Index(govPool, a); i >= 0 {
		return fmt.Sprintf("g%d", i)
	}
	if a == (chain.Address{}) {
		return "0x0"
	}
	return a.Hex()[:10]
}

func govNames(as []chain.Address) string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = govName(a)
	}
	return "[" + strings.Join(out, " ") + "]"
}

func govEntries(es []chain.Entry) string {
	var sb strings.Builder
	for _, e := range es {
		fmt.Fprintf(&sb, "\n    {%s %s %q cp=%s prog=%q cr=%d dr=%d}", govName(e.Account), e.Cause, e.Ref, govName(e.Counterparty), e.Program, e.Credit, e.Debit)
	}
	if len(es) == 0 {
		return " none"
	}
	return sb.String()
}

func govProposalString(p *chain.Proposal) string {
	return fmt.Sprintf("{id %d %s partner %s name %q new_key %s proposer %s height %d deadline %d status %d code %q closed %d approvals %s}",
		p.ID, p.Action, govName(p.Partner), p.Name, govName(p.NewKey), govName(p.Proposer), p.Height, p.Deadline, p.Status, p.Code, p.Closed, govNames(p.Approvals))
}

func govPayload(p chain.Payload) string {
	switch p := p.(type) {
	case *chain.Propose:
		s := fmt.Sprintf("propose %s %s", p.Action, govName(p.Partner))
		if p.Name != "" {
			s += fmt.Sprintf(" %q", p.Name)
		}
		if p.NewKey != (chain.Address{}) {
			s += " → " + govName(p.NewKey)
		}
		return s
	case *chain.Approve:
		return fmt.Sprintf("approve %d", p.Proposal)
	case *chain.RegisterProgram:
		return fmt.Sprintf("register %s operators %s", p.Symbol, govNames(p.Operators))
	case *chain.UpdateProgram:
		s := "update " + p.Program
		if p.NewOwner != (chain.Address{}) {
			s += " new_owner " + govName(p.NewOwner)
		}
		if p.SetOperators {
			s += " operators " + govNames(p.Operators)
		}
		if p.Retire {
			s += " retire"
		}
		return s
	}
	return fmt.Sprintf("%T", p)
}

func sortAddrs(as []chain.Address) []chain.Address {
	slices.SortFunc(as, func(a, b chain.Address) int { return bytes.Compare(a[:], b[:]) })
	return as
}

// govRef is a proposal's entry ref, "ID:action".
func govRef(id uint64, a chain.Action) string { return fmt.Sprintf("%d:%s", id, a) }

// govCounter reads one of the ADR's 8-byte counters (M: partners, G: last proposal id);
// absent reads as 0.
func govCounter(tb rapid.TB, v memReader, key string) uint64 {
	tb.Helper()
	b, ok := v[key]
	if !ok {
		return 0
	}
	if len(b) != 8 {
		tb.Fatalf("record %q is %x, want 8 bytes", key, b)
	}
	return binary.BigEndian.Uint64(b)
}

// govProgram is the model of a program.
type govProgram struct {
	owner     chain.Address
	partner   chain.Address // whose program it is, for a removal: the registrant (or genesis owner), re-keyed by rotations
	operators []chain.Address
	retired   bool
}

// govModel is the ledger's governance as the ADR describes it.
type govModel struct {
	tb       rapid.TB
	seconds  uint64
	partners map[chain.Address]string
	rotated  map[chain.Address]chain.Address // rotated-away key → the key it was rotated to
	former   map[chain.Address]bool          // keys of removed partners
	props    []*chain.Proposal
	programs map[string]*govProgram
}

func (m *govModel) isPartner(a chain.Address) bool { _, ok := m.partners[a]; return ok }
func (m *govModel) isRotated(a chain.Address) bool { _, ok := m.rotated[a]; return ok }

func (m *govModel) partnerList() []chain.Address {
	return sortAddrs(slices.Collect(maps.Keys(m.partners)))
}

// outsiders are the pool addresses that could be admitted or rotated to.
func (m *govModel) outsiders() []chain.Address {
	return slices.DeleteFunc(slices.Clone(govPool), func(a chain.Address) bool { return m.isPartner(a) || m.isRotated(a) })
}

// contested are the addresses open proposals are about (partners and new keys), sorted: a
// second proposal about one of them may fail when the first executes.
func (m *govModel) contested() []chain.Address {
	var out []chain.Address
	for _, p := range m.props {
		if p.Status != chain.ProposalOpen {
			continue
		}
		for _, a := range []chain.Address{p.Partner, p.NewKey} {
			if a != (chain.Address{}) && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return sortAddrs(out)
}

// senderErr is the refusal of a governance sender (or a program's registrant): a rotated-away
// key is refused as such, anyone else who is not a partner as not_partner.
func (m *govModel) senderErr(a chain.Address) *chain.Error {
	if m.isRotated(a) {
		return chain.ErrRetiredKey
	}
	if !m.isPartner(a) {
		return chain.ErrNotPartner
	}
	return nil
}

// proposeShapeErr is the stateless refusal of a proposal's shape: the fields an action does
// not use must be empty, and a rotation's new key is another key.
func proposeShapeErr(p *chain.Propose) *chain.Error {
	admit, rotate := p.Action == chain.ActionAdmitPartner, p.Action == chain.ActionRotateOwnerKey
	switch {
	case p.Action < chain.ActionAdmitPartner || p.Action > chain.ActionRotateOwnerKey:
		return chain.ErrMalformed
	case p.Partner == (chain.Address{}):
		return chain.ErrZeroAddress
	case admit && p.Name == "", !admit && p.Name != "":
		return chain.ErrMalformed
	case rotate && p.NewKey == (chain.Address{}):
		return chain.ErrZeroAddress
	case rotate && p.NewKey == p.Partner, !rotate && p.NewKey != (chain.Address{}):
		return chain.ErrMalformed
	}
	return nil
}

// precondition is the ADR's precondition of an action at this moment, as the code a
// proposal is refused (or fails) with.
func (m *govModel) precondition(a chain.Action, partner, newKey chain.Address) *chain.Error {
	switch a {
	case chain.ActionAdmitPartner:
		switch {
		case m.isPartner(partner):
			return chain.ErrAlreadyPartner
		case m.isRotated(partner):
			return chain.ErrRetiredKey
		case len(m.partners) >= chain.MaxPartners:
			return chain.ErrTooManyPartners
		}
	case chain.ActionRemovePartner:
		switch {
		case !m.isPartner(partner):
			return chain.ErrNotPartner
		case len(m.partners) == 1:
			return chain.ErrLastPartner
		}
	case chain.ActionRotateOwnerKey:
		switch {
		case !m.isPartner(partner):
			return chain.ErrNotPartner
		case m.isPartner(newKey):
			return chain.ErrAlreadyPartner
		case m.isRotated(newKey):
			return chain.ErrRetiredKey
		case m.former[newKey]:
			return chain.ErrFormerPartner
		}
	}
	return nil
}

func (m *govModel) propose(sender chain.Address, p *chain.Propose, height, now uint64) ([]chain.Entry, *chain.Error) {
	if e := proposeShapeErr(p); e != nil {
		return nil, e
	}
	if e := m.senderErr(sender); e != nil {
		return nil, e
	}
	if e := m.precondition(p.Action, p.Partner, p.NewKey); e != nil {
		return nil, e
	}
	prop := &chain.Proposal{
		ID: uint64(len(m.props) + 1), Action: p.Action, Partner: p.Partner, Name: p.Name, NewKey: p.NewKey,
		Proposer: sender, Height: height, Deadline: now + m.seconds, Approvals: []chain.Address{sender},
	}
	m.props = append(m.props, prop)
	es := []chain.Entry{{Account: sender, Cause: chain.CauseProposal, Ref: govRef(prop.ID, prop.Action), Counterparty: prop.Partner}}
	return append(es, m.count(prop, height)...), nil
}

func (m *govModel) approve(sender chain.Address, id, height, now uint64) ([]chain.Entry, *chain.Error) {
	if id == 0 {
		return nil, chain.ErrUnknownProposal
	}
	if e := m.senderErr(sender); e != nil {
		return nil, e
	}
	if id > uint64(len(m.props)) {
		return nil, chain.ErrUnknownProposal
	}
	prop := m.props[id-1]
	switch {
	case prop.Status != chain.ProposalOpen:
		return nil, chain.ErrProposalClosed
	case now > prop.Deadline:
		return nil, chain.ErrProposalExpired
	case slices.Contains(prop.Approvals, sender):
		return nil, chain.ErrAlreadyApproved
	}
	prop.Approvals = append(prop.Approvals, sender)
	es := []chain.Entry{{Account: sender, Cause: chain.CauseApproval, Ref: govRef(prop.ID, prop.Action), Counterparty: prop.Partner}}
	return append(es, m.count(prop, height)...), nil
}

// govTally counts a proposal's approvals against a partner set: the approvals of current
// partners, less the partner a removal is about, of the current partners less that partner.
func govTally(approvals []chain.Address, a chain.Action, about chain.Address, isPartner func(chain.Address) bool, partners int) (counted, eligible int) {
	eligible = partners
	var excluded chain.Address
	if a == chain.ActionRemovePartner && isPartner(about) {
		excluded = about
		eligible--
	}
	for _, x := range approvals {
		if isPartner(x) && x != excluded {
			counted++
		}
	}
	return counted, eligible
}

// count is the threshold, checked at the transaction that proposed or approved: past it, the
// proposal executes or, if its precondition no longer holds, fails.
func (m *govModel) count(p *chain.Proposal, height uint64) []chain.Entry {
	counted, eligible := govTally(p.Approvals, p.Action, p.Partner, m.isPartner, len(m.partners))
	if 3*counted <= 2*eligible {
		return nil
	}
	p.Closed = height
	ref := govRef(p.ID, p.Action)
	if e := m.precondition(p.Action, p.Partner, p.NewKey); e != nil {
		p.Status, p.Code = chain.ProposalFailed, e.Code
		return []chain.Entry{{Account: p.Proposer, Cause: chain.CauseProposalFailed, Ref: ref + ":" + e.Code, Counterparty: p.Partner}}
	}
	p.Status = chain.ProposalExecuted
	switch p.Action {
	case chain.ActionAdmitPartner:
		m.partners[p.Partner] = p.Name
		return []chain.Entry{{Account: p.Partner, Cause: chain.CausePartnerAdmitted, Ref: ref}}
	case chain.ActionRemovePartner:
		delete(m.partners, p.Partner)
		m.former[p.Partner] = true
		for _, prog := range m.programs {
			if prog.partner == p.Partner {
				prog.retired = true
			}
		}
		return []chain.Entry{{Account: p.Partner, Cause: chain.CausePartnerRemoved, Ref: ref}}
	default:
		old, key := p.Partner, p.NewKey
		m.partners[key] = m.partners[old]
		delete(m.partners, old)
		m.rotated[old] = key
		for _, prog := range m.programs {
			if prog.owner == old {
				prog.owner = key
			}
			if prog.partner == old {
				prog.partner = key
			}
			prog.operators = slices.DeleteFunc(prog.operators, func(a chain.Address) bool { return a == old })
		}
		return []chain.Entry{
			{Account: old, Cause: chain.CauseOwnerKeyRotated, Ref: ref, Counterparty: key},
			{Account: key, Cause: chain.CauseOwnerKeyRotated, Ref: ref, Counterparty: old},
		}
	}
}

func (m *govModel) register(sender chain.Address, p *chain.RegisterProgram) *chain.Error {
	if e := m.senderErr(sender); e != nil {
		return e
	}
	for _, op := range p.Operators {
		if m.isRotated(op) {
			return chain.ErrRetiredKey
		}
	}
	if _, ok := m.programs[p.Symbol]; ok {
		return chain.ErrProgramExists
	}
	m.programs[p.Symbol] = &govProgram{owner: sender, partner: sender, operators: slices.Clone(p.Operators)}
	return nil
}

func (m *govModel) update(sender chain.Address, p *chain.UpdateProgram) *chain.Error {
	prog, ok := m.programs[p.Program]
	switch {
	case !ok:
		return chain.ErrUnknownProgram
	case prog.owner != sender && m.isRotated(sender):
		return chain.ErrRetiredKey
	case prog.owner != sender:
		return chain.ErrNotOwner
	case !m.isPartner(prog.partner):
		return chain.ErrPartnerRemoved
	case p.NewOwner != (chain.Address{}) && m.isRotated(p.NewOwner):
		return chain.ErrRetiredKey
	}
	if p.SetOperators {
		for _, op := range p.Operators {
			if m.isRotated(op) {
				return chain.ErrRetiredKey
			}
		}
		prog.operators = slices.Clone(p.Operators)
	}
	if p.NewOwner != (chain.Address{}) {
		prog.owner = p.NewOwner
	}
	prog.retired = prog.retired || p.Retire
	return nil
}

func (m *govModel) statusAt(p *chain.Proposal, t uint64) string {
	switch {
	case p.Status == chain.ProposalExecuted:
		return "executed"
	case p.Status == chain.ProposalFailed:
		return "failed"
	case t > p.Deadline:
		return "expired"
	}
	return "open"
}

// check compares state v at block time t with the model: the partners and their count, every
// proposal record and its status, the rotated-away keys, and every program.
func (m *govModel) check(v memReader, t uint64) {
	tb := m.tb
	tb.Helper()
	got := map[chain.Address]string{}
	if err := chain.ForEachPartner(v.scan, func(p chain.PartnerInfo) error { got[p.Address] = p.Name; return nil }); err != nil {
		tb.Fatal(err)
	}
	if !maps.Equal(got, m.partners) {
		tb.Fatalf("partners %s, the ADR says %s", govNames(sortAddrs(slices.Collect(maps.Keys(got)))), govNames(m.partnerList()))
	}
	if n := govCounter(tb, v, "M"); n != uint64(len(got)) {
		tb.Fatalf("partner count %d, %d partner records", n, len(got))
	}
	if n := govCounter(tb, v, "G"); n != uint64(len(m.props)) {
		tb.Fatalf("last proposal id %d, %d proposals made", n, len(m.props))
	}
	var props []*chain.Proposal
	if err := chain.ForEachProposal(v.scan, func(p *chain.Proposal) error { props = append(props, p); return nil }); err != nil {
		tb.Fatal(err)
	}
	if len(props) != len(m.props) {
		tb.Fatalf("%d proposal records, %d proposals made", len(props), len(m.props))
	}
	for i, p := range props {
		want := m.props[i]
		if !reflect.DeepEqual(p, want) {
			tb.Fatalf("proposal %d:\n got %s\nwant %s", i+1, govProposalString(p), govProposalString(want))
		}
		if s, w := p.StatusAt(t), m.statusAt(want, t); s != w {
			tb.Fatalf("proposal %d at %d: status %q, want %q", p.ID, t, s, w)
		}
	}
	for _, k := range govPool {
		to, ok, err := chain.RetiredKeyTargetForTest(v.Get, k)
		if err != nil {
			tb.Fatal(err)
		}
		if want, wok := m.rotated[k]; ok != wok || to != want {
			tb.Fatalf("rotated-away key %s: recorded %v → %s, the ADR says %v → %s", govName(k), ok, govName(to), wok, govName(want))
		}
	}
	n := 0
	if err := chain.ForEachProgram(v.scan, func(p *chain.Program) error {
		n++
		want, ok := m.programs[p.Symbol]
		if !ok {
			tb.Fatalf("program %s exists, never registered", p.Symbol)
		}
		if p.Owner != want.owner || p.Retired != want.retired || !slices.Equal(p.Operators, want.operators) && len(p.Operators)+len(want.operators) > 0 {
			tb.Fatalf("program %s: owner %s retired %v operators %s; the ADR says owner %s retired %v operators %s",
				p.Symbol, govName(p.Owner), p.Retired, govNames(p.Operators), govName(want.owner), want.retired, govNames(want.operators))
		}
		partner, ok, err := chain.ProgramPartner(v.Get, p.Symbol)
		if err != nil {
			return err
		}
		if !ok || partner != want.partner {
			tb.Fatalf("program %s belongs to partner %s (recorded %v), the ADR says %s", p.Symbol, govName(partner), ok, govName(want.partner))
		}
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	if n != len(m.programs) {
		tb.Fatalf("%d programs, %d registered", n, len(m.programs))
	}
}

// govWorld drives a fixture and the model side by side.
type govWorld struct {
	rt  *rapid.T
	f   *stateFixture
	m   *govModel
	log []string // the steps so far, for a failure's message
}

func newGovWorld(rt *rapid.T) *govWorld {
	m := &govModel{
		tb:       rt,
		seconds:  rapid.SampledFrom([]uint64{600, 3600, 7200}).Draw(rt, "proposal_seconds"),
		partners: map[chain.Address]string{},
		rotated:  map[chain.Address]chain.Address{},
		former:   map[chain.Address]bool{},
		programs: map[string]*govProgram{},
	}
	perm := rapid.Permutation(govPool).Draw(rt, "pool order")
	genesis := perm[:rapid.IntRange(1, 7).Draw(rt, "genesis partners")]
	var programs []chain.GenesisProgram
	for i, n := 0, rapid.IntRange(0, 2).Draw(rt, "genesis programs"); i < n; i++ {
		owner := rapid.SampledFrom(genesis).Draw(rt, "genesis program owner")
		ops := drawOperators(rt, "genesis operators", govPool)
		programs = append(programs, chain.GenesisProgram{Symbol: govSymbols[i], Name: govSymbols[i], Owner: owner, Operators: ops})
		m.programs[govSymbols[i]] = &govProgram{owner: owner, partner: owner, operators: slices.Clone(ops)}
	}
	f := newStateFixture(rt, chain.DefaultParams(), genesis, func(g *chain.Genesis) {
		g.ProtocolVersion, g.Governance = chain.Version2, &chain.GovernanceParams{ProposalSeconds: m.seconds}
		g.Programs = programs
	})
	for _, p := range f.genesis.Partners {
		m.partners[p.Address] = p.Name
	}
	w := &govWorld{rt: rt, f: f, m: m}
	w.logf("genesis: partners %s, proposal_seconds %d, programs %d", govNames(genesis), m.seconds, len(programs))
	m.check(f.base, f.time)
	return w
}

// drawOperators is 0 to 2 distinct addresses of from.
func drawOperators(rt *rapid.T, label string, from []chain.Address) []chain.Address {
	var ops []chain.Address
	for i, n := 0, rapid.IntRange(0, 2).Draw(rt, label+" count"); i < n; i++ {
		if op := rapid.SampledFrom(from).Draw(rt, label); !slices.Contains(ops, op) {
			ops = append(ops, op)
		}
	}
	return ops
}

func (w *govWorld) logf(format string, args ...any) {
	w.log = append(w.log, fmt.Sprintf(format, args...))
}

func (w *govWorld) fatalf(format string, args ...any) {
	w.rt.Helper()
	w.rt.Fatalf("%s\nsteps:\n  %s", fmt.Sprintf(format, args...), strings.Join(w.log, "\n  "))
}

// pick is, with pct percent probability, one of likely (if any), else any pool address.
func (w *govWorld) pick(label string, pct int, likely []chain.Address) chain.Address {
	if len(likely) > 0 && chance(w.rt, label+" likely", pct) {
		return rapid.SampledFrom(likely).Draw(w.rt, label)
	}
	return rapid.SampledFrom(govPool).Draw(w.rt, label)
}

// nextTime is a block time after the last: usually a little later, sometimes exactly at or
// just past an open proposal's deadline, sometimes past every deadline.
func (w *govWorld) nextTime() uint64 {
	rt, last, secs := w.rt, w.f.time, w.m.seconds
	var edges []uint64
	for _, p := range w.m.props {
		if p.Status == chain.ProposalOpen {
			for _, t := range []uint64{p.Deadline, p.Deadline + 1} {
				if t > last {
					edges = append(edges, t)
				}
			}
		}
	}
	switch r := roll(rt, "time step"); {
	case r < 160 && len(edges) > 0:
		return rapid.SampledFrom(edges).Draw(rt, "deadline edge")
	case r < 240:
		return last + secs + rapid.Uint64Range(1, secs).Draw(rt, "past every deadline")
	default:
		return last + rapid.Uint64Range(1, secs/4).Draw(rt, "seconds")
	}
}

func (w *govWorld) step(b *blk) {
	switch r := roll(w.rt, "step"); {
	case r < 330:
		w.stepPropose(b)
	case r < 860:
		w.stepApprove(b)
	case r < 950:
		w.stepRegister(b)
	default:
		w.stepUpdate(b)
	}
}

// send applies p and compares the result with the model's: refused with the same code, or
// applied with the same entries; then the whole governance state.
func (w *govWorld) send(b *blk, sender chain.Address, p chain.Payload, want []chain.Entry, wantErr *chain.Error) {
	w.rt.Helper()
	es, err := b.send(sender, chain.NewTx(testChainID, w.f.nonces[sender], 0, p))
	step := fmt.Sprintf("height %d t=%d: %s by %s", w.f.height+1, b.st.Time(), govPayload(p), govName(sender))
	switch {
	case wantErr == nil && err != nil:
		w.fatalf("%s: refused (%v); the ADR says it applies with entries%s", step, err, govEntries(want))
	case wantErr != nil && err == nil:
		w.fatalf("%s: applied with entries%s; the ADR says it is refused with %s", step, govEntries(es), wantErr.Code)
	case wantErr != nil && (!errors.Is(err, wantErr) || chain.Code(err) != wantErr.Code):
		w.fatalf("%s: refused with %s (%v); the ADR says %s", step, chain.Code(err), err, wantErr.Code)
	case wantErr == nil && !(len(es) == 0 && len(want) == 0) && !reflect.DeepEqual(es, want):
		w.fatalf("%s: entries%s\nthe ADR says%s", step, govEntries(es), govEntries(want))
	}
	if err != nil {
		w.logf("%s → %s", step, chain.Code(err))
		return
	}
	w.logf("%s → ok%s", step, govEntries(es))
	w.m.check(b.view(), b.st.Time())
}

func (w *govWorld) stepPropose(b *blk) {
	rt, m := w.rt, w.m
	sender := w.pick("proposer", 85, m.partnerList())
	// Usually a proposal that can be made, sometimes about what open proposals are about.
	outsiders, partners := m.outsiders(), m.partnerList()
	if contested := m.contested(); len(contested) > 0 && chance(rt, "contested", 30) {
		outsiders, partners = contested, contested
	}
	var p *chain.Propose
	switch r := roll(rt, "action"); {
	case r < 400:
		p = admit(w.pick("admit whom", 85, outsiders), rapid.SampledFrom([]string{"Ann's", "Bo & Co", "Cyd"}).Draw(rt, "name"))
	case r < 700:
		p = remove(w.pick("remove whom", 85, partners))
	default:
		p = rotate(w.pick("rotate whom", 85, partners), w.pick("new key", 85, outsiders))
	}
	if chance(rt, "misshapen", 4) {
		switch rapid.IntRange(0, 3).Draw(rt, "misshapen how") {
		case 0:
			p = &chain.Propose{Action: chain.ActionAdmitPartner, Partner: p.Partner}
		case 1:
			p = &chain.Propose{Action: chain.ActionRemovePartner, Partner: p.Partner, NewKey: govPool[0]}
		case 2:
			p = &chain.Propose{Action: chain.ActionRemovePartner, Partner: p.Partner, Name: "x"}
		default:
			p = &chain.Propose{Action: chain.Action(rapid.SampledFrom([]uint8{0, 4, 255}).Draw(rt, "action number")), Partner: p.Partner}
		}
	}
	want, wantErr := m.propose(sender, p, w.f.height+1, b.st.Time())
	w.send(b, sender, p, want, wantErr)
}

func (w *govWorld) stepApprove(b *blk) {
	rt, m := w.rt, w.m
	n := uint64(len(m.props))
	var open []uint64
	for _, p := range m.props {
		if p.Status == chain.ProposalOpen && p.Deadline >= b.st.Time() {
			open = append(open, p.ID)
		}
	}
	var id uint64
	switch r := roll(rt, "which proposal"); {
	case n == 0 || r < 60:
		id = rapid.SampledFrom([]uint64{0, n + 1, n + 2}).Draw(rt, "unknown proposal")
	case len(open) > 0 && r < 800:
		id = rapid.SampledFrom(open).Draw(rt, "open proposal")
	default:
		id = rapid.Uint64Range(1, n).Draw(rt, "any proposal")
	}
	var likely []chain.Address
	if id >= 1 && id <= n {
		for _, a := range m.partnerList() {
			if !slices.Contains(m.props[id-1].Approvals, a) {
				likely = append(likely, a)
			}
		}
	}
	sender := w.pick("approver", 80, likely)
	want, wantErr := m.approve(sender, id, w.f.height+1, b.st.Time())
	w.send(b, sender, approve(id), want, wantErr)
}

func (w *govWorld) stepRegister(b *blk) {
	rt, m := w.rt, w.m
	sender := w.pick("registrant", 80, m.partnerList())
	sym := rapid.SampledFrom(govSymbols).Draw(rt, "register symbol")
	p := &chain.RegisterProgram{Symbol: sym, Name: sym, Operators: drawOperators(rt, "operators", govPool)}
	w.send(b, sender, p, nil, m.register(sender, p))
}

func (w *govWorld) stepUpdate(b *blk) {
	rt, m := w.rt, w.m
	sym := rapid.SampledFrom(govSymbols).Draw(rt, "update symbol")
	if existing := slices.Sorted(maps.Keys(m.programs)); len(existing) > 0 && chance(rt, "existing program", 85) {
		sym = rapid.SampledFrom(existing).Draw(rt, "update program")
	}
	var owner []chain.Address
	if prog, ok := m.programs[sym]; ok {
		owner = []chain.Address{prog.owner}
	}
	sender := w.pick("updater", 85, owner)
	p := &chain.UpdateProgram{Program: sym}
	switch r := roll(rt, "update what"); {
	case r < 450:
		p.NewOwner = w.pick("new owner", 50, m.partnerList())
	case r < 950:
		p.SetOperators, p.Operators = true, drawOperators(rt, "new operators", govPool)
	default:
		p.Retire = true
	}
	w.send(b, sender, p, nil, m.update(sender, p))
}

// TestGovernanceModel runs random blocks of random governance transactions (any action about
// any pool address, approvals of any id by anyone: partners, removed partners, rotated-away
// keys, strangers), with program registrations and ownership changes between them, and
// checks after every transaction that it applied exactly when ADR 0009 says, with the entries
// it says, and that the partners, proposals, rotated-away keys and programs are the model's.
func TestGovernanceModel(t *testing.T) {
	noFailFiles(t)
	rapid.Check(t, func(rt *rapid.T) {
		w := newGovWorld(rt)
		for i, n := 0, rapid.IntRange(1, 20).Draw(rt, "blocks"); i < n; i++ {
			w.f.block(w.nextTime(), func(b *blk) {
				for j, txs := 0, rapid.IntRange(1, 6).Draw(rt, "txs"); j < txs; j++ {
					w.step(b)
				}
			})
			w.m.check(w.f.base, w.f.time)
		}
	})
}

// The fuzzed governance: a fixed network of four partners (g0…g3) and four outsiders
// (g4…g7), and a byte string read three bytes at a time as a step.
const (
	fuzzGovSeconds = 3600
	fuzzGovOpBlock = 6 // starts a new block, (a+1) minutes later
)

// fuzzGovOp is one step: an op, a sender and an argument.
type fuzzGovOp struct{ op, a, b byte }

func fuzzGovBytes(ops ...fuzzGovOp) []byte {
	var out []byte
	for _, o := range ops {
		out = append(out, o.op, o.a, o.b)
	}
	return out
}

// fuzzGovPayload decodes one step (other than a new block): 0, 1 and 7 approve proposal
// b mod (last id + 2), so 0 and an unknown id too; 2 admits, 3 removes, 4 rotates (b's low
// bits the partner, the next the new key), 5 registers a program.
func fuzzGovPayload(o fuzzGovOp, lastID uint64) chain.Payload {
	addr := func(x byte) chain.Address { return govPool[x%8] }
	switch o.op % 8 {
	case 2:
		return admit(addr(o.b), "Fuzz")
	case 3:
		return remove(addr(o.b))
	case 4:
		return rotate(addr(o.b), addr(o.b>>3))
	case 5:
		return &chain.RegisterProgram{Symbol: govSymbols[2+int(o.b)%4], Name: "fuzz"}
	default:
		return approve(uint64(o.b) % (lastID + 2))
	}
}

// FuzzGovernance checks, without a model, what must hold whatever the transactions: the
// partner count is the number of partner records; a proposal executes or fails at most once,
// at a transaction that found more than two thirds of the then eligible partners approving
// (recomputed from the partner set the entries imply), and a proposal left open by its own
// transaction did not reach that; closed proposals never change; ids run 1, 2, … without
// reuse; and a refused transaction changes nothing (the fixture checks that).
func FuzzGovernance(f *testing.F) {
	f.Add(fuzzGovBytes( // admit g4: executes at the third of four, then closed
		fuzzGovOp{2, 0, 4}, fuzzGovOp{0, 1, 1}, fuzzGovOp{0, 2, 1}, fuzzGovOp{0, 3, 1}))
	f.Add(fuzzGovBytes( // remove g3, whose own approval does not count; then g3 is refused
		fuzzGovOp{3, 3, 3}, fuzzGovOp{0, 0, 1}, fuzzGovOp{0, 1, 1}, fuzzGovOp{fuzzGovOpBlock, 0, 0},
		fuzzGovOp{0, 2, 1}, fuzzGovOp{2, 3, 5}))
	f.Add(fuzzGovBytes( // rotate g0 to g5, then the old key proposes and the new one approves
		fuzzGovOp{5, 0, 0}, fuzzGovOp{2, 1, 6}, fuzzGovOp{4, 0, 0 | 5<<3}, fuzzGovOp{0, 1, 2},
		fuzzGovOp{0, 2, 2}, fuzzGovOp{0, 0, 1}, fuzzGovOp{0, 5, 1}, fuzzGovOp{0, 2, 1}))
	f.Add(fuzzGovBytes( // a proposal expires
		fuzzGovOp{2, 0, 4}, fuzzGovOp{0, 1, 1}, fuzzGovOp{fuzzGovOpBlock, 59, 0}, fuzzGovOp{0, 2, 1},
		fuzzGovOp{fuzzGovOpBlock, 0, 0}, fuzzGovOp{0, 2, 1}))
	f.Add(fuzzGovBytes( // two admissions of g4: the second fails already_partner
		fuzzGovOp{2, 0, 4}, fuzzGovOp{2, 1, 4}, fuzzGovOp{0, 1, 1}, fuzzGovOp{0, 0, 2},
		fuzzGovOp{0, 2, 1}, fuzzGovOp{0, 2, 2}, fuzzGovOp{0, 3, 2}, fuzzGovOp{0, 4, 2}))
	f.Add(fuzzGovBytes( // removals that shrink the set under an open proposal
		fuzzGovOp{3, 0, 1}, fuzzGovOp{0, 2, 1}, fuzzGovOp{3, 0, 3}, fuzzGovOp{0, 1, 2},
		fuzzGovOp{0, 2, 2}, fuzzGovOp{0, 1, 1}, fuzzGovOp{3, 0, 2}, fuzzGovOp{0, 0, 3}))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 3*120 {
			data = data[:3*120]
		}
		var blocks [][]fuzzGovOp
		gaps := []uint64{60}
		cur := []fuzzGovOp{}
		for i := 0; i+3 <= len(data); i += 3 {
			o := fuzzGovOp{data[i], data[i+1], data[i+2]}
			if o.op%8 == fuzzGovOpBlock {
				blocks, cur = append(blocks, cur), []fuzzGovOp{}
				gaps = append(gaps, (uint64(o.a)+1)*60)
				continue
			}
			cur = append(cur, o)
		}
		blocks = append(blocks, cur)
		fz := newFuzzGov(t)
		for i, ops := range blocks {
			fz.f.block(fz.f.time+gaps[i], func(b *blk) {
				for _, o := range ops {
					fz.step(b, o)
				}
			})
			fz.checkPartners(fz.f.base)
		}
	})
}

// fuzzGov is what FuzzGovernance tracks: the partner set the entries imply, the last id, the
// closed proposals' records, and how often each proposal closed.
type fuzzGov struct {
	t        *testing.T
	f        *stateFixture
	partners map[chain.Address]bool
	lastID   uint64
	closed   map[uint64][]byte
	closings map[uint64]int
}

func newFuzzGov(t *testing.T) *fuzzGov {
	f := newStateFixture(t, chain.DefaultParams(), govPool[:4], func(g *chain.Genesis) {
		g.ProtocolVersion, g.Governance = chain.Version2, &chain.GovernanceParams{ProposalSeconds: fuzzGovSeconds}
	})
	fz := &fuzzGov{t: t, f: f, partners: map[chain.Address]bool{}, closed: map[uint64][]byte{}, closings: map[uint64]int{}}
	for _, a := range govPool[:4] {
		fz.partners[a] = true
	}
	return fz
}

func (fz *fuzzGov) step(b *blk, o fuzzGovOp) {
	t := fz.t
	var sender chain.Address
	if o.op%8 == 7 {
		// Usually a current partner, so proposals pass.
		ps := sortAddrs(slices.Collect(maps.Keys(fz.partners)))
		sender = ps[int(o.a)%len(ps)]
	} else {
		sender = govPool[o.a%8]
	}
	p := fuzzGovPayload(o, fz.lastID)
	es, err := b.send(sender, chain.NewTx(testChainID, fz.f.nonces[sender], 0, p))
	v := b.view()
	fz.checkClosed(v)
	if err != nil {
		return
	}
	var id uint64
	switch p := p.(type) {
	case *chain.Propose:
		id = fz.lastID + 1
		if n := govCounter(t, v, "G"); n != id {
			t.Fatalf("a proposal after id %d recorded last id %d", fz.lastID, n)
		}
		fz.lastID = id
	case *chain.Approve:
		id = p.Proposal
		if id == 0 || id > fz.lastID {
			t.Fatalf("approval of proposal %d applied, the last id is %d", id, fz.lastID)
		}
	default:
		if len(es) != 0 {
			t.Fatalf("%s: entries %s", govPayload(p), govEntries(es))
		}
		return
	}
	raw, ok := v[string(chain.ProposalKey(id))]
	if !ok {
		t.Fatalf("no record of proposal %d", id)
	}
	prop, err := chain.DecodeProposal(raw)
	if err != nil {
		t.Fatal(err)
	}
	if prop.ID != id {
		t.Fatalf("record of proposal %d has id %d", id, prop.ID)
	}
	ref := govRef(id, prop.Action)
	// The executing or failing entries of this proposal, all for this proposal.
	var exec, failed []chain.Entry
	for _, e := range es {
		switch e.Cause {
		case chain.CausePartnerAdmitted, chain.CausePartnerRemoved, chain.CauseOwnerKeyRotated:
			exec = append(exec, e)
		case chain.CauseProposalFailed:
			failed = append(failed, e)
		}
		if !strings.HasPrefix(e.Ref, ref) || e.Program != "" || e.Credit != 0 || e.Debit != 0 {
			t.Fatalf("%s by %s: entry %s is not a pointless entry of %s", govPayload(p), govName(sender), govEntries([]chain.Entry{e}), ref)
		}
	}
	isPartner := func(a chain.Address) bool { return fz.partners[a] }
	counted, eligible := govTally(prop.Approvals, prop.Action, prop.Partner, isPartner, len(fz.partners))
	switch prop.Status {
	case chain.ProposalOpen:
		if len(exec)+len(failed) > 0 {
			t.Fatalf("proposal %d open after entries %s", id, govEntries(es))
		}
		if 3*counted > 2*eligible {
			t.Fatalf("proposal %d left open by %s of %s with %d of %d eligible approving (approvals %s)",
				id, govPayload(p), govName(sender), counted, eligible, govNames(prop.Approvals))
		}
		return
	case chain.ProposalExecuted:
		if len(exec) == 0 || len(failed) > 0 {
			t.Fatalf("proposal %d executed with entries %s", id, govEntries(es))
		}
	case chain.ProposalFailed:
		if len(exec) > 0 || len(failed) != 1 || failed[0].Ref != ref+":"+prop.Code || failed[0].Account != prop.Proposer {
			t.Fatalf("proposal %d failed (%s) with entries %s", id, prop.Code, govEntries(es))
		}
	}
	if prop.Closed != fz.f.height+1 {
		t.Fatalf("proposal %d closed at height %d, in the block of height %d", id, prop.Closed, fz.f.height+1)
	}
	if fz.closings[id]++; fz.closings[id] > 1 {
		t.Fatalf("proposal %d closed twice", id)
	}
	if 3*counted <= 2*eligible {
		t.Fatalf("proposal %d closed (%d) by %s of %s with %d of %d eligible approving (approvals %s, partners %s)",
			id, prop.Status, govPayload(p), govName(sender), counted, eligible, govNames(prop.Approvals),
			govNames(sortAddrs(slices.Collect(maps.Keys(fz.partners)))))
	}
	fz.closed[id] = slices.Clone(raw)
	for _, e := range exec {
		switch e.Cause {
		case chain.CausePartnerAdmitted:
			fz.partners[e.Account] = true
		case chain.CausePartnerRemoved:
			delete(fz.partners, e.Account)
		case chain.CauseOwnerKeyRotated:
			if e.Account == prop.Partner {
				delete(fz.partners, e.Account)
				fz.partners[e.Counterparty] = true
			}
		}
	}
	fz.checkPartners(v)
}

// checkClosed: a closed proposal's record never changes.
func (fz *fuzzGov) checkClosed(v memReader) {
	for id, raw := range fz.closed {
		if now := v[string(chain.ProposalKey(id))]; !bytes.Equal(now, raw) {
			fz.t.Fatalf("closed proposal %d changed: %x → %x", id, raw, now)
		}
	}
}

// checkPartners: the partner records are the set the entries imply, and the count is theirs.
func (fz *fuzzGov) checkPartners(v memReader) {
	t := fz.t
	got := map[chain.Address]bool{}
	if err := chain.ForEachPartner(v.scan, func(p chain.PartnerInfo) error { got[p.Address] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, fz.partners) {
		t.Fatalf("partner records %s, the entries imply %s", govNames(sortAddrs(slices.Collect(maps.Keys(got)))),
			govNames(sortAddrs(slices.Collect(maps.Keys(fz.partners)))))
	}
	if n := govCounter(t, v, "M"); n != uint64(len(got)) {
		t.Fatalf("partner count %d, %d partner records", n, len(got))
	}
}
