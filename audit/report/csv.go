package report

import (
	"encoding/csv"
	"io"
	"slices"
	"strconv"
)

// The CSV forms of a report: one table each, with a header row of the JSON field names, one
// row per statement and program (programs), per statement and settlement position
// (settlement), or per payment recorded (payments). Every row starts with its statement's
// period, so the rows of several statements stay apart.

var periodColumns = []string{"from_date", "to_date", "from_height", "to_height", "incomplete"}

func (s *Statement) periodCells() []string {
	return []string{s.FromDate.String(), s.ToDate.String(), u64(s.FromHeight), u64(s.ToHeight), strconv.FormatBool(s.Incomplete)}
}

// WriteProgramsCSV writes one row per statement and program.
func (r *Report) WriteProgramsCSV(w io.Writer) error {
	return writeCSV(w, slices.Concat(periodColumns, []string{
		"symbol", "owner", "opening", "issued", "reversed", "unrecovered", "redeemed", "expired", "exchanged_out",
		"exchanged_in", "outstanding", "pending", "holders", "active_members", "repeat_earners",
		"redemption_rate_bps", "breakage_rate_bps"}),
		func(emit func([]string)) {
			for i := range r.Statements {
				s := &r.Statements[i]
				for _, p := range s.Programs {
					emit(append(s.periodCells(), p.Symbol, p.Owner.Hex(), u64(p.Opening), u64(p.Issued), u64(p.Reversed),
						u64(p.Unrecovered), u64(p.Redeemed), u64(p.Expired), u64(p.ExchangedOut), u64(p.ExchangedIn),
						u64(p.Outstanding), u64(p.Pending), u64(p.Holders), u64(p.ActiveMembers), u64(p.RepeatEarners),
						p.RedemptionRate.String(), p.BreakageRate.String()))
				}
			}
		})
}

// WriteSettlementCSV writes one row per statement and settlement position.
func (r *Report) WriteSettlementCSV(w io.Writer) error {
	return writeCSV(w, slices.Concat(periodColumns, []string{
		"debtor", "creditor", "debtor_owner", "creditor_owner", "opening", "owed", "settled", "open", "owed_total", "settled_total", "payments"}),
		func(emit func([]string)) {
			for i := range r.Statements {
				s := &r.Statements[i]
				for _, p := range s.Settlement {
					emit(append(s.periodCells(), p.Debtor, p.Creditor, p.DebtorOwner.Hex(), p.CreditorOwner.Hex(), u64(p.Opening),
						u64(p.Owed), u64(p.Settled), u64(p.Open), u64(p.OwedTotal), u64(p.SettledTotal), strconv.Itoa(len(p.Payments))))
				}
			}
		})
}

// WritePaymentsCSV writes one row per payment recorded: by statement, position, then chain
// order.
func (r *Report) WritePaymentsCSV(w io.Writer) error {
	return writeCSV(w, slices.Concat(periodColumns, []string{"debtor", "creditor", "height", "time", "tx", "amount"}),
		func(emit func([]string)) {
			for i := range r.Statements {
				s := &r.Statements[i]
				for _, p := range s.Settlement {
					for _, pay := range p.Payments {
						emit(append(s.periodCells(), p.Debtor, p.Creditor, u64(pay.Height), u64(pay.Time), pay.Tx.Hex(), u64(pay.Amount)))
					}
				}
			}
		})
}

// writeCSV writes the header and the rows rows emits, and returns the first error.
func writeCSV(w io.Writer, header []string, rows func(emit func([]string))) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	rows(func(cells []string) {
		_ = cw.Write(cells) // csv.Writer keeps the first error for Flush
	})
	cw.Flush()
	return cw.Error()
}

func u64(v uint64) string { return strconv.FormatUint(v, 10) }
