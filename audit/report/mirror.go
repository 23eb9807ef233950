package report

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/loyal-ledger/loyal/audit/verify"
	"github.com/loyal-ledger/loyal/chain"
)

// pair names a settlement position: what the owner of debtor owes the owner of creditor.
type pair struct{ debtor, creditor string }

func (p pair) compare(q pair) int {
	if c := strings.Compare(p.debtor, q.debtor); c != 0 {
		return c
	}
	return strings.Compare(p.creditor, q.creditor)
}

// mirror is the part of the state a report reads, as of the last block observed: every
// program, every account record with a balance, every settlement position. Observed state
// is valid only during the Observe call, and a period's end is known only when a block of a
// later day arrives, so the report keeps its own copy, updated with the records each block
// touched. It costs the accounts' records once more in memory.
type mirror struct {
	height, time uint64
	programs     map[string]*chain.Program // nil until the first block
	accounts     map[chain.Address][]byte  // encoded records
	positions    map[pair]chain.Position
	last         *snapshot // of the state as it is, until the next update
}

func newMirror() mirror {
	return mirror{accounts: map[chain.Address][]byte{}, positions: map[pair]chain.Position{}}
}

// update copies the records the block touched: every program (expiry changes a program's
// record in any block that starts a new day), the accounts of its entries — every change of
// a balance is an entry of its account — and the positions of its exchanges and settlements.
func (m *mirror) update(ob *verify.Observed) error {
	h := &ob.Block.Header
	m.height, m.time, m.last = h.Height, h.Time, nil
	if m.programs == nil {
		m.programs = map[string]*chain.Program{}
		if err := chain.ForEachProgram(ob.Scan, func(p *chain.Program) error {
			m.programs[p.Symbol] = p
			return nil
		}); err != nil {
			return fmt.Errorf("report: block %d: %w", h.Height, err)
		}
	}
	touched := map[pair]bool{}
	for _, tx := range ob.Block.Txs {
		switch p := tx.Payload.(type) {
		case *chain.RegisterProgram:
			m.programs[p.Symbol] = nil
		case *chain.Exchange:
			touched[pair{p.From, p.To}] = true
		case *chain.Settle:
			touched[pair{p.Counterparty, p.Program}] = true
		}
	}
	for sym := range m.programs {
		raw, err := ob.State.Get(chain.ProgramKey(sym))
		if err == nil && raw == nil {
			err = fmt.Errorf("%w: program %s has no record", ErrInconsistent, sym)
		}
		if err != nil {
			return fmt.Errorf("report: block %d: %w", h.Height, err)
		}
		if m.programs[sym], err = chain.DecodeProgram(raw); err != nil {
			return fmt.Errorf("report: block %d: program %s: %w", h.Height, sym, err)
		}
	}
	for _, entries := range ob.Entries {
		for _, e := range entries {
			raw, err := ob.State.Get(chain.AccountKey(e.Account))
			if err != nil {
				return fmt.Errorf("report: block %d: %w", h.Height, err)
			}
			if raw == nil {
				delete(m.accounts, e.Account)
				continue
			}
			m.accounts[e.Account] = bytes.Clone(raw)
		}
	}
	for p := range touched {
		raw, err := ob.State.Get(chain.PositionKey(p.debtor, p.creditor))
		if err != nil {
			return fmt.Errorf("report: block %d: %w", h.Height, err)
		}
		pos, err := chain.DecodePosition(raw)
		if err != nil {
			return fmt.Errorf("report: block %d: position %s>%s: %w", h.Height, p.debtor, p.creditor, err)
		}
		m.positions[p] = *pos
	}
	return nil
}

// snapshot is the state a statement opens or closes with: after block height (0: the
// genesis, where no program has a figure yet).
type snapshot struct {
	height, time uint64
	programs     map[string]programAt
	positions    map[pair]chain.Position
}

// programAt is a program's record and its holders' balances at a height.
type programAt struct {
	owner   chain.Address
	stats   chain.ProgramStats
	held    uint64 // Σ holders' Total, pending included
	pending uint64 // Σ holders' Pending
	holders uint64 // accounts with a Total above zero
}

func (s *snapshot) symbols() []string { return slices.Sorted(maps.Keys(s.programs)) }

func (s *snapshot) pairs() []pair {
	return slices.SortedFunc(maps.Keys(s.positions), pair.compare)
}

// snapshot computes the figures of the mirrored state: each program's record, and its
// holders' balances as of the day of the last block — the day the chain last counted
// expiries through — which must add up to the program's outstanding points. Statements that
// close and open on one state (months without a block) share one snapshot, which nobody
// changes.
func (m *mirror) snapshot() (*snapshot, error) {
	if m.last != nil {
		return m.last, nil
	}
	s := &snapshot{height: m.height, time: m.time, programs: map[string]programAt{}, positions: maps.Clone(m.positions)}
	for sym, p := range m.programs {
		s.programs[sym] = programAt{owner: p.Owner, stats: p.Stats}
	}
	today := chain.DayOf(m.time)
	for a, raw := range m.accounts {
		acc, err := chain.DecodeAccount(raw)
		if err != nil {
			return nil, fmt.Errorf("report: height %d: account %s: %w", m.height, a, err)
		}
		for i := range acc.Holdings {
			h := &acc.Holdings[i]
			p, ok := s.programs[h.Program]
			if !ok {
				return nil, fmt.Errorf("%w: height %d: %s holds points of %s, which has no record", ErrInconsistent, m.height, a, h.Program)
			}
			if total := h.Balance.Total(today); total > 0 {
				p.held += total
				p.pending += h.Balance.Pending(today)
				p.holders++
			}
			s.programs[h.Program] = p
		}
	}
	for sym, p := range s.programs {
		if p.held != p.stats.Outstanding() {
			return nil, fmt.Errorf("%w: height %d: %s has %d points outstanding, its holders hold %d",
				ErrInconsistent, m.height, sym, p.stats.Outstanding(), p.held)
		}
	}
	m.last = s
	return s, nil
}
