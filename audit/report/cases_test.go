package report_test

import (
	"errors"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/audit/report"
	"github.com/loyal-ledger/loyal/chain"
)

// Every figure of every statement equals the model's, for the whole chain, a period in the
// middle, monthly statements, an as-of date between blocks and an as-of height.
func TestFiguresAgainstTheModel(t *testing.T) {
	f := build(t)
	last := uint64(len(f.c.Blocks))
	dayOf := func(h uint64) chain.Day { return chain.DayOf(f.m.heights[h].time) }
	first, end := dayOf(1), dayOf(last)
	if time.Unix(int64(end)*86400, 0).UTC().Month()-time.Unix(int64(first)*86400, 0).UTC().Month() < 2 {
		t.Fatalf("the chain spans %s to %s: less than three months", report.Date(first), report.Date(end))
	}

	t.Run("whole chain", func(t *testing.T) {
		rep, err := f.run(t, report.Options{})
		if err != nil {
			t.Fatal(err)
		}
		same(t, "whole chain", rep.Statements, []report.Statement{f.expect(first, end, 0, last, false)})
		if rep.Genesis != f.c.Genesis.Hash() || rep.VerifiedHeight != last {
			t.Fatalf("report of genesis %s verified to %d", rep.Genesis, rep.VerifiedHeight)
		}
		// The chain exercises every figure: each is non-zero for some program.
		var sum report.ProgramFigures
		for _, p := range rep.Statements[0].Programs {
			sum.Issued += p.Issued
			sum.Reversed += p.Reversed
			sum.Unrecovered += p.Unrecovered
			sum.Redeemed += p.Redeemed
			sum.Expired += p.Expired
			sum.ExchangedIn += p.ExchangedIn
			sum.ExchangedOut += p.ExchangedOut
			sum.Pending += p.Pending
			sum.RepeatEarners += p.RepeatEarners
			sum.Holders += p.Holders
		}
		if sum.Issued == 0 || sum.Reversed == 0 || sum.Unrecovered == 0 || sum.Redeemed == 0 || sum.Expired == 0 || sum.ExchangedIn == 0 ||
			sum.ExchangedOut == 0 || sum.Pending == 0 || sum.RepeatEarners == 0 || sum.Holders == 0 ||
			len(rep.Statements[0].Settlement) == 0 || len(rep.Statements[0].Settlement[0].Payments) == 0 {
			t.Fatalf("the generated chain leaves a figure at zero: %+v", rep.Statements[0])
		}
	})

	t.Run("period in the middle", func(t *testing.T) {
		from, to := dayOf(20), dayOf(45)
		rep, err := f.run(t, report.Options{From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		want := f.expect(from, to, f.lastAtOrBefore(from-1, last), f.lastAtOrBefore(to, last), false)
		if want.FromHeight == 0 || want.ToHeight == last {
			t.Fatalf("the period %s to %s is not in the middle: heights %d to %d", report.Date(from), report.Date(to), want.FromHeight, want.ToHeight)
		}
		same(t, "period", rep.Statements, []report.Statement{want})
	})

	t.Run("monthly", func(t *testing.T) {
		rep, err := f.run(t, report.Options{Monthly: true})
		if err != nil {
			t.Fatal(err)
		}
		same(t, "monthly", rep.Statements, f.months(first, end, last, false))
		if len(rep.Statements) < 3 {
			t.Fatalf("%d monthly statements", len(rep.Statements))
		}
		// Each month closes with the state the next opens with, and flows add up.
		for i := 1; i < len(rep.Statements); i++ {
			prev, cur := rep.Statements[i-1], rep.Statements[i]
			if prev.ToHeight != cur.FromHeight || chain.Day(prev.ToDate)+1 != chain.Day(cur.FromDate) {
				t.Fatalf("statements %d and %d do not join: %+v %+v", i-1, i, prev, cur)
			}
		}
	})

	t.Run("monthly from before the chain to after it", func(t *testing.T) {
		from, to := day(t, "2025-06-01"), end+40
		rep, err := f.run(t, report.Options{From: from, To: to, Monthly: true})
		if err != nil {
			t.Fatal(err)
		}
		want := f.months(from, to, last, true)
		same(t, "monthly from June 1st to 40 days after the chain", rep.Statements, want)
		n := len(want)
		if want[0].FromHeight != 0 || want[0].Incomplete || want[n-3].Incomplete || !want[n-2].Incomplete || !want[n-1].Incomplete ||
			want[n-1].ToHeight != last || want[n-1].FromHeight != last {
			t.Fatalf("months before, through and after the chain: %+v", want)
		}
	})

	t.Run("one day", func(t *testing.T) {
		d := dayOf(40)
		rep, err := f.run(t, report.Options{From: d, To: d})
		if err != nil {
			t.Fatal(err)
		}
		want := f.expect(d, d, f.lastAtOrBefore(d-1, last), f.lastAtOrBefore(d, last), false)
		same(t, "one day", rep.Statements, []report.Statement{want})
		if want.Programs[0].RepeatEarners == 0 {
			t.Fatalf("no repeat earner on %s: %+v", report.Date(d), want.Programs[0])
		}
	})

	t.Run("as of a date between blocks", func(t *testing.T) {
		var gap chain.Day // a day without a block, inside a jump of block time
		for h := uint64(30); h < last && gap == 0; h++ {
			if dayOf(h+1) > dayOf(h)+1 {
				gap = dayOf(h) + 1
			}
		}
		rep, err := f.run(t, report.Options{To: gap})
		if err != nil {
			t.Fatal(err)
		}
		want := f.expect(first, gap, 0, f.lastAtOrBefore(gap, last), false)
		if dayOf(want.ToHeight) >= gap || dayOf(want.ToHeight+1) <= gap {
			t.Fatalf("the as-of date %s is not between blocks %d and %d", report.Date(gap), want.ToHeight, want.ToHeight+1)
		}
		same(t, "as of "+report.Date(gap).String(), rep.Statements, []report.Statement{want})
	})

	t.Run("as of a height, monthly", func(t *testing.T) {
		const height = 33
		from := dayOf(10)
		rep, err := f.run(t, report.Options{From: from, Height: height, Monthly: true})
		if err != nil {
			t.Fatal(err)
		}
		if rep.VerifiedHeight != height {
			t.Fatalf("verified to %d, not stopped at %d", rep.VerifiedHeight, height)
		}
		same(t, "as of height 33", rep.Statements, f.months(from, dayOf(height), height, false))
	})
}

// months is the model's monthly statements over the days from…to, ending at height at most
// maxHeight; the last is incomplete if the chain ends before its last day (incomplete set).
func (f *fixture) months(from, to chain.Day, maxHeight uint64, incomplete bool) []report.Statement {
	var out []report.Statement
	for start := from; start <= to; {
		t := time.Unix(int64(start)*86400, 0).UTC()
		next := chain.Day(time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC).Unix() / 86400)
		stop := min(next-1, to)
		toHeight := f.lastAtOrBefore(stop, maxHeight)
		lastDay := chain.DayOf(f.m.heights[len(f.m.heights)-1].time)
		out = append(out, f.expect(start, stop, f.lastAtOrBefore(start-1, maxHeight), toHeight, incomplete && lastDay <= stop))
		start = next
	}
	return out
}

// Options that contradict each other or the chain are refused with the error that says so.
func TestRefused(t *testing.T) {
	f := build(t)
	last := uint64(len(f.c.Blocks))
	first := chain.DayOf(f.m.heights[1].time)
	end := chain.DayOf(f.m.heights[last].time)
	for _, c := range []struct {
		name string
		o    report.Options
		want error
	}{
		{"height and last day", report.Options{Height: 3, To: end}, report.ErrBadOptions},
		{"first day after last day", report.Options{From: end, To: first}, report.ErrBadOptions},
		{"last day before the first block", report.Options{To: first - 1}, report.ErrNoBlock},
		{"monthly from a month before the chain", report.Options{From: first - 40, Monthly: true}, report.ErrNoBlock},
		{"height before the first day", report.Options{Height: 3, From: end}, report.ErrBadOptions},
		{"first day after the chain's end", report.Options{From: end + 1}, report.ErrBadOptions},
	} {
		if _, err := f.run(t, c.o); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// A first day after the chain's end with a last day: one statement, empty and incomplete.
	rep, err := f.run(t, report.Options{From: end + 1, To: end + 2})
	if err != nil {
		t.Fatal(err)
	}
	same(t, "after the end", rep.Statements, []report.Statement{f.expect(end+1, end+2, last, last, true)})
}
