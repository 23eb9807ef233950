package node_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node"
	"github.com/loyal-ledger/loyal/node/consensus"
)

// A transaction waiting for a missing nonce of its sender is no work: the node makes no
// block for it (a block could not carry it), so the next block is the one a runnable
// transaction asks for.
func TestQueuedTransactionMakesNoBlocks(t *testing.T) {
	owner, alice, bob := testKey(t, "owner"), testKey(t, "alice"), testKey(t, "bob")
	home := initHome(t, owner, "pebble")
	r := start(t, home)
	c := newClient(t, r)
	c.commit(owner, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme"})
	funded := c.commit(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{
		{To: addr(alice), Amount: 10, OrderRef: "a"}, {To: addr(bob), Amount: 10, OrderRef: "b"},
	}})

	c.nonces[addr(alice)] = 1 // nonce 0 never sent: this one waits
	gapped := c.sign(alice, &chain.Transfer{Program: "ACME", To: addr(bob), Amount: 1})
	var sub api.Submitted
	if status, e := call(t, "POST", r.url+"/v1/txs", "", gapped, &sub); status != http.StatusAccepted || sub.Status != api.TxPending {
		t.Fatalf("gapped transfer: %d %+v %+v", status, sub, e)
	}
	next := c.commit(bob, &chain.Transfer{Program: "ACME", To: addr(alice), Amount: 1})
	if next.Height != funded.Height+1 {
		t.Fatalf("bob's transfer committed at %d, want %d: the node made %d block(s) for a transaction it cannot run",
			next.Height, funded.Height+1, next.Height-funded.Height-1)
	}
}

// A transaction sent again after its validity window closed, having committed inside it, is
// answered with where it committed, not as expired.
func TestResubmittingAnExpiredCommittedTxAnswersWhereItIs(t *testing.T) {
	owner, alice := testKey(t, "owner"), testKey(t, "alice")
	r := start(t, initHome(t, owner, "pebble"))
	c := newClient(t, r)
	reg := c.commit(owner, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme"})
	var st api.Status
	call(t, "GET", r.url+"/v1/status", "", nil, &st)
	tx := chain.NewTx(c.chain, c.nonces[addr(owner)], st.HeadTime+2, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 9, OrderRef: "o-1"}}})
	if err := c.signer.Sign(tx, owner); err != nil {
		t.Fatal(err)
	}
	c.nonces[addr(owner)]++
	var first api.Submitted
	if status, e := call(t, "POST", r.url+"/v1/txs?wait=20s", "", tx, &first); status != http.StatusOK || first.Status != api.TxCommitted {
		t.Fatalf("first submit: %d %+v %+v", status, first, e)
	}
	// Blocks move the chain's time past the window.
	for i := 0; ; i++ {
		call(t, "GET", r.url+"/v1/status", "", nil, &st)
		if st.HeadTime > tx.ValidUntil {
			break
		}
		c.commit(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 1, OrderRef: "pad-" + string(rune('a'+i))}}})
	}
	var again api.Submitted
	if status, e := call(t, "POST", r.url+"/v1/txs", "", tx, &again); status != http.StatusOK || again != first {
		t.Fatalf("resubmitted after its window: %d %+v %+v, want 200 %+v (registered at %d)", status, again, e, first, reg.Height)
	}
}

// A signed state from a later height than the ledger (left behind by a rollback) stops the
// node when it starts that height, with the engine's error: going on would leave a validator
// silently unable to vote.
func TestSignedStateAheadStopsTheNode(t *testing.T) {
	owner := testKey(t, "owner")
	home := initHome(t, owner, "pebble")
	none := consensus.BlockRef{Round: -1}
	ahead := &consensus.SignedState{Height: 10, Locked: none, Valid: none}
	if err := os.WriteFile(filepath.Join(home, "signed_state.bin"), ahead.Encode(), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(home, node.NewLogger(node.LogConfig{Level: "error", Format: "text"}, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	var st api.Status
	call(t, "GET", n.APIURL()+"/v1/status", "", nil, &st)
	c := &client{t: t, signer: chain.NewSigner(st.ChainID, st.GenesisHash), chain: st.ChainID, nonces: map[chain.Address]uint64{}}
	if _, err := n.Submit(c.sign(owner, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme"})); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, consensus.ErrStateAhead) {
			t.Fatalf("Run = %v, want ErrStateAhead", err)
		}
	case <-ctx.Done():
		t.Fatal("the node ran on with a signed state from height 10 and its ledger at 0")
	}
}
