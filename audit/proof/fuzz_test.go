package proof_test

import (
	"testing"

	"github.com/loyal-ledger/loyal/audit/internal/testchain"
	"github.com/loyal-ledger/loyal/audit/proof"
	"github.com/loyal-ledger/loyal/chain"
)

// FuzzCheck drives the bundle decoder and checker with arbitrary files: never a panic, and
// whatever passes states only what the real bundles of the seed chain state (stillTrue).
func FuzzCheck(f *testing.F) {
	c := testchain.Build(f, testchain.Options{Blocks: 1})
	raw := exportOf(f, c)
	customer := testchain.Addr(c.Keys["c0"])
	type seed struct {
		fact   *proof.Fact
		record *chain.Account
	}
	var seeds []seed
	for _, r := range []proof.Request{{Tx: c.Blocks[3].Txs[1].Hash()}, {Account: customer, Program: "ACME"}, {Account: customer}} {
		b := mustBuild(f, raw, r)
		fact, err := proof.Check(b, c.Genesis)
		if err != nil {
			f.Fatal(err)
		}
		s := seed{fact: fact}
		if b.Account != nil {
			if s.record, err = chain.DecodeAccount(*b.Account.Value); err != nil {
				f.Fatal(err)
			}
		}
		seeds = append(seeds, s)
		f.Add(must(b.Encode()))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := proof.Parse(data)
		if err != nil {
			return
		}
		fact, err := proof.Check(b, c.Genesis)
		if err != nil {
			return
		}
		for _, s := range seeds {
			if stillTrue(s.fact, fact, s.record) == "" {
				return
			}
		}
		t.Fatalf("a fact none of the chain's bundles states: %s", fact)
	})
}
