package node_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node"
)

// openStopped opens home's node without running it: the API answers nothing yet and no
// block is made, so transactions gather in the mempool for the first block run makes.
func openStopped(t *testing.T, home string) (*node.Node, func() *running) {
	n, err := node.Open(home, node.NewLogger(node.LogConfig{Level: "warn", Format: "text"}, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	run := func() *running {
		ctx, cancel := context.WithCancel(context.Background())
		r := &running{home: home, n: n, url: n.APIURL(), cancel: cancel, done: make(chan error, 1)}
		go func() { r.done <- n.Run(ctx) }()
		t.Cleanup(func() { r.stop(t) })
		return r
	}
	return n, run
}

// TestMerchantDeskOperatorQueue covers the merchant desk's side of issue 12:
//   - an operator transaction queued behind others is checked against the state after them
//     before it is accepted (it used to get 202 unchecked);
//   - one that fails when its block is built is reported, with the ledger's code, to the next
//     request for its order, and the operator's later transactions — which the mempool drops
//     with it, their nonces no longer able to run — are signed again and commit (they used
//     to be dropped silently);
//   - the desk's bookkeeping is emptied as blocks commit, not only when an order is retried.
func TestMerchantDeskOperatorQueue(t *testing.T) {
	owner, alice, bob, carol := testKey(t, "owner"), testKey(t, "alice"), testKey(t, "bob"), testKey(t, "carol")
	home := initHome(t, owner, "pebble")
	tok := merchantToken(t, home)
	r := start(t, home)
	c := newClient(t, r)
	var st api.Status
	call(t, "GET", r.url+"/v1/status", "", nil, &st)
	c.commit(owner, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme", Operators: []chain.Address{st.Operator}})
	r.stop(t)

	// While no block is made: the owner credits order x itself, and the shop's back end,
	// unaware, credits x, then y and z, through the desk.
	n, run := openStopped(t, home)
	ownerX := c.sign(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 5, OrderRef: "x"}}})
	if _, err := n.Submit(ownerX); err != nil {
		t.Fatal(err)
	}
	earn := func(to chain.Address, amount uint64, ref string) api.MerchantEarn {
		return api.MerchantEarn{Program: "ACME", Credits: []chain.Credit{{To: to, Amount: amount, OrderRef: ref}}}
	}
	deskX := earn(addr(bob), 7, "x")
	for _, req := range []api.MerchantEarn{deskX, earn(addr(bob), 11, "y"), earn(addr(carol), 13, "z")} {
		if sub, err := n.MerchantEarn(req); err != nil || sub.Status != api.TxPending {
			t.Fatalf("earn %s: %+v, %v", req.Credits[0].OrderRef, sub, err)
		}
	}
	// Fourth in the operator's queue, an order ref over the genesis' max_ref_len: refused
	// now with the ledger's code.
	long := strings.Repeat("r", 129)
	if _, err := n.MerchantEarn(earn(addr(carol), 1, long)); chain.Code(err) != "field_too_long" {
		t.Fatalf("queued earn with a ref too long: %v, want field_too_long", err)
	}

	// The first block: the owner's x commits, the desk's x fails (duplicate_order), and y
	// and z, dropped with it, are signed again and commit.
	r = run()
	deadline := time.Now().Add(20 * time.Second)
	for balance(t, r, addr(bob), "ACME").Total != 11 || balance(t, r, addr(carol), "ACME").Total != 13 {
		if time.Now().After(deadline) {
			t.Fatalf("y and z did not commit: bob %+v, carol %+v", balance(t, r, addr(bob), "ACME"), balance(t, r, addr(carol), "ACME"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := balance(t, r, addr(alice), "ACME"); got.Total != 5 {
		t.Fatalf("alice has %d, want the owner's 5", got.Total)
	}
	// Every desk transaction is committed or failed: nothing is left pending. The desk is
	// pruned just after the ledger takes the block, so the balances above may be seen first.
	for {
		orders, txs, failed := node.DeskTracked(n)
		if orders == 0 && txs == 0 && failed == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("desk tracks %d orders, %d txs, %d failures; want 0, 0, 1", orders, txs, failed)
		}
		time.Sleep(5 * time.Millisecond)
	}

	// The shop retries x: told once that its transaction failed, and why; then, like any
	// request for an order credited otherwise, order_conflict.
	status, e := call(t, "POST", r.url+"/v1/merchant/earn", tok, deskX, nil)
	if status != http.StatusConflict || e.Code != "duplicate_order" || !strings.Contains(e.Message, "failed when its block was built") {
		t.Fatalf("retry of the failed order: %d %+v, want 409 duplicate_order", status, e)
	}
	if status, e := call(t, "POST", r.url+"/v1/merchant/earn", tok, deskX, nil); status != http.StatusConflict || e.Code != "order_conflict" {
		t.Fatalf("second retry: %d %+v, want 409 order_conflict", status, e)
	}
	var y api.Submitted
	if status, e := call(t, "POST", r.url+"/v1/merchant/earn", tok, earn(addr(bob), 11, "y"), &y); status != http.StatusOK || y.Status != api.TxCommitted {
		t.Fatalf("retry of y: %d %+v %+v, want committed", status, y, e)
	}
	if orders, txs, failed := node.DeskTracked(n); orders != 0 || txs != 0 || failed != 0 {
		t.Fatalf("desk tracks %d orders, %d txs, %d failures; want none", orders, txs, failed)
	}
}

// TestMerchantReserve: ordinary submissions find the pool full merchant_reserve_percent
// early; the merchant desk's earns may use the rest.
func TestMerchantReserve(t *testing.T) {
	owner, bob := testKey(t, "owner"), testKey(t, "bob")
	home := initHome(t, owner, "pebble")
	replaceIn(t, home, node.ConfigFile, "max_txs = 50000", "max_txs = 4")
	replaceIn(t, home, node.ConfigFile, "merchant_reserve_percent = 10", "merchant_reserve_percent = 50")
	r := start(t, home)
	c := newClient(t, r)
	var st api.Status
	call(t, "GET", r.url+"/v1/status", "", nil, &st)
	c.commit(owner, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme", Operators: []chain.Address{st.Operator}})
	r.stop(t)

	n, _ := openStopped(t, home) // no blocks: what is admitted stays
	defer n.Close()
	ordinary := func(ref string) error {
		_, err := n.Submit(c.sign(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(bob), Amount: 1, OrderRef: ref}}}))
		return err
	}
	for _, ref := range []string{"a", "b"} {
		if err := ordinary(ref); err != nil {
			t.Fatal(err)
		}
	}
	if err := ordinary("c"); chain.Code(err) != "mempool_full" {
		t.Fatalf("third ordinary submission: %v, want mempool_full", err)
	}
	for _, ref := range []string{"m1", "m2"} {
		if _, err := n.MerchantEarn(api.MerchantEarn{Program: "ACME", Credits: []chain.Credit{{To: addr(bob), Amount: 1, OrderRef: ref}}}); err != nil {
			t.Fatalf("merchant earn %s: %v", ref, err)
		}
	}
	if _, err := n.MerchantEarn(api.MerchantEarn{Program: "ACME", Credits: []chain.Credit{{To: addr(bob), Amount: 1, OrderRef: "m3"}}}); chain.Code(err) != "mempool_full" {
		t.Fatalf("merchant earn past the whole pool: %v, want mempool_full", err)
	}
	if got := metricValue(t, n, "loyal_mempool_full_total"); got != 2 {
		t.Fatalf("loyal_mempool_full_total = %v, want 2", got)
	}
}

// metricValue is the value of the node's counter or gauge name (without labels).
func metricValue(t *testing.T, n *node.Node, name string) float64 {
	t.Helper()
	fams, err := n.Metrics().Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name || len(f.GetMetric()) != 1 {
			continue
		}
		m := f.GetMetric()[0]
		if m.GetCounter() != nil {
			return m.GetCounter().GetValue()
		}
		return m.GetGauge().GetValue()
	}
	t.Fatalf("no metric %s", name)
	return 0
}
