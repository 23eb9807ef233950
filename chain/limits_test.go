package chain_test

import (
	"crypto/ecdsa"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/loyal-ledger/loyal/chain"
)

// At the last block time the ledger accepts, the longest pending window and expiry still
// give days below the never-expires sentinel, and a block after a gap of millions of days
// counts every expired point once without walking every day in between.
func TestFarFutureBlockTime(t *testing.T) {
	key := seedKey(t)
	owner := crypto.PubkeyToAddress(key.PublicKey)
	customer := crypto.PubkeyToAddress(seedKeyN(t, 2).PublicKey)
	g := validGenesis(t)
	g.Programs[0].Policy = chain.Policy{PendingDays: chain.MaxPendingDays, ExpiryDays: chain.MaxExpiryDays}
	base := memReader{}
	st := chain.NewState(base, chain.NewSchedule(g).At(0), 0, g.GenesisTime)
	if err := g.InitState(st); err != nil {
		t.Fatal(err)
	}
	base.apply(st.Changes())

	// Earn at genesis: expires long before the far-future block.
	st = chain.NewState(base, chain.NewSchedule(g).At(0), 1, g.GenesisTime+1)
	if err := st.BeginBlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyTx(chain.NewTx(g.ChainID, 0, 0, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: customer, Amount: 7, OrderRef: "early"}}}), owner); err != nil {
		t.Fatal(err)
	}
	base.apply(st.Changes())

	st = chain.NewState(base, chain.NewSchedule(g).At(0), 2, chain.MaxBlockTime)
	if err := st.BeginBlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyTx(chain.NewTx(g.ChainID, 1, 0, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: customer, Amount: 5, OrderRef: "late"}}}), owner); err != nil {
		t.Fatal(err)
	}
	base.apply(st.Changes())

	prog := base.program(t, "ACME")
	if prog.Stats.Expired != 7 || prog.Stats.Outstanding() != 5 {
		t.Fatalf("stats %+v: want the 7 early points expired and 5 outstanding", prog.Stats)
	}
	b := base.balance(t, customer, "ACME")
	today := chain.DayOf(chain.MaxBlockTime)
	if len(b.Lots) != 1 || b.Pending(today) != 5 || b.Available(today) != 0 {
		t.Fatalf("late lots %+v: want 5 points still pending", b.Lots)
	}
	if l := b.Lots[0]; l.Available <= today || l.Expiry <= l.Available || l.Expiry == chain.NeverExpires {
		t.Fatalf("late lot days wrapped: %+v (today %d)", l, today)
	}
}

func seedKeyN(tb testing.TB, n byte) *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte{'k', n}))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}
