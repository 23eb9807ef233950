package ledger_test

import (
	"errors"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
)

// VerifyBlock accepts a valid next block and refuses a bad one, changing nothing either way:
// the head, the state root and what a later ApplyBlock computes stay the same.
func TestVerifyBlockChangesNothing(t *testing.T) {
	net := newNetwork(t, chain.DefaultParams())
	nd := openNode(t, net, "pebble", t.TempDir())
	defer nd.close(t)
	customer := testKey(t, "customer")
	txs := []*chain.Tx{net.tx(t, net.partner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(customer), Amount: 5, OrderRef: "o1"}}})}
	senders, err := nd.l.RecoverSenders(txs)
	if err != nil {
		t.Fatal(err)
	}
	blk, _, err := nd.l.BuildBlock(genesisTime+10, addr(net.validator), txs, senders, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := nd.l.Head()
	if err := nd.l.VerifyBlock(blk, senders); err != nil {
		t.Fatalf("valid block refused: %v", err)
	}
	bad, err := chain.DecodeBlock(blk.Encode())
	if err != nil {
		t.Fatal(err)
	}
	bad.Header.StateRoot[0] ^= 1
	if err := nd.l.VerifyBlock(bad, senders); !errors.Is(err, chain.ErrBadBlock) {
		t.Fatalf("block with a wrong state root: %v", err)
	}
	if after := nd.l.Head(); after != before {
		t.Fatalf("VerifyBlock moved the head: %+v -> %+v", before, after)
	}
	if err := nd.l.ApplyBlockWithSenders(blk, senders, net.certify(t, blk)); err != nil {
		t.Fatalf("apply after verify: %v", err)
	}
	if nd.l.Head().StateRoot != blk.Header.StateRoot {
		t.Fatal("state root after apply differs from the verified block's")
	}
}
