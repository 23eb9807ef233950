package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
)

// validators drives validator governance's command line (ADR 0003) on the one-node network:
// `loyal validators` shows the set; a second host's `loyald validator entry`, with this
// chain's genesis, is proposed with `loyal governance propose-validator` and waits for the
// partners; the chain refuses a key already in the set, a proof made for another chain, and
// removing its only validator. (Growing and shrinking the set is TestValidatorChangesUnderLoad
// and TestOneToTwoToOne, in package testnet.)
func (w *world) validators(t *testing.T) {
	var v api.Validators
	w.okJSON(t, &v, "validators")
	if v.Version != 3 || len(v.Set.Validators) != 1 || v.Set.From != 0 || len(v.Scheduled) != 0 || len(v.Epochs) != 1 || v.Set.Hash != v.Epochs[0].Hash ||
		v.Set.Hash != chain.ValidatorSetHash(v.Set.Validators) || v.Height != v.Head+1 {
		w.fatalf(t, "loyal validators: %+v", v)
	}
	self := v.Set.Validators[0].Address
	m1 := w.addr["merchant1"].Hex()

	// A second host with this chain's genesis signs its entry.
	other := filepath.Join(w.home, "second-host")
	w.loyaldOK(t, "init", "--home", other, "--owner", m1, "--api-listen", "127.0.0.1:0", "--moniker", "second")
	g, err := os.ReadFile(filepath.Join(w.nodeHome, "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "genesis.json"), g, 0o644); err != nil {
		t.Fatal(err)
	}
	entryFile := filepath.Join(w.home, "second.json")
	out := w.loyaldOK(t, "validator", "entry", "--home", other, "--partner", m1, "--multiaddr", "/ip4/127.0.0.1/tcp/9", "--out", entryFile)
	if !strings.Contains(out, "proof of possession for chain") {
		w.fatalf(t, "loyald validator entry said:\n%s", out)
	}
	var e api.ValidatorEntry
	raw, err := os.ReadFile(entryFile)
	if err != nil || json.Unmarshal(raw, &e) != nil || e.Entry.Name != "second" || e.Genesis.Hex() == "" || e.Address == self {
		w.fatalf(t, "the entry file: %v\n%s", err, raw)
	}

	var cp committedProposal
	w.okJSON(t, &cp, "governance", "propose-validator", "--from", "merchant1", "--action", "add", "--entry", entryFile, "--wait")
	p := cp.Proposal
	if cp.Tx.Kind != "propose_validator" || p.Action != chain.ActionAddValidator || p.Status != "open" || p.Needed != 3 || p.Entry == nil ||
		p.Entry.Name != "second" || p.Name != "second" || p.Partner != w.addr["merchant1"] {
		w.fatalf(t, "proposed: %+v", cp)
	}
	show := w.ok(t, "governance", "show", itoa(p.ID)).stdout
	if !strings.Contains(show, "add_validator \"second\" "+e.Address.Hex()) {
		w.fatalf(t, "governance show:\n%s", show)
	}

	// Refusals, each with its code: the node's own key again; an entry signed for another
	// chain (a home whose genesis is its own); the only validator removed.
	selfEntry := filepath.Join(w.home, "self.json")
	w.loyaldOK(t, "validator", "entry", "--home", w.nodeHome, "--partner", m1, "--out", selfEntry)
	w.fails(t, "already_validator", "governance", "propose-validator", "--from", "merchant1", "--action", "add", "--entry", selfEntry, "--wait")
	stranger := filepath.Join(w.home, "third-host")
	w.loyaldOK(t, "init", "--home", stranger, "--owner", m1, "--api-listen", "127.0.0.1:0", "--moniker", "third")
	strangerEntry := filepath.Join(w.home, "third.json")
	w.loyaldOK(t, "validator", "entry", "--home", stranger, "--partner", m1, "--out", strangerEntry)
	w.fails(t, "bad_possession", "governance", "propose-validator", "--from", "merchant1", "--action", "add", "--entry", strangerEntry, "--wait")
	w.fails(t, "last_validator", "governance", "propose-validator", "--from", "merchant1", "--action", "remove", "--validator", self.Hex(), "--wait")

	human := w.ok(t, "validators").stdout
	for _, want := range []string{self.Hex(), "no changes scheduled"} {
		if !strings.Contains(human, want) {
			w.fatalf(t, "loyal validators does not say %q:\n%s", want, human)
		}
	}
}

// loyaldOK runs loyald to completion and returns its stdout, failing t unless it exits 0.
func (w *world) loyaldOK(t *testing.T, args ...string) string {
	t.Helper()
	r := w.run(bin.loyald, args...)
	if r.code != 0 || r.err != nil {
		w.fatalf(t, "loyald failed:\n%s", r)
	}
	return r.stdout
}
