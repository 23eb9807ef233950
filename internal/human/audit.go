package human

import (
	"fmt"
	"io"

	"github.com/loyal-ledger/loyal/audit/verify"
)

// WriteVerifyReport writes what a verification checked, each program's conservation, and
// the failure if there is one.
func WriteVerifyReport(w io.Writer, rep *verify.Report) error {
	tw := newTable(w)
	row(tw, "genesis", rep.Genesis.Hex())
	row(tw, "verified to height", u64(rep.Height))
	row(tw, "blocks", u64(rep.Blocks))
	row(tw, "transactions", u64(rep.Txs))
	row(tw, "state root", rep.StateRoot.Hex())
	if err := tw.Flush(); err != nil {
		return err
	}
	if rep.Failure != nil {
		_, err := fmt.Fprintf(w, "\nFAILED at height %d, %s check: %s\n", rep.Failure.Height, rep.Failure.Check, clean(rep.Failure.Error))
		return err
	}
	fmt.Fprintln(w, "\nchecked:")
	for _, c := range rep.Checks {
		fmt.Fprintf(w, "  - %s\n", c)
	}
	fmt.Fprintln(w)
	tw = newTable(w)
	row(tw, "PROGRAM", "EARNED", "REVERSED", "REDEEMED", "EXPIRED", "EXCH OUT", "EXCH IN", "OUTSTANDING", "HELD", "HOLDERS")
	for _, p := range rep.Programs {
		row(tw, clean(p.Symbol), u64(p.Earned), u64(p.Reversed), u64(p.Redeemed), u64(p.Expired), u64(p.ExchangedOut),
			u64(p.ExchangedIn), u64(p.Outstanding), u64(p.Balances), u64(p.Holders))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "\nOK: every check passed")
	return err
}
