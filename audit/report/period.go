package report

import (
	"fmt"

	"github.com/loyal-ledger/loyal/audit/verify"
	"github.com/loyal-ledger/loyal/chain"
)

// period is a statement being tallied: its days, the state it opens with, and what only
// the period's blocks tell — who had entries, who earned, which payments were recorded.
type period struct {
	from, to chain.Day // to is openEnd until the chain or the as-of height ends it
	open     *snapshot
	active   map[string]map[chain.Address]struct{} // program → accounts with an entry
	earns    map[string]map[chain.Address]uint64   // program → account → earn credits
	payments map[pair][]Payment
}

// openEnd is the last day of a period whose end is the as-of height or the chain's end.
const openEnd = ^chain.Day(0)

func newPeriod(from, to chain.Day, open *snapshot) *period {
	return &period{
		from: from, to: to, open: open,
		active: map[string]map[chain.Address]struct{}{}, earns: map[string]map[chain.Address]uint64{},
		payments: map[pair][]Payment{},
	}
}

// tally counts a block of the period.
func (p *period) tally(ob *verify.Observed) {
	for _, entries := range ob.Entries {
		for _, e := range entries {
			if e.Program == "" {
				continue // a governance step: it moves no points (ADR 0009)
			}
			set := p.active[e.Program]
			if set == nil {
				set = map[chain.Address]struct{}{}
				p.active[e.Program] = set
			}
			set[e.Account] = struct{}{}
			if e.Cause != chain.CauseEarn {
				continue
			}
			n := p.earns[e.Program]
			if n == nil {
				n = map[chain.Address]uint64{}
				p.earns[e.Program] = n
			}
			n[e.Account]++
		}
	}
	h := &ob.Block.Header
	for _, tx := range ob.Block.Txs {
		if s, ok := tx.Payload.(*chain.Settle); ok {
			k := pair{s.Counterparty, s.Program}
			p.payments[k] = append(p.payments[k], Payment{Height: h.Height, Time: h.Time, Tx: tx.Hash(), Amount: s.Amount})
		}
	}
}

// close makes the statement of the period closing with state end on day to.
func (p *period) close(end *snapshot, to chain.Day, incomplete bool) (Statement, error) {
	if end.height == 0 {
		return Statement{}, fmt.Errorf("%w: %s is before the chain's first block", ErrNoBlock, Date(to))
	}
	st := Statement{
		FromDate: Date(p.from), ToDate: Date(to), FromHeight: p.open.height, ToHeight: end.height, ToTime: end.time,
		Incomplete: incomplete, Programs: []ProgramFigures{}, Settlement: []PositionFigures{},
	}
	for _, sym := range end.symbols() {
		st.Programs = append(st.Programs, p.program(sym, end.programs[sym]))
	}
	for _, k := range end.pairs() {
		f, err := p.position(k, end)
		if err != nil {
			return Statement{}, err
		}
		st.Settlement = append(st.Settlement, f)
	}
	return st, nil
}

// program is a program's figures: flows are differences of the program's running totals
// between the two states (a program registered in the period opens with zero totals).
func (p *period) program(sym string, end programAt) ProgramFigures {
	o, c := p.open.programs[sym].stats, end.stats
	f := ProgramFigures{
		Symbol: sym, Owner: end.owner, Opening: o.Outstanding(),
		Issued: c.Earned - o.Earned, Reversed: c.Reversed - o.Reversed, Unrecovered: c.Unrecovered - o.Unrecovered,
		Redeemed: c.Redeemed - o.Redeemed, Expired: c.Expired - o.Expired,
		ExchangedOut: c.ExchangedOut - o.ExchangedOut, ExchangedIn: c.ExchangedIn - o.ExchangedIn,
		Outstanding: c.Outstanding(), Pending: end.pending, Holders: end.holders,
		ActiveMembers: uint64(len(p.active[sym])),
	}
	for _, n := range p.earns[sym] {
		if n >= 2 {
			f.RepeatEarners++
		}
	}
	entered := f.Issued + f.ExchangedIn // no overflow: a program's supply is checked to fit
	f.RedemptionRate, f.BreakageRate = ratio(f.Redeemed, entered), ratio(f.Expired, entered)
	return f
}

// position is a settlement matrix cell: differences of the position between the two states,
// with the payments recorded, which must add up to what was settled.
func (p *period) position(k pair, end *snapshot) (PositionFigures, error) {
	o, c := p.open.positions[k], end.positions[k]
	f := PositionFigures{
		Debtor: k.debtor, Creditor: k.creditor,
		DebtorOwner: end.programs[k.debtor].owner, CreditorOwner: end.programs[k.creditor].owner,
		Opening: o.Open(), Owed: c.Owed - o.Owed, Settled: c.Settled - o.Settled, Open: c.Open(),
		OwedTotal: c.Owed, SettledTotal: c.Settled, Payments: p.payments[k],
	}
	if f.Payments == nil {
		f.Payments = []Payment{}
	}
	var paid uint64
	for _, pay := range f.Payments {
		paid += pay.Amount
	}
	if paid != f.Settled {
		return f, fmt.Errorf("%w: heights %d to %d: %s>%s settled %d, the payments recorded add up to %d",
			ErrInconsistent, p.open.height, end.height, k.debtor, k.creditor, f.Settled, paid)
	}
	return f, nil
}
