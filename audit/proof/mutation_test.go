package proof_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/loyal-ledger/loyal/audit/internal/testchain"
	"github.com/loyal-ledger/loyal/audit/proof"
	"github.com/loyal-ledger/loyal/chain"
)

// No single-byte change of a bundle file makes check-proof state a false fact: each one is
// refused, or — a change of spelling (a hex digit's case), of the position the bundle
// states for a transaction, or of the program an account's bundle is about — what it states
// is still true. Never a panic.
func TestNoByteChangeProvesAFalseFact(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 2})
	raw := exportOf(t, c)
	customer := testchain.Addr(c.Keys["c1"])
	rng := rand.New(rand.NewPCG(13, 5))
	for _, r := range []proof.Request{
		{Tx: c.Blocks[3].Txs[2].Hash()},
		{Account: customer, Program: "ACME", Height: 4},
		{Account: customer},
	} {
		b := mustBuild(t, raw, r)
		data, err := b.Encode()
		if err != nil {
			t.Fatal(err)
		}
		truth, err := proof.Check(b, c.Genesis)
		if err != nil {
			t.Fatal(err)
		}
		var record *chain.Account
		if b.Account != nil {
			if record, err = chain.DecodeAccount(*b.Account.Value); err != nil {
				t.Fatal(err)
			}
		}
		refused, passed := 0, 0
		for range 1500 {
			bad := slices.Clone(data)
			i := rng.IntN(len(bad))
			bad[i] ^= byte(1 + rng.IntN(255))
			parsed, err := proof.Parse(bad)
			if err != nil {
				refused++
				continue
			}
			f, err := proof.Check(parsed, c.Genesis)
			if err != nil {
				refused++
				continue
			}
			passed++
			if msg := stillTrue(truth, f, record); msg != "" {
				t.Fatalf("%+v: byte %d changed (%q → %q), check-proof states a false fact: %s\n%s", r, i, data[i], bad[i], msg, f)
			}
		}
		t.Logf("%+v: %d refused, %d passed with a true fact", r, refused, passed)
	}
}

// stillTrue says what f states that truth (the unaltered bundle's fact) and the account's
// record do not, "" if nothing.
func stillTrue(truth, f *proof.Fact, record *chain.Account) string {
	switch {
	case f.Kind != truth.Kind || f.Genesis != truth.Genesis || f.ChainID != truth.ChainID || f.Height != truth.Height ||
		f.BlockHash != truth.BlockHash || f.Time != truth.Time || f.Certified.Round != truth.Certified.Round ||
		!slices.Equal(f.Certified.Signers, truth.Certified.Signers):
		return "another block or certificate"
	case f.Tx != nil && (f.Tx.Hash != truth.Tx.Hash || f.Tx.Kind != truth.Tx.Kind || f.Tx.Sender != truth.Tx.Sender):
		return "another transaction"
	case f.Account != nil && (f.Account.Address != truth.Account.Address || f.Account.Exists != truth.Account.Exists || f.Account.Nonce != truth.Account.Nonce):
		return "another account"
	case f.Account != nil && !equalHoldings(f.Account.Holdings, holdings(record, f.Account.Program, chain.DayOf(f.Time))):
		return "other balances"
	}
	return ""
}
