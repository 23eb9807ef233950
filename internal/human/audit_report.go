package human

import (
	"fmt"
	"io"

	"github.com/loyal-ledger/loyal/audit/report"
)

// WriteAuditReport writes each statement of an auditor's report: its period and heights, the
// programs' points (flows of the period, outstanding at its end), their members and rates,
// and the settlement matrix with the payments recorded.
func WriteAuditReport(w io.Writer, r *report.Report) error {
	tw := newTable(w)
	row(tw, "genesis", r.Genesis.Hex())
	row(tw, "verified to height", u64(r.VerifiedHeight))
	if err := tw.Flush(); err != nil {
		return err
	}
	for i := range r.Statements {
		if err := writeStatement(w, &r.Statements[i]); err != nil {
			return err
		}
	}
	return nil
}

func writeStatement(w io.Writer, s *report.Statement) error {
	if s.FromHeight == s.ToHeight {
		fmt.Fprintf(w, "\nstatement %s to %s: no block; as of block %d at %s", s.FromDate, s.ToDate, s.ToHeight, FormatTime(s.ToTime))
	} else {
		fmt.Fprintf(w, "\nstatement %s to %s: blocks %d to %d, closing at %s", s.FromDate, s.ToDate, s.FromHeight+1, s.ToHeight, FormatTime(s.ToTime))
	}
	if s.Incomplete {
		fmt.Fprintf(w, "\n  incomplete: the chain ends before the end of %s", s.ToDate)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	tw := newTable(w)
	row(tw, "PROGRAM", "OPENING", "ISSUED", "REVERSED", "UNRECOVERED", "REDEEMED", "EXPIRED", "EXCH OUT", "EXCH IN", "OUTSTANDING", "PENDING")
	for _, p := range s.Programs {
		row(tw, clean(p.Symbol), u64(p.Opening), u64(p.Issued), u64(p.Reversed), u64(p.Unrecovered), u64(p.Redeemed),
			u64(p.Expired), u64(p.ExchangedOut), u64(p.ExchangedIn), u64(p.Outstanding), u64(p.Pending))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = newTable(w)
	row(tw, "PROGRAM", "OWNER", "HOLDERS", "ACTIVE", "REPEAT EARNERS", "REDEMPTION", "BREAKAGE")
	for _, p := range s.Programs {
		row(tw, clean(p.Symbol), addr(p.Owner), u64(p.Holders), u64(p.ActiveMembers), u64(p.RepeatEarners), percent(p.RedemptionRate), percent(p.BreakageRate))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(s.Settlement) == 0 {
		_, err := fmt.Fprintln(w, "\nsettlement: no exchange between programs")
		return err
	}
	fmt.Fprintln(w, "\nsettlement (the debtor program's owner owes the creditor's):")
	tw = newTable(w)
	row(tw, "DEBTOR", "CREDITOR", "OPENING", "OWED", "SETTLED", "OPEN", "OWED TOTAL", "SETTLED TOTAL")
	for _, p := range s.Settlement {
		row(tw, clean(p.Debtor), clean(p.Creditor), u64(p.Opening), u64(p.Owed), u64(p.Settled), u64(p.Open), u64(p.OwedTotal), u64(p.SettledTotal))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\npayments recorded:")
	tw = newTable(w)
	row(tw, "HEIGHT", "TIME", "DEBTOR", "CREDITOR", "AMOUNT", "TX")
	n := 0
	for _, p := range s.Settlement {
		for _, pay := range p.Payments {
			row(tw, u64(pay.Height), FormatTime(pay.Time), clean(p.Debtor), clean(p.Creditor), u64(pay.Amount), pay.Tx.Hex())
			n++
		}
	}
	if n == 0 {
		fmt.Fprintln(tw, "none")
	}
	return tw.Flush()
}

// percent is a rate in basis points as a percentage with two decimals, "-" if undefined.
func percent(r report.Rate) string {
	if !r.Defined {
		return "-"
	}
	return fmt.Sprintf("%d.%02d%%", r.BPS/100, r.BPS%100)
}
