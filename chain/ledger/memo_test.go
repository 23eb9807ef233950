package ledger_test

import (
	"fmt"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
)

// The expiry memo changes no root: one ledger builds blocks over several days (several a
// day, a program registered in the middle of a day, points expiring) with the memo, and a
// second ledger, reopened before every block so that it never has one (the memo is unknown
// after Open), verifies and commits each of them — the block's state root is checked there,
// so a root the memo changed would be refused. Their heads agree at every height.
func TestExpiryMemoChangesNoRoot(t *testing.T) {
	net := newNetwork(t, chain.DefaultParams())
	with := openNode(t, net, "pebble", t.TempDir())
	defer with.close(t)
	withoutDir := t.TempDir()
	customer := addr(testKey(t, "customer"))
	day := uint64(genesisTime/chain.SecondsPerDay + 1)
	times := []uint64{}
	for d := range uint64(4) { // four days, three blocks each
		for s := range uint64(3) {
			times = append(times, (day+2*d)*chain.SecondsPerDay+100*(s+1))
		}
	}
	for i, tm := range times {
		var txs []*chain.Tx
		switch i {
		case 1: // registered after the day's first block: expiry starts from today
			txs = append(txs, net.tx(t, net.partner, &chain.RegisterProgram{Symbol: "LATE", Name: "Late", Policy: chain.Policy{ExpiryDays: 1}}))
		default:
			txs = append(txs, net.tx(t, net.partner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: customer, Amount: uint64(10 + i), OrderRef: fmt.Sprintf("a-%d", i)}}}))
			if i > 1 {
				txs = append(txs, net.tx(t, net.partner, &chain.Earn{Program: "LATE", Credits: []chain.Credit{{To: customer, Amount: uint64(i), OrderRef: fmt.Sprintf("l-%d", i)}}}))
			}
		}
		blk := with.produce(t, tm, txs...)
		if d, known := ledger.ExpiryMemo(with.l); !known || d != uint32(chain.DayOf(tm)) {
			t.Fatalf("block %d: memo %d (known %v), want day %d", i+1, d, known, chain.DayOf(tm))
		}

		without := openNode(t, net, "pebble", withoutDir)
		if _, known := ledger.ExpiryMemo(without.l); known {
			t.Fatal("a memo known right after Open")
		}
		if err := without.l.ApplyBlock(blk, net.certify(t, blk)); err != nil {
			t.Fatalf("block %d at %d, built with the memo, refused without it: %v", i+1, tm, err)
		}
		if a, b := with.l.Head(), without.l.Head(); a != b {
			t.Fatalf("block %d: heads differ: with the memo %+v, without %+v", i+1, a, b)
		}
		without.close(t)
	}
	// Points did expire on the way, so the days' processing ran.
	raw, err := with.l.GetState(chain.ProgramKey("LATE"))
	if err != nil {
		t.Fatal(err)
	}
	late, err := chain.DecodeProgram(raw)
	if err != nil {
		t.Fatal(err)
	}
	if late.Stats.Expired == 0 || late.ExpiredThrough != chain.DayOf(times[len(times)-1]) {
		t.Fatalf("LATE: %d expired, through day %d; want some, through %d", late.Stats.Expired, late.ExpiredThrough, chain.DayOf(times[len(times)-1]))
	}
}
