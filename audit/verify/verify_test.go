package verify_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/loyal-ledger/loyal/audit/export"
	"github.com/loyal-ledger/loyal/audit/internal/testchain"
	"github.com/loyal-ledger/loyal/audit/verify"
	"github.com/loyal-ledger/loyal/chain"
)

// exportOf writes c whole, with the final certificate c gathered.
func exportOf(t testing.TB, c *testchain.Chain) []byte { return c.Export(t) }

func verifyBytes(raw []byte, o verify.Options) (*verify.Report, error) {
	r, err := export.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	return verify.Verify(context.Background(), r, o)
}

// A real chain verifies: the report's figures are the ledger's, and each program's points add
// up — every kind of movement included.
func TestVerifyRealChain(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 10})
	rep, err := verifyBytes(exportOf(t, c), verify.Options{Genesis: c.Genesis.Hash()})
	if err != nil {
		t.Fatalf("%v (%+v)", err, rep.Failure)
	}
	head := c.Ledger.Head()
	var txs uint64
	for _, b := range c.Blocks {
		txs += uint64(len(b.Txs))
	}
	if rep.Height != head.Height || rep.Blocks != head.Height || rep.Txs != txs || rep.StateRoot != head.StateRoot || rep.Failure != nil {
		t.Fatalf("report %+v; ledger head %+v, %d txs", rep, head, txs)
	}
	if len(rep.Programs) != 2 {
		t.Fatalf("programs %+v, want ACME and BETA", rep.Programs)
	}
	if rep.Certificate == nil || rep.Certificate.Hash() != c.Final.Hash() {
		t.Fatalf("the report's certificate is not the export's final one: %+v", rep.Certificate)
	}
	for _, p := range rep.Programs {
		prog, err := c.Ledger.Program(p.Symbol)
		if err != nil {
			t.Fatal(err)
		}
		if p.Outstanding != prog.Stats.Outstanding() || p.Balances != p.Outstanding || p.Holders == 0 {
			t.Fatalf("%s: %+v; ledger stats %+v", p.Symbol, p, prog.Stats)
		}
		if p.Symbol == "ACME" && (p.Expired == 0 || p.Reversed == 0 || p.Redeemed == 0 || p.ExchangedOut == 0) {
			t.Fatalf("ACME: %+v: the generated chain must expire, reverse, redeem and exchange points", p)
		}
		if p.Symbol == "BETA" && p.ExchangedIn == 0 {
			t.Fatalf("BETA: %+v: nothing exchanged in", p)
		}
	}
	// Another genesis than the one trusted fails at once.
	rep, err = verifyBytes(exportOf(t, c), verify.Options{Genesis: chain.Hash{1}})
	if !errors.Is(err, verify.ErrFailed) || rep.Failure == nil || rep.Failure.Check != verify.CheckGenesis {
		t.Fatalf("untrusted genesis: %v %+v", err, rep)
	}
}

// StopAt verifies up to a past height, certified by the certificate the next block carries;
// Observe sees every verified block with its entries and the state after it, and proves
// records against it.
func TestStopAtAndObserve(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 3})
	const stop = 5
	var seen []uint64
	var entries int
	customer := testchain.Addr(c.Keys["c0"])
	rep, err := verifyBytes(exportOf(t, c), verify.Options{StopAt: stop, Observe: func(o *verify.Observed) error {
		seen = append(seen, o.Block.Header.Height)
		if len(o.Entries) != len(o.Block.Txs) || len(o.Senders) != len(o.Block.Txs) {
			t.Fatalf("block %d: %d entries and %d senders for %d txs", o.Block.Header.Height, len(o.Entries), len(o.Senders), len(o.Block.Txs))
		}
		for _, e := range o.Entries {
			entries += len(e)
		}
		p, err := o.Prove(chain.AccountKey(customer))
		if err != nil {
			return err
		}
		return p.Verify(&o.Block.Header)
	}})
	if err != nil {
		t.Fatalf("%v %+v", err, rep.Failure)
	}
	if rep.Height != stop || rep.StateRoot != c.Blocks[stop-1].Header.StateRoot || len(seen) != stop || seen[stop-1] != stop || entries == 0 {
		t.Fatalf("report %+v, observed %v (%d entries)", rep, seen, entries)
	}
	// The certificate of the last block verified is the canonical one, carried by the next.
	if rep.Certificate == nil || rep.Certificate.Hash() != c.Blocks[stop].LastCommit.Hash() {
		t.Fatalf("StopAt %d: the report's certificate is not the one block %d carries: %+v", stop, stop+1, rep.Certificate)
	}
	// Past the chain's end: a failure, not a shorter report.
	if _, err := verifyBytes(exportOf(t, c), verify.Options{StopAt: uint64(len(c.Blocks)) + 1}); !errors.Is(err, verify.ErrFailed) {
		t.Fatalf("StopAt past the end: %v", err)
	}
}
