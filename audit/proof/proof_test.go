package proof_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/loyal-ledger/loyal/audit/internal/testchain"
	"github.com/loyal-ledger/loyal/audit/proof"
	"github.com/loyal-ledger/loyal/chain"
)

// A transaction's bundle checks with the genesis alone and states the transaction, its
// block, its sender and who certified it: in a block below the head (certified by the next
// block's carried certificate) and in the last block (by the export's final one).
func TestTxBundle(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 3})
	raw := exportOf(t, c)
	last := len(c.Blocks) - 1
	for _, at := range []struct{ block, index int }{{3, 2}, {0, 0}, {last, len(c.Blocks[last].Txs) - 1}} {
		blk := c.Blocks[at.block]
		tx := blk.Txs[at.index]
		b := mustBuild(t, raw, proof.Request{Tx: tx.Hash()})
		want := c.Final
		if at.block < last {
			want = c.Blocks[at.block+1].LastCommit
		}
		if b.Kind != proof.KindTx || b.Header.Hash() != blk.Hash() || b.Certificate.Hash() != want.Hash() || b.Genesis != c.Genesis.Hash() || b.ChainID != c.Genesis.ChainID {
			t.Fatalf("block %d: bundle %+v", blk.Header.Height, b)
		}
		f, err := proof.Check(clone(t, b), c.Genesis)
		if err != nil {
			t.Fatalf("block %d: %v", blk.Header.Height, err)
		}
		sender, err := chain.NewSigner(c.Genesis.ChainID, c.Genesis.Hash()).Sender(tx)
		if err != nil {
			t.Fatal(err)
		}
		if f.Tx == nil || f.Tx.Hash != tx.Hash() || f.Tx.Sender != sender || f.Tx.Kind != tx.Kind().String() ||
			f.Tx.Index != uint64(at.index) || f.Tx.Total != uint64(len(blk.Txs)) || f.Height != blk.Header.Height ||
			f.BlockHash != blk.Hash() || len(f.Certified.Signers) != 3 || f.Certified.Validators != 4 {
			t.Fatalf("block %d: fact %+v %+v", blk.Header.Height, f, f.Tx)
		}
		for _, s := range []string{tx.Hash().Hex(), sender.Hex(), "is in block", "certified by 3 of the 4 validators", c.Genesis.Hash().Hex()} {
			if !strings.Contains(f.Statement, s) {
				t.Fatalf("statement %q lacks %q", f.Statement, s)
			}
		}
	}
	// A transaction the chain does not hold.
	if _, err := build(t, raw, proof.Request{Tx: chain.Hash{1}}); !errors.Is(err, proof.ErrNotFound) {
		t.Fatalf("an unknown transaction: %v", err)
	}
}

// An account's bundle at a past height states what the ledger itself held at that height.
// The ledger proves only at its head, so the past is a second chain generated with fewer
// blocks: testchain is deterministic, so that chain is the first one's prefix (checked).
func TestAccountBundleAtPastHeights(t *testing.T) {
	long := testchain.Build(t, testchain.Options{Blocks: 5})
	short := testchain.Build(t, testchain.Options{Blocks: 2})
	past := uint64(len(short.Blocks))
	if short.Blocks[past-1].Hash() != long.Blocks[past-1].Hash() {
		t.Fatal("testchain is not deterministic: the shorter chain is not a prefix of the longer")
	}
	raw := exportOf(t, long)
	for _, tc := range []struct {
		name   string
		height uint64
		ledger *testchain.Chain
	}{{"past", past, short}, {"head", 0, long}, {"head by number", uint64(len(long.Blocks)), long}} {
		for _, name := range []string{"c0", "c1", "c5", "acme", "nobody"} {
			key := long.Keys[name]
			var a chain.Address
			if key != nil {
				a = testchain.Addr(key)
			} else {
				a = chain.Address{0xee}
			}
			for _, program := range []string{"ACME", "BETA", ""} {
				b := mustBuild(t, raw, proof.Request{Account: a, Program: program, Height: tc.height})
				f, err := proof.Check(clone(t, b), long.Genesis)
				if err != nil {
					t.Fatalf("%s, %s, %q: %v", tc.name, name, program, err)
				}
				head := tc.ledger.Ledger.Head()
				if f.Height != head.Height || f.Account.Address != a {
					t.Fatalf("%s, %s: fact at %d for %s, the ledger's head is %d", tc.name, name, f.Height, f.Account.Address, head.Height)
				}
				// The very record the ledger holds, proven by the ledger's own proof.
				lp, err := tc.ledger.Ledger.ProveAccount(a)
				if err != nil {
					t.Fatal(err)
				}
				var value []byte
				if b.Account.Value != nil {
					value = *b.Account.Value
				}
				if !bytes.Equal(value, lp.Value) || (value == nil) != (lp.Value == nil) || lp.StateRoot != b.Header.StateRoot {
					t.Fatalf("%s, %s: the bundle's record %x, the ledger's %x", tc.name, name, value, lp.Value)
				}
				acc, err := tc.ledger.Ledger.Account(a)
				if err != nil {
					t.Fatal(err)
				}
				want := holdings(acc, program, chain.DayOf(head.Time))
				if f.Account.Exists != (lp.Value != nil) || f.Account.Nonce != acc.Nonce || !equalHoldings(f.Account.Holdings, want) {
					t.Fatalf("%s, %s, %q: fact %+v, the ledger's %+v", tc.name, name, program, f.Account, want)
				}
				if name == "c0" && program == "ACME" && f.Account.Holdings[0].Total == 0 {
					t.Fatalf("%s: c0 holds no ACME: the test proves nothing", tc.name)
				}
			}
		}
	}
	// Past the chain's end there is nothing to prove.
	if _, err := build(t, raw, proof.Request{Account: testchain.Addr(long.Keys["c0"]), Height: uint64(len(long.Blocks)) + 1}); err == nil {
		t.Fatal("a bundle beyond the chain's end")
	}
}

// holdings is the ledger's view of the balances a fact states.
func holdings(acc *chain.Account, program string, today chain.Day) []proof.Holding {
	h := func(p string, b *chain.Balance) proof.Holding {
		if b == nil {
			return proof.Holding{Program: p}
		}
		return proof.Holding{Program: p, Available: b.Available(today), Pending: b.Pending(today), Total: b.Total(today)}
	}
	if program != "" {
		return []proof.Holding{h(program, acc.Balance(program))}
	}
	out := []proof.Holding{}
	for i := range acc.Holdings {
		out = append(out, h(acc.Holdings[i].Program, &acc.Holdings[i].Balance))
	}
	return out
}

func equalHoldings(a, b []proof.Holding) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A bundle survives its file form byte for byte, and a future version is named as such.
func TestBundleFile(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 1})
	b := mustBuild(t, exportOf(t, c), proof.Request{Account: testchain.Addr(c.Keys["c1"]), Program: "ACME"})
	data, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	again, err := proof.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if data2, _ := again.Encode(); !bytes.Equal(data, data2) {
		t.Fatalf("the file form does not survive a round trip:\n%s\n%s", data, data2)
	}
	for name, tc := range map[string]struct{ from, to string }{
		"future version":   {`"version": 1`, `"version": 2`},
		"another format":   {`"format": "loyal-proof"`, `"format": "other"`},
		"unknown field":    {`"kind": "account"`, `"kind": "account", "extra": 1`},
		"repeated field":   {`"kind": "account"`, `"kind": "account", "kind": "tx"`},
		"padded integer":   {`"chain_id": "4242"`, `"chain_id": "04242"`},
		"trailing garbage": {"}\n", "}\n{}"},
	} {
		bad := []byte(strings.Replace(string(data), tc.from, tc.to, 1))
		if bytes.Equal(bad, data) {
			t.Fatalf("%s: %q is not in the bundle", name, tc.from)
		}
		if _, err := proof.Parse(bad); !errors.Is(err, proof.ErrBadBundle) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := proof.Parse(bytes.Repeat([]byte(" "), proof.MaxBundleBytes+1)); !errors.Is(err, proof.ErrBadBundle) {
		t.Errorf("an oversized file: %v", err)
	}
	if chain.Code(proof.ErrBadBundle) != "bad_bundle" || chain.Code(proof.ErrNotCertified) != "not_certified" {
		t.Error("codes changed")
	}
}
