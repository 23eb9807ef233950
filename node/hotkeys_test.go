package node_test

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node"
)

func nodeStatus(t *testing.T, r *running) api.Status {
	t.Helper()
	var st api.Status
	call(t, "GET", r.url+"/v1/status", "", nil, &st)
	return st
}

// committedTx is GET /v1/txs/{hash} of a committed transaction.
func committedTx(t *testing.T, r *running, h chain.Hash) api.TxInfo {
	t.Helper()
	var info api.TxInfo
	call(t, "GET", r.url+"/v1/txs/"+h.Hex()+"?wait=20s", "", nil, &info)
	if info.Status != api.TxCommitted || info.Tx == nil {
		t.Fatalf("tx %s: %+v, want committed", h, info)
	}
	return info
}

// programsOf is the committed state's programs, as the node's API serves them.
func programsOf(t *testing.T, r *running) []chain.Program {
	t.Helper()
	var ps api.Programs
	call(t, "GET", r.url+"/v1/programs", "", nil, &ps)
	out := make([]chain.Program, len(ps.Programs))
	for i, p := range ps.Programs {
		out[i] = p.Program
	}
	return out
}

// merchantCall posts a merchant request with ?wait and wants it committed: the committed
// transaction.
func merchantCall(t *testing.T, r *running, tok, path string, body any) api.TxInfo {
	t.Helper()
	var sub api.Submitted
	if status, e := call(t, "POST", r.url+path+"?wait=20s", tok, body, &sub); status != http.StatusOK || sub.Status != api.TxCommitted {
		t.Fatalf("POST %s: %d %+v %+v, want 200 committed", path, status, sub, e)
	}
	return committedTx(t, r, sub.Hash)
}

func earnReq(program, ref string, to chain.Address, amount uint64) api.MerchantEarn {
	return api.MerchantEarn{Program: program, Credits: []chain.Credit{{To: to, Amount: amount, OrderRef: ref}}}
}

// The node's operator key rotates while it runs: the new key waits until the program's owner
// adds it, is used from the block that adds it, and once the owner removes the old key and the
// rotation is retired the node holds the new key alone. The old key signs nothing after the
// owner added the new one; an order it credited is still found by a retry.
func TestOperatorKeyRotatesOnARunningNode(t *testing.T) {
	owner, alice := testKey(t, "owner"), testKey(t, "alice")
	home := initHome(t, owner, "pebble")
	tok := merchantToken(t, home)
	r := start(t, home)
	c := newClient(t, r)
	old := nodeStatus(t, r).Operator
	c.commit(owner, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme", Operators: []chain.Address{old}})
	earn := func(ref string, amount uint64) api.TxInfo {
		t.Helper()
		return merchantCall(t, r, tok, "/v1/merchant/earn", earnReq("ACME", ref, addr(alice), amount))
	}
	nonceOf := func(a chain.Address) uint64 {
		t.Helper()
		var acc api.AccountInfo
		call(t, "GET", r.url+"/v1/accounts/"+a.Hex(), "", nil, &acc)
		return acc.Nonce
	}
	if tx := earn("o-1", 10); tx.Sender != old || tx.Tx.Nonce != 0 {
		t.Fatalf("earn before the rotation: sender %s nonce %d, want %s 0", tx.Sender, tx.Tx.Nonce, old)
	}

	k, err := node.RotateOperatorKey(home)
	if err != nil {
		t.Fatal(err)
	}
	newer := k.Next
	if st := nodeStatus(t, r); st.Operator != newer || !slices.Equal(st.Operators, []chain.Address{newer, old}) {
		t.Fatalf("status after rotate: operator %s, operators %v; want %s, [%s %s]", st.Operator, st.Operators, newer, newer, old)
	}
	// The chain lists only the old key: the node goes on signing with it.
	if tx := earn("o-2", 20); tx.Sender != old || tx.Tx.Nonce != 1 {
		t.Fatalf("earn before the owner adds the new key: sender %s nonce %d, want %s 1", tx.Sender, tx.Tx.Nonce, old)
	}
	if err := k.CheckRetire(programsOf(t, r)); !errors.Is(err, node.ErrOperatorKeyInUse) {
		t.Fatalf("retire while ACME lists only the old key: %v, want ErrOperatorKeyInUse", err)
	}

	// The owner adds the new key: from that block on the node signs with it.
	plan := k.Plan(programsOf(t, r))
	if len(plan) != 1 || plan[0].Program != "ACME" || !slices.Equal(plan[0].Handover, []chain.Address{newer, old}) || !slices.Equal(plan[0].Final, []chain.Address{newer}) {
		t.Fatalf("plan: %+v", plan)
	}
	c.commit(owner, &chain.UpdateProgram{Program: "ACME", SetOperators: true, Operators: plan[0].Handover})
	if tx := earn("o-3", 30); tx.Sender != newer || tx.Tx.Nonce != 0 {
		t.Fatalf("earn once both are listed: sender %s nonce %d, want %s 0", tx.Sender, tx.Tx.Nonce, newer)
	}
	if tx := merchantCall(t, r, tok, "/v1/merchant/reverse", api.MerchantReverse{Program: "ACME", OrderRef: "o-1", Amount: 4}); tx.Sender != newer || tx.Tx.Nonce != 1 {
		t.Fatalf("reverse of an order the old key credited: sender %s nonce %d, want %s 1", tx.Sender, tx.Tx.Nonce, newer)
	}
	if err := k.CheckRetire(programsOf(t, r)); !errors.Is(err, node.ErrOperatorKeyInUse) {
		t.Fatalf("retire while ACME lists both keys: %v, want ErrOperatorKeyInUse", err)
	}

	// The owner removes the old key; the rotation is retired; the node holds the new key alone.
	c.commit(owner, &chain.UpdateProgram{Program: "ACME", SetOperators: true, Operators: plan[0].Final})
	if tx := earn("o-4", 40); tx.Sender != newer || tx.Tx.Nonce != 2 {
		t.Fatalf("earn once only the new key is listed: sender %s nonce %d, want %s 2", tx.Sender, tx.Tx.Nonce, newer)
	}
	if err := k.CheckRetire(programsOf(t, r)); err != nil {
		t.Fatalf("retire once ACME lists only the new key: %v", err)
	}
	if err := node.RetireOperatorKey(home, k); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(home, node.OperatorNextKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after retire the next key file: %v, want it gone", err)
	}
	if st := nodeStatus(t, r); st.Operator != newer || !slices.Equal(st.Operators, []chain.Address{newer}) {
		t.Fatalf("status after retire: operator %s, operators %v; want %s alone", st.Operator, st.Operators, newer)
	}
	if tx := earn("o-5", 50); tx.Sender != newer || tx.Tx.Nonce != 3 {
		t.Fatalf("earn after retire: sender %s nonce %d, want %s 3", tx.Sender, tx.Tx.Nonce, newer)
	}
	// A retry of an order the old key credited finds its transaction.
	var again api.Submitted
	if status, e := call(t, "POST", r.url+"/v1/merchant/earn", tok, earnReq("ACME", "o-2", addr(alice), 20), &again); status != http.StatusOK || again.Status != api.TxCommitted {
		t.Fatalf("retry of o-2: %d %+v %+v", status, again, e)
	} else if tx := committedTx(t, r, again.Hash); tx.Sender != old || tx.Tx.Nonce != 1 {
		t.Fatalf("retry of o-2 answered tx %s by %s, want the old key's nonce 1", again.Hash, tx.Sender)
	}

	// The old key signed o-1 and o-2 and nothing after; the new key everything since.
	if got := nonceOf(old); got != 2 {
		t.Fatalf("the old key's nonce is %d, want 2", got)
	}
	if got := nonceOf(newer); got != 4 {
		t.Fatalf("the new key's nonce is %d, want 4", got)
	}
	if got := balance(t, r, addr(alice), "ACME"); got.Total != 10+20+30-4+40+50 {
		t.Fatalf("alice has %d, want %d", got.Total, 10+20+30-4+40+50)
	}
}

// The API token rotates while the node runs: after rotate both tokens open the merchant
// endpoints; after retire the old one is refused 401 and the new one works.
func TestAPITokenRotatesOnARunningNode(t *testing.T) {
	owner, alice := testKey(t, "owner"), testKey(t, "alice")
	home := initHome(t, owner, "pebble")
	oldTok := merchantToken(t, home)
	r := start(t, home)
	c := newClient(t, r)
	c.commit(owner, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme", Operators: []chain.Address{nodeStatus(t, r).Operator}})
	post := func(tok, ref string) (int, api.ErrorDetail) {
		t.Helper()
		return call(t, "POST", r.url+"/v1/merchant/earn?wait=20s", tok, earnReq("ACME", ref, addr(alice), 1), nil)
	}
	if status, e := post(oldTok, "t-1"); status != http.StatusOK {
		t.Fatalf("old token before the rotation: %d %+v", status, e)
	}
	newTok, err := node.RotateToken(home)
	if err != nil {
		t.Fatal(err)
	}
	if status, e := post(oldTok, "t-2"); status != http.StatusOK {
		t.Fatalf("old token during the rotation: %d %+v, want 200", status, e)
	}
	if status, e := post(newTok, "t-3"); status != http.StatusOK {
		t.Fatalf("new token during the rotation: %d %+v, want 200", status, e)
	}
	if err := node.RetireToken(home); err != nil {
		t.Fatal(err)
	}
	if status, e := post(oldTok, "t-4"); status != http.StatusUnauthorized || e.Code != "unauthorized" {
		t.Fatalf("old token after retire: %d %+v, want 401 unauthorized", status, e)
	}
	if status, e := post(newTok, "t-4"); status != http.StatusOK {
		t.Fatalf("new token after retire: %d %+v, want 200", status, e)
	}
	if got := balance(t, r, addr(alice), "ACME"); got.Total != 4 {
		t.Fatalf("alice has %d, want 4 (t-1 to t-4 once each)", got.Total)
	}
}

// With two keys each program's transactions follow their own key's nonces: when one of the
// old key's transactions fails at block build, only the old key's later ones are dropped and
// signed again, at the old key's freed nonces; the new key's are untouched.
func TestMerchantDeskNoncesPerKey(t *testing.T) {
	owner, alice, bob, carol := testKey(t, "owner"), testKey(t, "alice"), testKey(t, "bob"), testKey(t, "carol")
	home := initHome(t, owner, "pebble")
	tok := merchantToken(t, home)
	r := start(t, home)
	c := newClient(t, r)
	old := nodeStatus(t, r).Operator
	c.commit(owner, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme", Operators: []chain.Address{old}})
	k, err := node.RotateOperatorKey(home)
	if err != nil {
		t.Fatal(err)
	}
	newer := k.Next
	c.commit(owner, &chain.RegisterProgram{Symbol: "BETA", Name: "Beta", Operators: []chain.Address{newer}})
	r.stop(t)

	// While no block is made: the owner credits ACME order x itself; the desk, unaware,
	// credits x, then BETA y, ACME z and BETA w.
	n, run := openStopped(t, home)
	if _, err := n.Submit(c.sign(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 5, OrderRef: "x"}}})); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		req    api.MerchantEarn
		sender chain.Address
		nonce  uint64
	}{
		{earnReq("ACME", "x", addr(bob), 7), old, 0},
		{earnReq("BETA", "y", addr(bob), 11), newer, 0},
		{earnReq("ACME", "z", addr(carol), 13), old, 1},
		{earnReq("BETA", "w", addr(carol), 17), newer, 1},
	} {
		sub, err := n.MerchantEarn(tc.req)
		if err != nil {
			t.Fatal(err)
		}
		tx, sender, ok := n.PendingTx(sub.Hash)
		if !ok || sender != tc.sender || tx.Nonce != tc.nonce {
			t.Fatalf("earn %s: pending %v, sender %s nonce %d; want %s %d", tc.req.Credits[0].OrderRef, ok, sender, tx.Nonce, tc.sender, tc.nonce)
		}
	}

	// The first block: the desk's x fails (duplicate_order); z, dropped with it, is signed
	// again by the old key at nonce 0; y and w commit as they were.
	r = run()
	deadline := time.Now().Add(20 * time.Second)
	for balance(t, r, addr(carol), "ACME").Total != 13 || balance(t, r, addr(carol), "BETA").Total != 17 {
		if time.Now().After(deadline) {
			t.Fatalf("z and w did not commit: carol %+v %+v", balance(t, r, addr(carol), "ACME"), balance(t, r, addr(carol), "BETA"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, tc := range []struct {
		req    api.MerchantEarn
		sender chain.Address
		nonce  uint64
	}{
		{earnReq("BETA", "y", addr(bob), 11), newer, 0},
		{earnReq("ACME", "z", addr(carol), 13), old, 0},
		{earnReq("BETA", "w", addr(carol), 17), newer, 1},
	} {
		if tx := merchantCall(t, r, tok, "/v1/merchant/earn", tc.req); tx.Sender != tc.sender || tx.Tx.Nonce != tc.nonce {
			t.Errorf("%s committed by %s at nonce %d, want %s %d", tc.req.Credits[0].OrderRef, tx.Sender, tx.Tx.Nonce, tc.sender, tc.nonce)
		}
	}
	if status, e := call(t, "POST", r.url+"/v1/merchant/earn", tok, earnReq("ACME", "x", addr(bob), 7), nil); status != http.StatusConflict || e.Code != "duplicate_order" {
		t.Fatalf("retry of x: %d %+v, want 409 duplicate_order", status, e)
	}
	if got := balance(t, r, addr(bob), "ACME"); got.Total != 0 {
		t.Fatalf("bob has %d ACME, want 0 (x went to alice)", got.Total)
	}
}

// A token is refused from the request after its file goes: deleting api.token revokes it at
// once, and so does a file that no longer passes the checks of start (exposed, garbled);
// while api.token does not load, a valid next token is the only one accepted.
func TestAPITokenRevokedAtOnce(t *testing.T) {
	owner, alice := testKey(t, "owner"), testKey(t, "alice")
	home := initHome(t, owner, "pebble")
	tok := merchantToken(t, home)
	cur := filepath.Join(home, node.TokenFile)
	r := start(t, home)
	c := newClient(t, r)
	c.commit(owner, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme", Operators: []chain.Address{nodeStatus(t, r).Operator}})
	post := func(tok, ref string) (int, api.ErrorDetail) {
		t.Helper()
		return call(t, "POST", r.url+"/v1/merchant/earn?wait=20s", tok, earnReq("ACME", ref, addr(alice), 1), nil)
	}
	if status, e := post(tok, "r-1"); status != http.StatusOK {
		t.Fatalf("the token before anything: %d %+v", status, e)
	}
	refused := func(what, tok string) {
		t.Helper()
		if status, e := post(tok, "r-refused"); status != http.StatusUnauthorized || e.Code != "unauthorized" {
			t.Fatalf("%s: %d %+v, want 401 unauthorized", what, status, e)
		}
	}
	if err := os.Remove(cur); err != nil {
		t.Fatal(err)
	}
	refused("api.token deleted", tok)
	node.ReplaceFileForTest(t, cur, tok+"\n", 0o644)
	refused("api.token back but readable by others", tok)
	node.ReplaceFileForTest(t, cur, tok[:31]+"\n", 0o600)
	refused("api.token cut to 31 characters", tok)
	refused("api.token cut to 31 characters, its content sent", tok[:31])
	next, err := node.RotateToken(home)
	if err != nil {
		t.Fatal(err)
	}
	refused("the old token beside a valid next token", tok)
	if status, e := post(next, "r-2"); status != http.StatusOK {
		t.Fatalf("the next token while api.token does not load: %d %+v, want 200", status, e)
	}
	if err := node.RetireToken(home); err != nil {
		t.Fatal(err)
	}
	refused("the old token after retire", tok)
	if status, e := post(next, "r-3"); status != http.StatusOK {
		t.Fatalf("the new token after retire: %d %+v, want 200", status, e)
	}
	if got := balance(t, r, addr(alice), "ACME"); got.Total != 3 {
		t.Fatalf("alice has %d, want 3 (r-1 to r-3; nothing refused was credited)", got.Total)
	}
}

// An operator key is used only while its file is there and loads: with operator.key deleted
// the desk signs with the next key alone; with no key that loads it refuses merchant requests
// 503 no_operator_key and the status names no operator, until a key file is put right.
func TestOperatorKeyFileGoneIsNotUsed(t *testing.T) {
	owner, alice := testKey(t, "owner"), testKey(t, "alice")
	home := initHome(t, owner, "pebble")
	tok := merchantToken(t, home)
	cur, next := filepath.Join(home, node.OperatorKeyFile), filepath.Join(home, node.OperatorNextKeyFile)
	r := start(t, home)
	c := newClient(t, r)
	old := nodeStatus(t, r).Operator
	c.commit(owner, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme", Operators: []chain.Address{old}})
	k, err := node.RotateOperatorKey(home)
	if err != nil {
		t.Fatal(err)
	}
	// The chain lists both keys, old first: only the files decide which one the desk uses.
	c.commit(owner, &chain.UpdateProgram{Program: "ACME", SetOperators: true, Operators: []chain.Address{old, k.Next}})
	oldKey := readFile(t, cur)
	earn := func(ref string) (int, chain.Address, api.ErrorDetail) {
		t.Helper()
		var sub api.Submitted
		status, e := call(t, "POST", r.url+"/v1/merchant/earn?wait=20s", tok, earnReq("ACME", ref, addr(alice), 1), &sub)
		if status != http.StatusOK {
			return status, chain.Address{}, e
		}
		return status, committedTx(t, r, sub.Hash).Sender, e
	}
	statusIs := func(what string, want ...chain.Address) {
		t.Helper()
		operator := chain.Address{}
		if len(want) > 0 {
			operator = want[0]
		}
		if st := nodeStatus(t, r); st.Operator != operator || st.Operators == nil || !slices.Equal(st.Operators, want) {
			t.Fatalf("%s: status operator %s, operators %v; want %s, %v", what, st.Operator, st.Operators, operator, want)
		}
	}
	statusIs("rotated", k.Next, old)
	if status, sender, e := earn("k-1"); status != http.StatusOK || sender != k.Next {
		t.Fatalf("earn with both keys: %d by %s %+v, want 200 by the new key %s", status, sender, e, k.Next)
	}

	if err := os.Remove(cur); err != nil {
		t.Fatal(err)
	}
	statusIs("operator.key deleted", k.Next)
	if err := os.Chmod(next, 0o644); err != nil {
		t.Fatal(err)
	}
	statusIs("operator.key deleted, the next key readable by others")
	const msg = "the node holds no valid operator key: operator.key is missing or does not load, and no valid operator.next.key stands in (the node's log says why)"
	if status, _, e := earn("k-2"); status != http.StatusServiceUnavailable || e.Code != "no_operator_key" || e.Message != msg {
		t.Fatalf("earn with no key that loads: %d %+v, want 503 no_operator_key %q", status, e, msg)
	}
	if status, e := call(t, "POST", r.url+"/v1/merchant/reverse", tok, api.MerchantReverse{Program: "ACME", OrderRef: "k-1", Amount: 1}, nil); status != http.StatusServiceUnavailable || e.Code != "no_operator_key" {
		t.Fatalf("reverse with no key that loads: %d %+v, want 503 no_operator_key", status, e)
	}
	if err := os.Chmod(next, 0o600); err != nil {
		t.Fatal(err)
	}
	statusIs("the next key put right", k.Next)
	if status, sender, e := earn("k-2"); status != http.StatusOK || sender != k.Next {
		t.Fatalf("earn with the next key alone: %d by %s %+v, want 200 by %s", status, sender, e, k.Next)
	}

	// The new key gone too, the old one back: the desk signs with the old key, which the chain
	// still lists.
	if err := os.Remove(next); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cur, []byte(oldKey), 0o600); err != nil {
		t.Fatal(err)
	}
	statusIs("only operator.key", old)
	if status, sender, e := earn("k-3"); status != http.StatusOK || sender != old {
		t.Fatalf("earn with operator.key alone: %d by %s %+v, want 200 by %s", status, sender, e, old)
	}
	if got := balance(t, r, addr(alice), "ACME"); got.Total != 3 {
		t.Fatalf("alice has %d, want 3 (k-1 to k-3 once each)", got.Total)
	}
}
