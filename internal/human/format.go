package human

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/internal/safetext"
	"github.com/loyal-ledger/loyal/wallet"
)

// The human output of the CLI. Every function writes a whole aligned block and returns the
// first write error. Strings that come from the ledger (names, refs, memos) are written as
// Go-quoted strings if they hold tabs, line breaks or other non-printing characters, so
// nobody can forge table rows or send terminal escapes through a memo.

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

// row writes cells separated by tabs, ending the line.
func row(tw *tabwriter.Writer, cells ...string) {
	fmt.Fprintln(tw, strings.Join(cells, "\t"))
}

// clean makes a ledger string safe for a table cell (safetext.Clean); "" becomes "-".
func clean(s string) string {
	if s == "" {
		return "-"
	}
	return safetext.Clean(s)
}

func u64(v uint64) string { return strconv.FormatUint(v, 10) }

// FormatTime is a block time as UTC RFC 3339.
func FormatTime(unix uint64) string {
	if unix > 1<<62 {
		return u64(unix)
	}
	return time.Unix(int64(unix), 0).UTC().Format(time.RFC3339)
}

// FormatDay is a UTC day number as YYYY-MM-DD, "never" for chain.NeverExpires.
func FormatDay(d chain.Day) string {
	if d == chain.NeverExpires {
		return "never"
	}
	return time.Unix(int64(d)*chain.SecondsPerDay, 0).UTC().Format(time.DateOnly)
}

func addr(a chain.Address) string {
	if a == (chain.Address{}) {
		return "-"
	}
	return a.Hex()
}

// WriteBalances writes an account's holdings: program, total, available, pending, tier,
// what expires within api.ExpiringWindowDays, and lifetime earned.
func WriteBalances(w io.Writer, a api.AccountInfo) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "account %s at height %d, next nonce %d\n", a.Address.Hex(), a.Height, a.Nonce)
	if len(a.Programs) == 0 {
		fmt.Fprintln(tw, "no points")
		return tw.Flush()
	}
	row(tw, "PROGRAM", "TOTAL", "AVAILABLE", "PENDING", "TIER", fmt.Sprintf("EXPIRING %dD", api.ExpiringWindowDays), "EARNED")
	for _, p := range a.Programs {
		row(tw, clean(p.Program), u64(p.Total), u64(p.Available), u64(p.Pending), clean(p.Tier), u64(p.Expiring), u64(p.Earned))
	}
	return tw.Flush()
}

// WriteHistory writes history entries, one a line: height, block time (UTC RFC 3339),
// transaction kind, program, points in (+) or out (-), the cause with its reference (order,
// reward, memo or exchange route), and the counterparty.
func WriteHistory(w io.Writer, entries []api.HistoryEntry) error {
	tw := newTable(w)
	if len(entries) == 0 {
		fmt.Fprintln(tw, "no history")
		return tw.Flush()
	}
	row(tw, "HEIGHT", "TIME", "KIND", "PROGRAM", "POINTS", "CAUSE/REF", "COUNTERPARTY")
	for _, h := range entries {
		e := h.Entry
		row(tw, u64(h.Height), FormatTime(h.Time), clean(h.Kind), clean(e.Program), points(e), cause(e), addr(e.Counterparty))
	}
	return tw.Flush()
}

// points is +credit, -debit, or both when an entry has both.
func points(e chain.Entry) string {
	switch {
	case e.Credit != 0 && e.Debit != 0:
		return "+" + u64(e.Credit) + "/-" + u64(e.Debit)
	case e.Debit != 0:
		return "-" + u64(e.Debit)
	case e.Credit == 0:
		return "" // a governance step moves no points
	default:
		return "+" + u64(e.Credit)
	}
}

func cause(e chain.Entry) string {
	s := clean(string(e.Cause))
	if e.Ref != "" {
		s += " " + clean(e.Ref)
	}
	if e.Route != "" {
		s += " " + clean(e.Route)
	}
	if e.Unrecovered != 0 {
		s += " (unrecovered " + u64(e.Unrecovered) + ")"
	}
	if e.AvailableDay != 0 {
		s += " (pending until " + FormatDay(e.AvailableDay) + ")"
	}
	return s
}

// WriteStatus writes a node's status.
func WriteStatus(w io.Writer, s api.Status) error {
	tw := newTable(w)
	row(tw, "network", clean(s.Network))
	row(tw, "chain id", u64(s.ChainID))
	row(tw, "genesis", s.GenesisHash.Hex())
	row(tw, "height", u64(s.Height))
	row(tw, "head", s.HeadHash.Hex())
	row(tw, "head time", FormatTime(s.HeadTime))
	row(tw, "state root", s.StateRoot.Hex())
	row(tw, "validator", addr(s.Validator))
	row(tw, "operator", addr(s.Operator))
	for _, o := range s.Operators {
		if o != s.Operator { // during a rotation of the node's operator key: the old one
			row(tw, "old operator", addr(o))
		}
	}
	row(tw, "mempool", fmt.Sprintf("%d txs, %d bytes", s.Mempool.Txs, s.Mempool.Bytes))
	return tw.Flush()
}

func retired(r bool) string {
	if r {
		return "retired"
	}
	return "active"
}

// WritePrograms writes every program with its liability and totals.
func WritePrograms(w io.Writer, ps api.Programs) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "programs at height %d\n", ps.Height)
	if len(ps.Programs) == 0 {
		fmt.Fprintln(tw, "no programs")
		return tw.Flush()
	}
	row(tw, "SYMBOL", "NAME", "OWNER", "OUTSTANDING", "SUPPLY", "REDEEMED", "EXPIRED", "STATUS")
	for _, p := range ps.Programs {
		row(tw, clean(p.Symbol), clean(p.Name), addr(p.Owner), u64(p.Outstanding), u64(p.Supply),
			u64(p.Stats.Redeemed), u64(p.Stats.Expired), retired(p.Retired))
	}
	return tw.Flush()
}

// WriteProgram writes one program: its policy, keys and running totals.
func WriteProgram(w io.Writer, p api.ProgramInfo) error {
	tw := newTable(w)
	ops := make([]string, len(p.Operators))
	for i, o := range p.Operators {
		ops[i] = o.Hex()
	}
	tiers := make([]string, len(p.Policy.Tiers))
	for i, t := range p.Policy.Tiers {
		tiers[i] = clean(t.Name) + "=" + u64(t.Threshold)
	}
	expiry := "never"
	if p.Policy.ExpiryDays != 0 {
		expiry = fmt.Sprintf("%d days after available", p.Policy.ExpiryDays)
	}
	window := "lifetime"
	if p.Policy.TierWindowDays != 0 {
		window = fmt.Sprintf("%d days", p.Policy.TierWindowDays)
	}
	row(tw, "symbol", clean(p.Symbol))
	row(tw, "name", clean(p.Name))
	row(tw, "status", retired(p.Retired))
	row(tw, "owner", addr(p.Owner))
	row(tw, "operators", clean(strings.Join(ops, ", ")))
	row(tw, "pending days", strconv.FormatUint(uint64(p.Policy.PendingDays), 10))
	row(tw, "expiry", expiry)
	row(tw, "tiers", clean(strings.Join(tiers, ", ")))
	row(tw, "tier window", window)
	row(tw, "supply", u64(p.Supply))
	row(tw, "outstanding", u64(p.Outstanding))
	row(tw, "earned", u64(p.Stats.Earned))
	row(tw, "reversed", u64(p.Stats.Reversed))
	row(tw, "unrecovered", u64(p.Stats.Unrecovered))
	row(tw, "redeemed", u64(p.Stats.Redeemed))
	row(tw, "expired", u64(p.Stats.Expired))
	row(tw, "exchanged in", u64(p.Stats.ExchangedIn))
	row(tw, "exchanged out", u64(p.Stats.ExchangedOut))
	row(tw, "height", u64(p.Height))
	return tw.Flush()
}

// side is one owner's rate proposal: "num/den", with its daily cap if any, or "-".
func side(s chain.RateSide) string {
	if s.Numerator == 0 {
		return "-"
	}
	r := u64(s.Numerator) + "/" + u64(s.Denominator)
	if s.DailyCap != 0 {
		r += " cap " + u64(s.DailyCap)
	}
	return r
}

// WriteRates writes every exchange route: both owners' proposals, whether it is open, and
// the daily cap in force (source points).
func WriteRates(w io.Writer, rs api.Rates) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "exchange routes at height %d\n", rs.Height)
	if len(rs.Routes) == 0 {
		fmt.Fprintln(tw, "no routes")
		return tw.Flush()
	}
	row(tw, "FROM", "TO", "FROM OWNER", "TO OWNER", "OPEN", "DAILY CAP")
	for _, r := range rs.Routes {
		open, cp := "no", "-"
		if r.Open {
			open = "yes"
		}
		if r.Cap != 0 {
			cp = u64(r.Cap)
		}
		row(tw, clean(r.From), clean(r.To), side(r.FromSide), side(r.ToSide), open, cp)
	}
	return tw.Flush()
}

// WriteSettlement writes what each program's owner owes another's for exchanged points.
func WriteSettlement(w io.Writer, s api.Settlement) error {
	tw := newTable(w)
	fmt.Fprintf(tw, "settlement at height %d\n", s.Height)
	if len(s.Positions) == 0 {
		fmt.Fprintln(tw, "no positions")
		return tw.Flush()
	}
	row(tw, "DEBTOR", "CREDITOR", "OWED", "SETTLED", "OPEN")
	for _, p := range s.Positions {
		row(tw, clean(p.Debtor), clean(p.Creditor), u64(p.Owed), u64(p.Settled), u64(p.OpenAmount))
	}
	return tw.Flush()
}

// WriteEvidence lists the equivocations a node has seen: which validator signed two
// conflicting messages, of what kind, where. --json carries the messages themselves.
func WriteEvidence(w io.Writer, e api.EvidenceList) error {
	tw := newTable(w)
	if len(e.Evidence) == 0 {
		fmt.Fprintln(tw, "no evidence")
		return tw.Flush()
	}
	row(tw, "VALIDATOR", "KIND", "HEIGHT", "ROUND")
	for _, ev := range e.Evidence {
		row(tw, addr(ev.Validator), clean(ev.Kind), u64(ev.Height), u64(uint64(ev.Round)))
	}
	return tw.Flush()
}

// WriteTx writes a transaction and where it landed; the payload is one line of JSON.
func WriteTx(w io.Writer, t api.TxInfo) error {
	tw := newTable(w)
	row(tw, "hash", t.Hash.Hex())
	row(tw, "status", clean(t.Status))
	if t.Status == api.TxCommitted {
		row(tw, "height", u64(t.Height))
		row(tw, "index", strconv.Itoa(t.Index))
	}
	row(tw, "kind", clean(t.Kind))
	row(tw, "sender", addr(t.Sender))
	if t.Tx != nil {
		row(tw, "nonce", u64(t.Tx.Nonce))
		vu := "-"
		if t.Tx.ValidUntil != 0 {
			vu = FormatTime(t.Tx.ValidUntil)
		}
		row(tw, "valid until", vu)
		body, err := json.Marshal(t.Tx.Payload)
		if err != nil {
			return err
		}
		row(tw, "body", clean(string(body)))
	}
	return tw.Flush()
}

// WriteKeys writes the keystore's keys: name ("-" if none), address and key file
// ("(missing)" for a name whose file is gone).
func WriteKeys(w io.Writer, keys []wallet.KeyInfo) error {
	tw := newTable(w)
	if len(keys) == 0 {
		fmt.Fprintln(tw, "no keys")
		return tw.Flush()
	}
	row(tw, "NAME", "ADDRESS", "FILE")
	for _, k := range keys {
		f := k.File
		if f == "" {
			f = "(missing)"
		}
		row(tw, clean(k.Name), k.Address.Hex(), clean(f))
	}
	return tw.Flush()
}
