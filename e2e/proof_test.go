package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/audit/proof"
)

// proofs proves one transaction and alice's balances as an auditor and a customer would,
// with the genesis file pinned: from the running node (`audit proof`, `balance --prove`) and,
// once it is stopped, from its export re-executed to a past height; each bundle checks
// offline with `audit check-proof`, states what the node's reads said, and is refused when a
// byte of it changes or when it is checked against another network's genesis.
func (w *world) proofs(t *testing.T) {
	genesis := filepath.Join(w.nodeHome, "genesis.json")
	dir := t.TempDir()
	w.startNode(t)

	var hist api.History
	w.okJSON(t, &hist, "history", "alice", "--all")
	var info api.AccountInfo
	w.okJSON(t, &info, "balance", "alice")
	if len(hist.Entries) < 3 || len(info.Programs) == 0 {
		w.fatalf(t, "alice's history (%d entries) and balances (%+v) give nothing to prove", len(hist.Entries), info.Programs)
	}
	first := hist.Entries[0]

	// From the node: a transaction, and alice's balances as the wallet shows them.
	fromNode := filepath.Join(dir, "tx-node.json")
	w.ok(t, "audit", "proof", "--tx", first.TxHash.Hex(), "--genesis", genesis, "--out", fromNode)
	fact := w.checkProof(t, fromNode, genesis)
	if fact.Tx == nil || fact.Tx.Hash != first.TxHash || fact.Height != first.Height {
		w.fatalf(t, "the node's transaction bundle proves %+v, want %s at %d", fact, first.TxHash, first.Height)
	}
	var proven proof.Fact
	w.okJSON(t, &proven, "balance", "alice", "--prove", "--genesis", genesis)
	if proven.Account == nil || proven.Account.Address != w.addr["alice"] || proven.Height != info.Height {
		w.fatalf(t, "balance --prove: %+v, the balance read was at %d", proven, info.Height)
	}
	for _, p := range info.Programs {
		if !holds(proven.Account.Holdings, proof.Holding{Program: p.Program, Available: p.Available, Pending: p.Pending, Total: p.Total}) {
			w.fatalf(t, "balance --prove states %+v; the node's read says %+v", proven.Account.Holdings, p)
		}
	}
	r := w.ok(t, "balance", "alice", "--prove", "--genesis", genesis, "--program", acme)
	if !strings.HasPrefix(r.stdout, "proven: at height ") || !strings.Contains(r.stdout, w.addr["alice"].Hex()+" holds ") {
		w.fatalf(t, "balance --prove --program:\n%s", r)
	}
	if r := w.loyal("balance", "alice", "--prove"); r.code != 2 || !strings.Contains(r.stderr, "missing --genesis") {
		w.fatalf(t, "balance --prove without a pinned genesis:\n%s", r)
	}
	w.stopNode(t)

	// From the export, at a past height: alice's ACME then is what her history says.
	export := filepath.Join(dir, "chain.export")
	if r := w.run(bin.loyald, "export", "--home", w.nodeHome, "--out", export); r.code != 0 || r.err != nil {
		w.fatalf(t, "loyald export failed:\n%s", r)
	}
	txFile := filepath.Join(dir, "tx.json")
	w.ok(t, "audit", "proof", "--file", export, "--genesis", genesis, "--tx", first.TxHash.Hex(), "--out", txFile)
	if fact := w.checkProof(t, txFile, genesis); fact.Tx == nil || fact.Tx.Hash != first.TxHash || fact.Height != first.Height {
		w.fatalf(t, "the export's transaction bundle proves %+v", fact)
	}
	past := hist.Entries[len(hist.Entries)/2].Height
	var want int64
	for _, e := range hist.Entries {
		if e.Height <= past && e.Entry.Program == acme {
			want += int64(e.Entry.Credit) - int64(e.Entry.Debit)
		}
	}
	accFile := filepath.Join(dir, "account.json")
	w.ok(t, "audit", "proof", "--file", export, "--account", w.addr["alice"].Hex(), "--program", acme, "--height", itoa(past), "--out", accFile)
	fact = w.checkProof(t, accFile, genesis)
	if fact.Height != past || len(fact.Account.Holdings) != 1 || int64(fact.Account.Holdings[0].Total) != want {
		w.fatalf(t, "at height %d alice's history adds up to %d ACME; the bundle proves %+v", past, want, fact.Account)
	}

	// Refused: one byte of the record changed, and another network's genesis.
	raw, err := os.ReadFile(accFile)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(raw), `"value": "0x`) + len(`"value": "0x`) + 10
	if raw[i] == '0' { // another hex digit
		raw[i] = '1'
	} else {
		raw[i] = '0'
	}
	tampered := filepath.Join(dir, "tampered.json")
	if err := os.WriteFile(tampered, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	w.refused(t, "Merkle path", "audit", "check-proof", tampered, "--genesis", genesis)
	other := filepath.Join(dir, "other-genesis.json")
	if err := os.WriteFile(other, renamed(t, genesis, "another-network"), 0o644); err != nil {
		t.Fatal(err)
	}
	w.refused(t, "another network", "audit", "check-proof", accFile, "--genesis", other)
}

// checkProof runs check-proof on a bundle, human and --json, and returns the fact.
func (w *world) checkProof(t *testing.T, file, genesis string) *proof.Fact {
	t.Helper()
	r := w.ok(t, "audit", "check-proof", file, "--genesis", genesis)
	if !strings.HasPrefix(r.stdout, "proven: ") || !strings.Contains(r.stdout, "certified by 1 of the 1 validators") {
		w.fatalf(t, "check-proof printed no fact:\n%s", r)
	}
	var f proof.Fact
	w.okJSON(t, &f, "audit", "check-proof", file, "--genesis", genesis)
	if f.Statement+"\n" != strings.TrimPrefix(r.stdout, "proven: ") {
		w.fatalf(t, "check-proof --json states %q, without it %q", f.Statement, r.stdout)
	}
	return &f
}

// refused runs a command that must fail with exit status 1 and one line containing want.
func (w *world) refused(t *testing.T, want string, args ...string) {
	t.Helper()
	r := w.loyal(args...)
	if r.code != 1 || r.stdout != "" || !strings.HasPrefix(r.stderr, "loyal: ") || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, want) {
		w.fatalf(t, "want a refusal naming %q:\n%s", want, r)
	}
}

func holds(hs []proof.Holding, h proof.Holding) bool {
	for _, x := range hs {
		if x == h {
			return true
		}
	}
	return false
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// renamed is the genesis file at path with another network name: another network's genesis,
// whose chain id and validators are the same.
func renamed(t *testing.T, path, network string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g map[string]json.RawMessage
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	g["network"], _ = json.Marshal(network)
	out, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
