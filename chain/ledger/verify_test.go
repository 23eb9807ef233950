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

// A verified or built block stays executed for the commit that follows; whatever comes in
// between (another block verified, a proof, a different block committed) sees the head's
// state. Two ledgers, one taking every detour and one committing directly, end identical.
func TestSpeculationNeverLeaks(t *testing.T) {
	net := newNetwork(t, chain.DefaultParams())
	direct := openNode(t, net, "pebble", t.TempDir())
	defer direct.close(t)
	detourDir := t.TempDir()
	detour := openNode(t, net, "pebble", detourDir)
	alice, bob := testKey(t, "alice"), testKey(t, "bob")
	earn := net.tx(t, net.partner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 50, OrderRef: "o1"}}})
	first := direct.produce(t, genesisTime+10, earn)
	firstCommit := net.certify(t, first)

	proveAlice := func(nd *node) {
		t.Helper()
		p, err := nd.l.ProveState(chain.AccountKey(addr(alice)))
		if err != nil {
			t.Fatal(err)
		}
		head := nd.l.Head()
		if err := p.Verify(&chain.Header{Height: head.Height, StateRoot: head.StateRoot}); err != nil {
			t.Fatalf("proof at height %d: %v", head.Height, err)
		}
	}
	build := func(nd *node, tm uint64, lastCommit *chain.Commit, txs ...*chain.Tx) (*chain.Block, []chain.Address) {
		t.Helper()
		senders, err := nd.l.RecoverSenders(txs)
		if err != nil {
			t.Fatal(err)
		}
		blk, rejected, err := nd.l.BuildBlock(tm, addr(net.validator), txs, senders, lastCommit)
		if err != nil || len(rejected) > 0 {
			t.Fatalf("build: %v %v", err, rejected)
		}
		return blk, senders
	}

	// Height 1 on the detour: build it (speculated), prove (settles), verify a rival block,
	// then commit the first one: it must be executed again, not taken from the rival.
	blk1, s1 := build(detour, genesisTime+10, nil, earn)
	if blk1.Hash() != first.Hash() {
		t.Fatal("the two ledgers built different blocks from the same input")
	}
	proveAlice(detour)
	rival, rs := build(detour, genesisTime+11, nil) // empty, another time
	if err := detour.l.VerifyBlock(rival, rs); err != nil {
		t.Fatal(err)
	}
	if err := detour.l.VerifyBlock(blk1, s1); err != nil {
		t.Fatal(err)
	}
	if err := detour.l.VerifyBlock(rival, rs); err != nil { // the rival again, over blk1's speculation
		t.Fatal(err)
	}
	if err := detour.l.ApplyBlockWithSenders(blk1, s1, firstCommit); err != nil {
		t.Fatal(err)
	}
	proveAlice(detour)

	// Height 2: verify, then commit the same block (taken from the speculation).
	xfer := net.tx(t, alice, &chain.Transfer{Program: "ACME", To: addr(bob), Amount: 20})
	blk2, s2 := build(direct, genesisTime+20, firstCommit, xfer)
	if err := direct.l.ApplyBlockWithSenders(blk2, s2, net.certify(t, blk2)); err != nil {
		t.Fatal(err)
	}
	if err := detour.l.VerifyBlock(blk2, s2); err != nil {
		t.Fatal(err)
	}
	proveAlice(detour) // takes the speculation out of the tree and puts it back
	// The commit must take the verified execution, not execute the block again. Only
	// execution reads the senders, so the commit is given a wrong one: carol, who holds
	// nothing, as the transfer's sender. Executing the block again would refuse it (an
	// overdraft); taking the verified execution commits alice's transfer, as the heads and
	// balances compared below confirm. (A store that counted state reads could not tell: the
	// verification left every record the block reads in the state cache.)
	carol := testKey(t, "carol")
	secondCommit := net.certify(t, blk2)
	if err := detour.l.ApplyBlockWithSenders(blk2, []chain.Address{addr(carol)}, secondCommit); err != nil {
		t.Fatalf("the verified block was executed again: %v", err)
	}
	proveAlice(detour)

	// A block built on a wrong certificate (BuildBlock takes it on trust) is refused by
	// VerifyBlock and ApplyBlock although it was speculated, and changes nothing.
	wrong, ws := build(detour, genesisTime+30, firstCommit) // height 1's certificate where 2's belongs
	head := detour.l.Head()
	if err := detour.l.VerifyBlock(wrong, ws); !errors.Is(err, chain.ErrBadBlock) {
		t.Fatalf("verify a block with a wrong certificate: %v", err)
	}
	if err := detour.l.ApplyBlockWithSenders(wrong, ws, net.certify(t, wrong)); !errors.Is(err, chain.ErrBadBlock) {
		t.Fatalf("apply a block with a wrong certificate: %v", err)
	}
	if detour.l.Head() != head {
		t.Fatal("a refused block moved the head")
	}
	proveAlice(detour)
	if detour.l.Head() != direct.l.Head() {
		t.Fatalf("heads differ: %+v vs %+v", detour.l.Head(), direct.l.Head())
	}
	if got := detour.balance(t, addr(bob), "ACME"); got != 20 {
		t.Fatalf("bob has %d", got)
	}
	// And a reopened detour ledger recomputes the same root from its store.
	detour.close(t)
	again := openNode(t, net, "pebble", detourDir)
	defer again.close(t)
	if again.l.Head() != direct.l.Head() {
		t.Fatalf("reopened: %+v vs %+v", again.l.Head(), direct.l.Head())
	}
}
