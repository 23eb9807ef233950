package report_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/loyal-ledger/loyal/audit/internal/testchain"
	"github.com/loyal-ledger/loyal/chain"
)

// The test's own account of a chain, to check the report against: the raw blocks replayed
// with the ledger's rules written out plainly — lots with an expiry and a pending day, spent
// oldest expiry first, expired in the first block of their expiry day — and every figure a
// straightforward tally. It shares no code with the report, nor with the ledger beyond the
// transaction types and the signer that names each transaction's sender.

type lot struct {
	amount    uint64
	expiry    chain.Day // chain.NeverExpires: never
	available chain.Day // pending while after today
}

type order struct {
	to                chain.Address
	amount            uint64
	expiry, available chain.Day
}

// totals are a program's running flows since genesis.
type totals struct{ earned, reversed, unrecovered, redeemed, expired, exIn, exOut uint64 }

type route struct{ from, to string }

// event is one account touched in one program by a block, or an earn credit.
type event struct {
	program string
	account chain.Address
	earn    bool
}

type payment struct {
	height, time uint64
	tx           chain.Hash
	debtor       string
	creditor     string
	amount       uint64
}

// held is a program's holders' points at a height.
type held struct{ total, pending, holders uint64 }

// at is the model after one block.
type at struct {
	height, time uint64
	totals       map[string]totals
	owners       map[string]chain.Address
	held         map[string]held
	owed         map[route]uint64
	settled      map[route]uint64
	events       []event   // of this block
	payments     []payment // of this block
}

type model struct {
	t        *testing.T
	signer   *chain.Signer
	policy   map[string]chain.Policy
	owner    map[string]chain.Address
	rate     map[route][2]uint64
	lots     map[chain.Address]map[string][]lot
	orders   map[string]order // program + "\x00" + ref
	totals   map[string]*totals
	owed     map[route]uint64
	settled  map[route]uint64
	today    chain.Day
	events   []event
	payments []payment
	heights  []at // heights[0] is the genesis
}

// replay runs the model over a generated chain.
func replay(t *testing.T, c *testchain.Chain) *model {
	m := &model{
		t: t, signer: chain.NewSigner(c.Genesis.ChainID, c.Genesis.Hash()),
		policy: map[string]chain.Policy{}, owner: map[string]chain.Address{}, rate: map[route][2]uint64{},
		lots: map[chain.Address]map[string][]lot{}, orders: map[string]order{}, totals: map[string]*totals{},
		owed: map[route]uint64{}, settled: map[route]uint64{},
	}
	for _, p := range c.Genesis.Programs {
		m.policy[p.Symbol], m.owner[p.Symbol], m.totals[p.Symbol] = p.Policy, p.Owner, &totals{}
	}
	m.heights = append(m.heights, at{totals: map[string]totals{}, owners: map[string]chain.Address{}, held: map[string]held{},
		owed: map[route]uint64{}, settled: map[route]uint64{}})
	for _, blk := range c.Blocks {
		m.block(blk)
	}
	return m
}

func (m *model) block(blk *chain.Block) {
	h := blk.Header
	m.today = chain.DayOf(h.Time)
	m.events, m.payments = nil, nil
	// Points expire in the first block of their expiry day, pending or not.
	for _, progs := range m.lots {
		for sym, lots := range progs {
			progs[sym] = slices.DeleteFunc(lots, func(l lot) bool {
				if l.expiry != chain.NeverExpires && l.expiry <= m.today {
					m.totals[sym].expired += l.amount
					return true
				}
				return false
			})
		}
	}
	for _, tx := range blk.Txs {
		sender, err := m.signer.Sender(tx)
		if err != nil {
			m.t.Fatal(err)
		}
		m.tx(h, tx, sender)
	}
	a := at{height: h.Height, time: h.Time, totals: map[string]totals{}, owners: maps.Clone(m.owner), held: map[string]held{},
		owed: maps.Clone(m.owed), settled: maps.Clone(m.settled), events: m.events, payments: m.payments}
	for sym, t := range m.totals {
		a.totals[sym] = *t
		a.held[sym] = held{}
	}
	for _, progs := range m.lots {
		for sym, lots := range progs {
			var total, pending uint64
			available := 0
			for _, l := range lots {
				total += l.amount
				if l.available > m.today {
					pending += l.amount
				} else {
					available++
				}
			}
			if available > 64 {
				m.t.Fatalf("an account holds %d available lots: the model does not merge lots at the bound", available)
			}
			x := a.held[sym]
			if total > 0 {
				x.total, x.pending, x.holders = x.total+total, x.pending+pending, x.holders+1
			}
			a.held[sym] = x
		}
	}
	m.heights = append(m.heights, a)
}

func (m *model) touch(sym string, a chain.Address) {
	m.events = append(m.events, event{program: sym, account: a})
}

func (m *model) tx(h chain.Header, tx *chain.Tx, sender chain.Address) {
	switch p := tx.Payload.(type) {
	case *chain.RegisterProgram:
		m.policy[p.Symbol], m.owner[p.Symbol], m.totals[p.Symbol] = p.Policy, sender, &totals{}
	case *chain.SetRate:
		m.rate[route{p.From, p.To}] = [2]uint64{p.Numerator, p.Denominator}
	case *chain.Earn:
		pol := m.policy[p.Program]
		available, expiry := m.today, chain.NeverExpires
		if pol.PendingDays > 0 {
			available += chain.Day(pol.PendingDays) + 1
		}
		if pol.ExpiryDays > 0 {
			expiry = available + chain.Day(pol.ExpiryDays)
		}
		if pol.PendingDays == 0 {
			available = 0
		}
		for _, c := range p.Credits {
			m.totals[p.Program].earned += c.Amount
			m.add(c.To, p.Program, lot{amount: c.Amount, expiry: expiry, available: available})
			m.orders[p.Program+"\x00"+c.OrderRef] = order{to: c.To, amount: c.Amount, expiry: expiry, available: available}
			m.touch(p.Program, c.To)
			m.events = append(m.events, event{program: p.Program, account: c.To, earn: true})
		}
	case *chain.Reverse:
		o := m.orders[p.Program+"\x00"+p.OrderRef]
		left := p.Amount
		lots := m.lots[o.to][p.Program]
		for i := range lots { // the order's own points while pending
			if l := &lots[i]; l.expiry == o.expiry && l.available == o.available && l.available > m.today {
				n := min(l.amount, left)
				l.amount -= n
				left -= n
			}
		}
		m.lots[o.to][p.Program] = slices.DeleteFunc(lots, func(l lot) bool { return l.amount == 0 })
		taken := m.spend(o.to, p.Program, min(left, m.available(o.to, p.Program)))
		left -= sum(taken)
		m.totals[p.Program].reversed += p.Amount - left
		m.totals[p.Program].unrecovered += left
		m.touch(p.Program, o.to)
	case *chain.Transfer:
		for _, l := range m.spend(sender, p.Program, p.Amount) {
			m.add(p.To, p.Program, l)
		}
		m.touch(p.Program, sender)
		m.touch(p.Program, p.To)
	case *chain.Redeem:
		m.spend(sender, p.Program, p.Amount)
		m.totals[p.Program].redeemed += p.Amount
		m.touch(p.Program, sender)
	case *chain.Exchange:
		taken := m.spend(sender, p.From, p.Amount)
		r := m.rate[route{p.From, p.To}]
		out := p.Amount * r[0] / r[1]
		expiry := chain.NeverExpires
		if days := m.policy[p.To].ExpiryDays; days > 0 {
			expiry = m.today + chain.Day(days)
		}
		expiry = min(expiry, taken[0].expiry)
		m.add(sender, p.To, lot{amount: out, expiry: expiry})
		m.totals[p.From].exOut += p.Amount
		m.totals[p.To].exIn += out
		m.owed[route{p.From, p.To}] += out
		m.touch(p.From, sender)
		m.touch(p.To, sender)
	case *chain.Settle:
		m.settled[route{p.Counterparty, p.Program}] += p.Amount
		m.payments = append(m.payments, payment{height: h.Height, time: h.Time, tx: tx.Hash(), debtor: p.Counterparty, creditor: p.Program, amount: p.Amount})
	default:
		m.t.Fatalf("the model does not replay %s transactions", tx.Kind())
	}
}

func (m *model) add(a chain.Address, sym string, l lot) {
	if m.lots[a] == nil {
		m.lots[a] = map[string][]lot{}
	}
	m.lots[a][sym] = append(m.lots[a][sym], l)
}

func (m *model) available(a chain.Address, sym string) uint64 {
	var n uint64
	for _, l := range m.lots[a][sym] {
		if l.available <= m.today {
			n += l.amount
		}
	}
	return n
}

// spend takes amount of available points, oldest expiry first, and returns the lots taken.
func (m *model) spend(a chain.Address, sym string, amount uint64) []lot {
	if have := m.available(a, sym); have < amount {
		m.t.Fatalf("the model has %d available %s for %s, the chain spent %d", have, sym, a, amount)
	}
	lots := m.lots[a][sym]
	slices.SortStableFunc(lots, func(x, y lot) int { return int(int64(x.expiry) - int64(y.expiry)) })
	var taken []lot
	for i := range lots {
		if l := &lots[i]; amount > 0 && l.available <= m.today {
			n := min(l.amount, amount)
			taken = append(taken, lot{amount: n, expiry: l.expiry})
			l.amount -= n
			amount -= n
		}
	}
	m.lots[a][sym] = slices.DeleteFunc(lots, func(l lot) bool { return l.amount == 0 })
	return taken
}

func sum(lots []lot) uint64 {
	var n uint64
	for _, l := range lots {
		n += l.amount
	}
	return n
}
