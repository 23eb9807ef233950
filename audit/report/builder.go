package report

import (
	"errors"
	"fmt"

	"github.com/loyal-ledger/loyal/audit/verify"
	"github.com/loyal-ledger/loyal/chain"
)

// Options say which statements a report holds. The zero value is one statement from the
// chain's first block to its last.
type Options struct {
	// From is the first UTC day reported (0: the day of the chain's first block). The first
	// statement opens with the state after the last block before it.
	From chain.Day
	// To, if not 0, is the last UTC day reported: the report is as of the last block at or
	// before the end of that day.
	To chain.Day
	// Height, if not 0, is the as-of height instead of To: the last block reported. Pass
	// StopAt to verify.Options so that the verification stops there too.
	Height uint64
	// Monthly splits the days reported into calendar months, one statement each.
	Monthly bool
}

func (o Options) check() error {
	switch {
	case o.To != 0 && o.Height != 0:
		return fmt.Errorf("%w: an as-of height and a last day both end the report; give one", ErrBadOptions)
	case o.To != 0 && o.From > o.To:
		return fmt.Errorf("%w: the first day %s is after the last day %s", ErrBadOptions, Date(o.From), Date(o.To))
	}
	return nil
}

// Builder builds a report from the blocks of a verification, in order, through Observe
// (verify.Options.Observe); Finish returns the report once the verification has succeeded.
// It is not safe for concurrent use; Verify calls Observe from one goroutine.
type Builder struct {
	o     Options
	m     mirror
	phase phase
	cur   *period // while phase is during
	out   []Statement
}

type phase int

const (
	before phase = iota // no block of the first day yet
	during              // tallying cur
	done                // every statement is made; later blocks are verified, not reported
)

// New returns a Builder of the report o describes.
func New(o Options) (*Builder, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	return &Builder{o: o, m: newMirror()}, nil
}

// StopAt is the height the verification may stop after (0: none), for verify.Options.
func (b *Builder) StopAt() uint64 { return b.o.Height }

// Observe takes the next verified block. A block of a later day than the current
// statement's last closes it with the state before the block: that state is the last block
// at or before the end of the statement's last day.
func (b *Builder) Observe(ob *verify.Observed) error {
	h := &ob.Block.Header
	day := chain.DayOf(h.Time)
	if err := b.closeBefore(day); err != nil {
		return err
	}
	if b.phase == done {
		return nil
	}
	if b.phase == during {
		b.cur.tally(ob)
	}
	if err := b.m.update(ob); err != nil {
		return err
	}
	if b.o.Height == 0 || h.Height != b.o.Height {
		return nil
	}
	if b.phase == before {
		return fmt.Errorf("%w: height %d is on %s, before the first day %s", ErrBadOptions, h.Height, Date(day), Date(b.o.From))
	}
	return b.closeCur(day, false, true)
}

// closeBefore opens the first statement on its first day, and closes every statement whose
// last day is before day, opening the next one (months without a block close with the state
// they opened with).
func (b *Builder) closeBefore(day chain.Day) error {
	if b.phase == before {
		from := b.o.From
		if from == 0 {
			from = day
		}
		if day < from {
			return nil
		}
		if err := b.open(from); err != nil {
			return err
		}
	}
	for b.phase == during && b.cur.to < day {
		if err := b.closeCur(b.cur.to, false, b.o.To != 0 && b.cur.to >= b.o.To); err != nil {
			return err
		}
	}
	return nil
}

// open starts the first statement on day from, with the mirrored state.
func (b *Builder) open(from chain.Day) error {
	s, err := b.m.snapshot()
	if err != nil {
		return err
	}
	b.cur, b.phase = newPeriod(from, b.lastDay(from), s), during
	return nil
}

// lastDay is the last day of a statement starting on day from.
func (b *Builder) lastDay(from chain.Day) chain.Day {
	to := openEnd
	if b.o.To != 0 {
		to = b.o.To
	}
	if b.o.Monthly {
		to = min(to, monthEnd(from))
	}
	return to
}

// closeCur closes the current statement on day to with the mirrored state and, unless it is
// the last, opens the next one.
func (b *Builder) closeCur(to chain.Day, incomplete, last bool) error {
	s, err := b.m.snapshot()
	if err != nil {
		return err
	}
	st, err := b.cur.close(s, to, incomplete)
	if err != nil {
		return err
	}
	b.out = append(b.out, st)
	if last {
		b.cur, b.phase = nil, done
		return nil
	}
	b.cur = newPeriod(b.cur.to+1, b.lastDay(b.cur.to+1), s)
	return nil
}

// Finish returns the report once the verification v reports has succeeded. Statements still
// open close with the chain's last block: as of it when the report has no last day, and
// marked incomplete through the last day otherwise.
func (b *Builder) Finish(v *verify.Report) (*Report, error) {
	if v == nil || v.Failure != nil {
		return nil, errors.New("report: the chain did not verify")
	}
	if b.phase == before {
		if b.m.height == 0 {
			return nil, fmt.Errorf("%w: the chain has no block", ErrNoBlock)
		}
		if b.o.To == 0 {
			return nil, fmt.Errorf("%w: the chain ends on %s, before the first day %s", ErrBadOptions, Date(chain.DayOf(b.m.time)), Date(b.o.From))
		}
		if err := b.open(b.o.From); err != nil {
			return nil, err
		}
	}
	for b.phase == during {
		var err error
		if b.o.To == 0 { // as of the chain's last block
			err = b.closeCur(chain.DayOf(b.m.time), false, true)
		} else { // through the last day, which the chain does not reach
			err = b.closeCur(b.cur.to, true, b.cur.to >= b.o.To)
		}
		if err != nil {
			return nil, err
		}
	}
	return &Report{Genesis: v.Genesis, VerifiedHeight: v.Height, Statements: b.out}, nil
}
