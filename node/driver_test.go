package node_test

import (
	"net/http"
	"testing"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
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
