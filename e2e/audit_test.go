package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/loyal-ledger/loyal/audit/report"
	"github.com/loyal-ledger/loyal/audit/verify"
)

// audit exports the stopped node's chain and verifies it as an auditor would, with the
// genesis file pinned: it passes, and the same file with one byte changed fails with a
// non-zero exit and one line naming the height. The report of the export and of the running
// node agree.
func (w *world) audit(t *testing.T) {
	out := filepath.Join(t.TempDir(), "chain.export")
	r := w.run(bin.loyald, "export", "--home", w.nodeHome, "--out", out)
	if r.code != 0 || r.err != nil || !strings.Contains(r.stdout, "exported") {
		w.fatalf(t, "loyald export failed:\n%s", r)
	}
	genesis := filepath.Join(w.nodeHome, "genesis.json")
	r = w.ok(t, "--json", "audit", "verify", "--file", out, "--genesis", genesis)
	var rep verify.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		w.fatalf(t, "audit verify --json printed no report: %v\n%s", err, r)
	}
	if rep.Failure != nil || rep.Height == 0 || rep.Txs == 0 || len(rep.Programs) == 0 {
		w.fatalf(t, "audit verify report: %+v", rep)
	}
	for _, p := range rep.Programs {
		if p.Outstanding != p.Balances {
			w.fatalf(t, "program %s does not conserve its points: %+v", p.Symbol, p)
		}
	}
	checkpoint := filepath.Join(t.TempDir(), "verified.checkpoint")
	human := w.ok(t, "audit", "verify", "--file", out, "--genesis", genesis, "--checkpoint", checkpoint)
	if !strings.Contains(human.stdout, "OK: every check passed") {
		w.fatalf(t, "audit verify printed no verdict:\n%s", human)
	}
	fromFile := w.report(t, out, genesis, &rep)

	// The same from the running node, through its public API alone.
	w.startNode(t)
	r = w.ok(t, "audit", "verify", "--genesis", genesis)
	if !strings.Contains(r.stdout, "OK: every check passed") {
		w.fatalf(t, "audit verify from the node printed no verdict:\n%s", r)
	}
	var nodeReport report.Report
	w.okJSON(t, &nodeReport, "audit", "report", "--genesis", genesis)
	if len(nodeReport.Statements) != 1 || !reflect.DeepEqual(nodeReport.Statements[0].Programs, fromFile.Statements[0].Programs) ||
		!reflect.DeepEqual(nodeReport.Statements[0].Settlement, fromFile.Statements[0].Settlement) {
		w.fatalf(t, "audit report from the node: %+v\nfrom its export: %+v", nodeReport, fromFile)
	}
	// One more block, then only what is new since the checkpoint is checked.
	w.tx(t, "transfer", w.addr["alice"], "transfer", "--from", "alice", "--program", acme, "--to", "bob", "--amount", "1", "--wait")
	r = w.ok(t, "--json", "audit", "verify", "--genesis", genesis, "--since", checkpoint)
	var resumed verify.Report
	if err := json.Unmarshal([]byte(r.stdout), &resumed); err != nil || resumed.Since != rep.Height || resumed.Height <= rep.Height || resumed.Blocks != resumed.Height-rep.Height {
		w.fatalf(t, "audit verify --since: %+v (%v); the checkpoint is at %d\n%s", resumed, err, rep.Height, r)
	}
	fromNode := filepath.Join(t.TempDir(), "node.export")
	w.ok(t, "audit", "export", "--out", fromNode)
	w.stopNode(t)
	if r := w.ok(t, "audit", "verify", "--file", fromNode, "--genesis", genesis); !strings.Contains(r.stdout, "OK: every check passed") {
		w.fatalf(t, "the node's export does not verify:\n%s", r)
	}

	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0x40
	bad := filepath.Join(t.TempDir(), "tampered.export")
	if err := os.WriteFile(bad, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	r = w.loyal("audit", "verify", "--file", bad, "--genesis", genesis)
	if r.code == 0 || !strings.Contains(r.stdout, "FAILED at height") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.HasPrefix(r.stderr, "loyal: ") {
		w.fatalf(t, "a tampered export:\n%s", r)
	}
}

// report runs `loyal audit report` on the verified export: over the whole chain its figures are
// the programs' lifetime totals verify reported, and the scenario's exchange and settlement
// are in the settlement matrix; the CSV has a row per program; a report as of height 1
// stops there. It returns the whole chain's report.
func (w *world) report(t *testing.T, out, genesis string, v *verify.Report) *report.Report {
	var rep report.Report
	w.okJSON(t, &rep, "audit", "report", "--file", out, "--genesis", genesis)
	if rep.Genesis != v.Genesis || rep.VerifiedHeight != v.Height || len(rep.Statements) != 1 {
		w.fatalf(t, "audit report: %+v", rep)
	}
	st := rep.Statements[0]
	if st.FromHeight != 0 || st.ToHeight != v.Height || st.Incomplete || len(st.Programs) != len(v.Programs) {
		w.fatalf(t, "audit report statement: %+v", st)
	}
	for i, p := range st.Programs {
		want := v.Programs[i]
		if p.Symbol != want.Symbol || p.Opening != 0 || p.Issued != want.Earned || p.Reversed != want.Reversed ||
			p.Redeemed != want.Redeemed || p.Expired != want.Expired || p.ExchangedOut != want.ExchangedOut ||
			p.ExchangedIn != want.ExchangedIn || p.Outstanding != want.Outstanding || p.Holders != want.Holders ||
			(p.ActiveMembers == 0) != (want.Earned == 0 && want.ExchangedIn == 0) { // a program that never minted (DELI) had no members
			w.fatalf(t, "audit report %s: %+v; verify: %+v", p.Symbol, p, want)
		}
	}
	if len(st.Settlement) != 1 {
		w.fatalf(t, "settlement matrix: %+v", st.Settlement)
	}
	if s := st.Settlement[0]; s.Debtor != acme || s.Creditor != beta || s.Owed != exchangeTo || s.Settled != settledAmount ||
		s.Open != exchangeTo-settledAmount || len(s.Payments) != 1 || s.Payments[0].Amount != settledAmount {
		w.fatalf(t, "settlement %s>%s: %+v", acme, beta, s)
	}

	csv := w.ok(t, "audit", "report", "--file", out, "--genesis", genesis, "--csv")
	lines := strings.Split(strings.TrimSpace(csv.stdout), "\n")
	if len(lines) != 1+len(v.Programs) || !strings.HasPrefix(lines[0], "from_date,to_date,from_height,to_height,incomplete,symbol,") {
		w.fatalf(t, "audit report --csv:\n%s", csv)
	}
	table := w.ok(t, "audit", "report", "--file", out, "--genesis", genesis)
	if !strings.Contains(table.stdout, "OUTSTANDING") || !strings.Contains(table.stdout, "payments recorded:") {
		w.fatalf(t, "audit report printed no tables:\n%s", table)
	}

	var first report.Report
	w.okJSON(t, &first, "audit", "report", "--file", out, "--genesis", genesis, "--height", "1")
	if first.VerifiedHeight != 1 || first.Statements[0].ToHeight != 1 {
		w.fatalf(t, "audit report --height 1: %+v", first)
	}
	return &rep
}
