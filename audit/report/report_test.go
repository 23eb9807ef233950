package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/audit/export"
	"github.com/loyal-ledger/loyal/audit/internal/testchain"
	"github.com/loyal-ledger/loyal/audit/report"
	"github.com/loyal-ledger/loyal/audit/verify"
	"github.com/loyal-ledger/loyal/chain"
)

type fixture struct {
	c   *testchain.Chain
	raw []byte
	m   *model
}

// build generates a chain spread over four calendar months (2025-06-15 to early September):
// blocks six hours apart, and nine days more after every fifth pair, so that ACME's points
// (three-day expiry) and BETA's (ten days after a one-day return window) mature and expire
// along the way, with refunds recovered from pending points and refunds of spent points. It
// exports the chain and replays it with the model.
func build(t *testing.T) *fixture {
	t.Helper()
	c := testchain.Build(t, testchain.Options{Blocks: 38, DayStep: 9, BlockSeconds: 6 * 3600, Refunds: true})
	var buf bytes.Buffer
	w, err := export.NewWriter(&buf, c.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	for _, blk := range c.Blocks {
		if err := w.Block(blk); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finish(c.Final); err != nil {
		t.Fatal(err)
	}
	return &fixture{c: c, raw: buf.Bytes(), m: replay(t, c)}
}

// run builds a report of the fixture's chain with o, through a verification.
func (f *fixture) run(t *testing.T, o report.Options) (*report.Report, error) {
	t.Helper()
	b, err := report.New(o)
	if err != nil {
		return nil, err
	}
	r, err := export.NewReader(bytes.NewReader(f.raw))
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.Verify(context.Background(), r, verify.Options{StopAt: b.StopAt(), Observe: b.Observe})
	if err != nil {
		return nil, err
	}
	return b.Finish(v)
}

// day is the UTC day of a date written YYYY-MM-DD.
func day(t *testing.T, s string) chain.Day {
	tm, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return chain.Day(tm.Unix() / 86400)
}

// lastAtOrBefore is the height of the last block whose day is at most d (0: none), as the
// docs define the state a date stands for.
func (f *fixture) lastAtOrBefore(d chain.Day, maxHeight uint64) uint64 {
	var h uint64
	for _, a := range f.m.heights[1:] {
		if chain.DayOf(a.time) <= d && a.height <= maxHeight {
			h = a.height
		}
	}
	return h
}

// expect is the statement the model gives for the blocks after height from up to height to,
// labelled with its days.
func (f *fixture) expect(fromDay, toDay chain.Day, from, to uint64, incomplete bool) report.Statement {
	o, c := f.m.heights[from], f.m.heights[to]
	st := report.Statement{
		FromDate: report.Date(fromDay), ToDate: report.Date(toDay), FromHeight: from, ToHeight: to, ToTime: c.time,
		Incomplete: incomplete, Programs: []report.ProgramFigures{}, Settlement: []report.PositionFigures{},
	}
	active := map[string]map[chain.Address]bool{}
	earns := map[string]map[chain.Address]int{}
	var payments []payment
	for _, a := range f.m.heights[from+1 : to+1] {
		for _, e := range a.events {
			if active[e.program] == nil {
				active[e.program], earns[e.program] = map[chain.Address]bool{}, map[chain.Address]int{}
			}
			if e.earn {
				earns[e.program][e.account]++
			} else {
				active[e.program][e.account] = true
			}
		}
		payments = append(payments, a.payments...)
	}
	for _, sym := range slices.Sorted(maps.Keys(c.totals)) {
		ot, ct := o.totals[sym], c.totals[sym]
		outstanding := func(t totals) uint64 { return t.earned + t.exIn - t.reversed - t.redeemed - t.expired - t.exOut }
		p := report.ProgramFigures{
			Symbol: sym, Owner: c.owners[sym], Opening: outstanding(ot),
			Issued: ct.earned - ot.earned, Reversed: ct.reversed - ot.reversed, Unrecovered: ct.unrecovered - ot.unrecovered,
			Redeemed: ct.redeemed - ot.redeemed, Expired: ct.expired - ot.expired,
			ExchangedOut: ct.exOut - ot.exOut, ExchangedIn: ct.exIn - ot.exIn,
			Outstanding: c.held[sym].total, Pending: c.held[sym].pending, Holders: c.held[sym].holders,
			ActiveMembers: uint64(len(active[sym])),
		}
		if outstanding(ct) != c.held[sym].total {
			panic("the model does not conserve " + sym)
		}
		for _, n := range earns[sym] {
			if n >= 2 {
				p.RepeatEarners++
			}
		}
		if in := p.Issued + p.ExchangedIn; in > 0 {
			p.RedemptionRate = report.Rate{BPS: p.Redeemed * 10000 / in, Defined: true}
			p.BreakageRate = report.Rate{BPS: p.Expired * 10000 / in, Defined: true}
		}
		st.Programs = append(st.Programs, p)
	}
	for _, r := range slices.SortedFunc(maps.Keys(c.owed), func(x, y route) int {
		return strings.Compare(x.from+"\x00"+x.to, y.from+"\x00"+y.to)
	}) {
		p := report.PositionFigures{
			Debtor: r.from, Creditor: r.to, DebtorOwner: c.owners[r.from], CreditorOwner: c.owners[r.to],
			Opening: o.owed[r] - o.settled[r], Owed: c.owed[r] - o.owed[r], Settled: c.settled[r] - o.settled[r],
			Open: c.owed[r] - c.settled[r], OwedTotal: c.owed[r], SettledTotal: c.settled[r], Payments: []report.Payment{},
		}
		for _, pay := range payments {
			if pay.debtor == r.from && pay.creditor == r.to {
				p.Payments = append(p.Payments, report.Payment{Height: pay.height, Time: pay.time, Tx: pay.tx, Amount: pay.amount})
			}
		}
		st.Settlement = append(st.Settlement, p)
	}
	return st
}

// same fails t with both statements, as JSON, unless they are equal.
func same(t *testing.T, what string, got, want []report.Statement) {
	t.Helper()
	g, _ := json.MarshalIndent(got, "", " ")
	w, _ := json.MarshalIndent(want, "", " ")
	if !bytes.Equal(g, w) {
		t.Fatalf("%s:\ngot  %s\nwant %s", what, g, w)
	}
}
