package ledger_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
)

// CheckQueue runs the sender's waiting transactions before the new one: funds spent by the
// queue are gone, a gap counts as a transaction that changes nothing, committed and failing
// queued ones are skipped, and nothing is written.
func TestCheckQueue(t *testing.T) {
	net := newNetwork(t, chain.DefaultParams())
	nd := openNode(t, net, "pebble", t.TempDir())
	defer nd.close(t)
	alice, bob, stranger := testKey(t, "alice"), testKey(t, "bob"), testKey(t, "stranger")
	nd.produce(t, genesisTime+10, net.tx(t, net.partner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 100, OrderRef: "o-1"}}}))
	spend := func(n, amount uint64) *chain.Tx {
		tx := chain.NewTx(net.genesis.ChainID, n, 0, &chain.Transfer{Program: "ACME", To: addr(bob), Amount: amount})
		if err := net.signer.Sign(tx, alice); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	committed := spend(0, 10)
	nd.produce(t, genesisTime+20, committed) // alice: 90 left, next nonce 1
	root := nd.l.Head().StateRoot
	now := uint64(genesisTime + 30)

	for _, c := range []struct {
		name  string
		queue []*chain.Tx
		tx    *chain.Tx
		want  error
	}{
		{"alone, within funds", nil, spend(1, 90), nil},
		{"alone, over funds", nil, spend(1, 91), chain.ErrInsufficientPoints},
		{"after the queue, within what it leaves", []*chain.Tx{spend(1, 60)}, spend(2, 30), nil},
		{"after the queue, over what it leaves", []*chain.Tx{spend(1, 60)}, spend(2, 31), chain.ErrInsufficientPoints},
		{"after a gap: the missing nonce changes nothing", []*chain.Tx{spend(1, 60)}, spend(5, 31), chain.ErrInsufficientPoints},
		{"gaps before the queue and the tx", []*chain.Tx{spend(3, 50), spend(4, 40)}, spend(9, 1), chain.ErrInsufficientPoints},
		{"a committed queued tx is skipped", []*chain.Tx{committed, spend(1, 80)}, spend(2, 10), nil},
		{"a failing queued tx is skipped", []*chain.Tx{spend(1, 1000), spend(2, 50)}, spend(3, 40), nil},
		// Nonces sent in descending order must not spend the same points twice.
		{"before queued txs it would leave unable to run", []*chain.Tx{spend(3, 90)}, spend(2, 90), chain.ErrInsufficientPoints},
		{"before queued txs that still run", []*chain.Tx{spend(3, 40)}, spend(2, 50), nil},
		{"before queued txs that failed anyway", []*chain.Tx{spend(3, 1000)}, spend(2, 90), nil},
		{"a nonce already committed", nil, spend(0, 1), chain.ErrNonceTooLow},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := nd.l.CheckQueue(c.queue, c.tx, addr(alice), now)
			if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("CheckQueue = %v, want %v", err, c.want)
			}
		})
	}
	// Role and program, whatever the nonce: a stranger may not earn for ACME.
	earn := chain.NewTx(net.genesis.ChainID, 7, 0, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(bob), Amount: 1, OrderRef: "x"}}})
	if err := net.signer.Sign(earn, stranger); err != nil {
		t.Fatal(err)
	}
	if err := nd.l.CheckQueue(nil, earn, addr(stranger), now); !errors.Is(err, chain.ErrNotOperator) {
		t.Fatalf("a stranger's earn at nonce 7: %v, want not_operator", err)
	}
	if got := nd.l.Head().StateRoot; got != root {
		t.Fatalf("CheckQueue changed the state root: %s, was %s", got, root)
	}
	if got := nd.balance(t, addr(alice), "ACME"); got != 90 {
		t.Fatalf("alice has %d, want 90", got)
	}
}

// The reversal index finds an order's latest reversal, and nothing for another order whose
// ref extends this one's.
func TestLastReversal(t *testing.T) {
	net := newNetwork(t, chain.DefaultParams())
	nd := openNode(t, net, "pebble", t.TempDir())
	defer nd.close(t)
	alice := testKey(t, "alice")
	credit := func(ref string) chain.Credit { return chain.Credit{To: addr(alice), Amount: 50, OrderRef: ref} }
	nd.produce(t, genesisTime+10, net.tx(t, net.partner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{credit("o-1"), credit("o-12")}}))
	if _, _, ok, err := nd.l.LastReversal("ACME", "o-1"); ok || err != nil {
		t.Fatalf("before any reversal: ok %v, err %v", ok, err)
	}
	first := net.tx(t, net.partner, &chain.Reverse{Program: "ACME", OrderRef: "o-1", Amount: 5})
	nd.produce(t, genesisTime+20, first)
	other := net.tx(t, net.partner, &chain.Reverse{Program: "ACME", OrderRef: "o-12", Amount: 5})
	second := net.tx(t, net.partner, &chain.Reverse{Program: "ACME", OrderRef: "o-1", Amount: 7})
	nd.produce(t, genesisTime+30, other, second)
	h, height, ok, err := nd.l.LastReversal("ACME", "o-1")
	if err != nil || !ok || h != second.Hash() || height != 3 {
		t.Fatalf("LastReversal(o-1) = %s at %d, %v, %v; want %s at 3", h, height, ok, err, second.Hash())
	}
	h, height, ok, err = nd.l.LastReversal("ACME", "o-12")
	if err != nil || !ok || h != other.Hash() || height != 3 {
		t.Fatalf("LastReversal(o-12) = %s at %d, %v, %v; want %s at 3", h, height, ok, err, other.Hash())
	}
	if _, _, ok, err := nd.l.LastReversal("ACME", "o"); ok || err != nil {
		t.Fatalf("LastReversal(o) = %v, %v; want none", ok, err)
	}
}

// The admission cache moves with each commit: a record a check read before the block is
// replaced by the block's change to it, so the next check sees the block (nonce and funds)
// without reading the store, and a record the block did not change stays cached.
func TestAdmissionCacheFollowsCommits(t *testing.T) {
	net := newNetwork(t, chain.DefaultParams())
	nd := openNode(t, net, "pebble", t.TempDir())
	defer nd.close(t)
	alice, bob := testKey(t, "alice"), testKey(t, "bob")
	nd.produce(t, genesisTime+10, net.tx(t, net.partner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 100, OrderRef: "o-1"}}}))
	spend := func(n, amount uint64) *chain.Tx {
		tx := chain.NewTx(net.genesis.ChainID, n, 0, &chain.Transfer{Program: "ACME", To: addr(bob), Amount: amount})
		if err := net.signer.Sign(tx, alice); err != nil {
			t.Fatal(err)
		}
		return tx
	}
	now := uint64(genesisTime + 1000)
	left := uint64(100)
	for n := uint64(0); n < 3; n++ {
		// Checked (and so cached) before its block, as every validator checks it.
		if got, err := nd.l.CommittedNonce(addr(alice)); err != nil || got != n {
			t.Fatalf("before block %d: committed nonce %d, %v; want %d", n, got, err, n)
		}
		if err := nd.l.CheckQueue(nil, spend(n, left+1), addr(alice), now); !errors.Is(err, chain.ErrInsufficientPoints) {
			t.Fatalf("spending %d of %d: %v, want insufficient points", left+1, left, err)
		}
		if _, ok := ledger.AdmitCached(nd.l, chain.AccountKey(addr(alice))); !ok {
			t.Fatalf("alice's account is not cached after a check")
		}
		programBefore, ok := ledger.AdmitCached(nd.l, chain.ProgramKey("ACME"))
		if !ok {
			t.Fatalf("ACME is not cached after a check")
		}
		nd.produce(t, genesisTime+20+10*n, spend(n, 10))
		left -= 10

		cached, ok := ledger.AdmitCached(nd.l, chain.AccountKey(addr(alice)))
		stored, err := nd.l.GetState(chain.AccountKey(addr(alice)))
		if !ok || err != nil || string(cached) != string(stored) {
			t.Fatalf("after block %d: alice's cached account %x (cached %v), stored %x (%v)", n, cached, ok, stored, err)
		}
		if program, ok := ledger.AdmitCached(nd.l, chain.ProgramKey("ACME")); !ok || string(program) != string(programBefore) {
			t.Fatalf("after block %d: ACME cached %v, %x; want %x", n, ok, program, programBefore)
		}
		if got, err := nd.l.CommittedNonce(addr(alice)); err != nil || got != n+1 {
			t.Fatalf("after block %d: committed nonce %d, %v; want %d", n, got, err, n+1)
		}
		if err := nd.l.CheckQueue(nil, spend(n+1, left+1), addr(alice), now); !errors.Is(err, chain.ErrInsufficientPoints) {
			t.Fatalf("after block %d: spending %d of %d: %v, want insufficient points", n, left+1, left, err)
		}
		if err := nd.l.CheckQueue(nil, spend(n+1, left), addr(alice), now); err != nil {
			t.Fatalf("after block %d: spending all %d: %v", n, left, err)
		}
	}
}

// Admission reads the head for every transaction a client or a peer sends: it must not wait
// for a block being executed (seconds for a large block on a slow disk), nor must the API.
func TestHeadDoesNotWaitForExecution(t *testing.T) {
	net := newNetwork(t, chain.DefaultParams())
	nd := openNode(t, net, "pebble", t.TempDir())
	defer nd.close(t)
	alice := testKey(t, "alice")
	nd.produce(t, genesisTime+10, net.tx(t, net.partner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 100, OrderRef: "o-1"}}}))
	want := nd.l.Head()
	done := ledger.Executing(nd.l)
	defer done()
	got := make(chan error, 1)
	go func() {
		if h := nd.l.Head(); h != want {
			got <- fmt.Errorf("head %+v, want %+v", h, want)
			return
		}
		tx := chain.NewTx(net.genesis.ChainID, 0, 0, &chain.Transfer{Program: "ACME", To: addr(net.partner), Amount: 1})
		if err := net.signer.Sign(tx, alice); err != nil {
			got <- err
			return
		}
		got <- nd.l.CheckQueue(nil, tx, addr(alice), genesisTime+20)
	}()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Head and CheckQueue wait for the ledger's lock")
	}
}
