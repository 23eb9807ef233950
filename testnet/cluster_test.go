package testnet_test

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"go.uber.org/goleak"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node"
	"github.com/loyal-ledger/loyal/node/consensus"
	"github.com/loyal-ledger/loyal/p2p"
	"github.com/loyal-ledger/loyal/testnet"
	"github.com/loyal-ledger/loyal/wallet"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// harness is a cluster with a signer that tracks nonces itself, so a test can send many
// transactions of one account to different nodes at once.
type harness struct {
	t      *testing.T
	c      *testnet.Cluster
	signer *chain.Signer

	mu     sync.Mutex
	nonces map[chain.Address]uint64
}

func newHarness(t *testing.T, o testnet.ClusterOptions) *harness {
	o.Dir = t.TempDir()
	c, err := testnet.NewCluster(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &harness{t: t, c: c, signer: chain.NewSigner(c.Genesis.ChainID, c.Genesis.Hash()), nonces: map[chain.Address]uint64{}}
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func addr(k *ecdsa.PrivateKey) chain.Address { return crypto.PubkeyToAddress(k.PublicKey) }

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// sign signs p from key with the account's next nonce (as this harness counts them).
func (h *harness) sign(key *ecdsa.PrivateKey, p chain.Payload) *chain.Tx {
	h.mu.Lock()
	a := addr(key)
	nonce := h.nonces[a]
	h.nonces[a]++
	h.mu.Unlock()
	tx, err := wallet.Sign(h.signer, key, nonce, 0, p)
	if err != nil {
		h.t.Fatal(err)
	}
	return tx
}

// submit posts tx to node i and returns at once.
func (h *harness) submit(i int, tx *chain.Tx) {
	if _, err := h.c.Client(i).SubmitTx(ctxFor(h.t, 10*time.Second), tx); err != nil {
		h.t.Errorf("submit to node %d: %v", i, err)
	}
}

// commit submits p from key to node i and waits until node i has committed it.
func (h *harness) commit(i int, key *ecdsa.PrivateKey, p chain.Payload) api.TxInfo {
	h.t.Helper()
	tx := h.sign(key, p)
	h.submit(i, tx)
	return h.waitTx(i, tx.Hash())
}

// waitTx waits until node i has committed the transaction.
func (h *harness) waitTx(i int, hash chain.Hash) api.TxInfo {
	h.t.Helper()
	info, err := wallet.Wait(ctxFor(h.t, 30*time.Second), h.c.Client(i), hash)
	if err != nil {
		h.t.Fatalf("node %d: %v", i, err)
	}
	return info
}

func (h *harness) earn(to chain.Address, amount uint64, ref string) chain.Payload {
	return &chain.Earn{Program: testnet.ClusterProgram, Credits: []chain.Credit{{To: to, Amount: amount, OrderRef: ref}}}
}

func (h *harness) waitHeight(i int, height uint64) {
	h.t.Helper()
	if err := h.c.WaitHeight(ctxFor(h.t, 30*time.Second), i, height); err != nil {
		h.t.Fatal(err)
	}
}

// agree checks that the nodes hold the same block at every height from 1 to upTo, and
// returns them.
func (h *harness) agree(upTo uint64, nodes ...int) []chain.Hash {
	h.t.Helper()
	hashes := make([]chain.Hash, upTo+1)
	for _, i := range nodes {
		h.waitHeight(i, upTo)
		for height := uint64(1); height <= upTo; height++ {
			b, err := h.c.Client(i).Block(ctxFor(h.t, 10*time.Second), height)
			if err != nil {
				h.t.Fatalf("node %d, block %d: %v", i, height, err)
			}
			if i == nodes[0] {
				hashes[height] = b.Hash
			} else if b.Hash != hashes[height] {
				h.t.Fatalf("height %d: node %d has %s, node %d has %s", height, i, b.Hash, nodes[0], hashes[height])
			}
		}
	}
	return hashes
}

func (h *harness) balance(i int, a chain.Address) api.ProgramBalance {
	h.t.Helper()
	info, err := h.c.Client(i).Account(ctxFor(h.t, 10*time.Second), a)
	if err != nil {
		h.t.Fatalf("node %d: %v", i, err)
	}
	for _, p := range info.Programs {
		if p.Program == testnet.ClusterProgram {
			return p
		}
	}
	return api.ProgramBalance{}
}

// eventually polls cond every 10 ms until it holds, and fails the test with what describe
// says if it does not within d.
func eventually(t *testing.T, d time.Duration, cond func() bool, describe func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, describe())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *harness) height(i int) uint64 { return h.c.Node(i).Ledger().Head().Height }

func all(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// (a) Four validators commit identical blocks under a steady load submitted to all of them.
func TestFourValidatorsAgree(t *testing.T) {
	h := newHarness(t, testnet.ClusterOptions{Validators: 4})
	customers := make([]*ecdsa.PrivateKey, 8)
	credits := make([]chain.Credit, len(customers))
	for i := range customers {
		customers[i] = newKey(t)
		credits[i] = chain.Credit{To: addr(customers[i]), Amount: 100, OrderRef: "fund-" + strconv.Itoa(i)}
	}
	funded := h.commit(0, h.c.Owner, &chain.Earn{Program: testnet.ClusterProgram, Credits: credits})
	// Every node must hold the funding before a transfer reaches it: a node tries a sender's
	// next transaction against its own committed state and refuses an overdraft at once.
	h.agree(funded.Height, all(4)...)

	// Each customer sends 5 transfers to the owner, each to a different node.
	var wg sync.WaitGroup
	sent := make([][]chain.Hash, len(customers))
	for i, k := range customers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				tx := h.sign(k, &chain.Transfer{Program: testnet.ClusterProgram, To: addr(h.c.Owner), Amount: 1})
				h.submit((i+j)%4, tx)
				sent[i] = append(sent[i], tx.Hash())
			}
		}()
	}
	wg.Wait()
	var top uint64
	for _, hs := range sent {
		for _, hash := range hs {
			for i := 0; i < 4; i++ {
				top = max(top, h.waitTx(i, hash).Height)
			}
		}
	}
	h.agree(top, all(4)...)
	for i := 0; i < 4; i++ {
		if got := h.balance(i, addr(h.c.Owner)); got.Total != 40 {
			t.Fatalf("node %d: the owner has %d, want 40", i, got.Total)
		}
		for _, k := range customers {
			if got := h.balance(i, addr(k)); got.Total != 95 {
				t.Fatalf("node %d: a customer has %d, want 95", i, got.Total)
			}
		}
	}
}

// (b) A validator that is down misses blocks while the other three keep committing;
// restarted, it catches up from its peers, agrees block for block, and takes part again.
func TestValidatorRestartsAndCatchesUp(t *testing.T) {
	h := newHarness(t, testnet.ClusterOptions{Validators: 4})
	alice := newKey(t)
	h.commit(0, h.c.Owner, h.earn(addr(alice), 100, "o-0"))
	if err := h.c.Stop(3); err != nil {
		t.Fatal(err)
	}
	stoppedAt := h.height(0)
	var last api.TxInfo
	for i := 1; i <= 4; i++ {
		last = h.commit(i%3, h.c.Owner, h.earn(addr(alice), 1, "o-"+strconv.Itoa(i)))
	}
	if last.Height < stoppedAt+4 {
		t.Fatalf("three validators reached only height %d from %d", last.Height, stoppedAt)
	}
	if err := h.c.Start(3); err != nil {
		t.Fatal(err)
	}
	h.agree(last.Height, all(4)...)
	// Taking part: a transaction submitted to it commits everywhere.
	after := h.commit(3, h.c.Owner, h.earn(addr(alice), 1, "after"))
	h.agree(after.Height, all(4)...)
	for i := 0; i < 4; i++ {
		if got := h.balance(i, addr(alice)); got.Total != 105 {
			t.Fatalf("node %d: alice has %d, want 105", i, got.Total)
		}
	}
}

// (c) Split 2|2, no side has a quorum: nothing commits anywhere. Healed, the transaction sent
// during the partition commits and all four agree.
func TestPartitionTwoTwoThenHeal(t *testing.T) {
	h := newHarness(t, testnet.ClusterOptions{Validators: 4})
	alice := newKey(t)
	before := h.commit(0, h.c.Owner, h.earn(addr(alice), 1, "before"))
	h.agree(before.Height, all(4)...)
	if err := h.c.Partition([]int{0, 1}, []int{2, 3}); err != nil {
		t.Fatal(err)
	}
	tx := h.sign(h.c.Owner, h.earn(addr(alice), 1, "during"))
	h.submit(0, tx)
	h.submit(3, tx)
	// Each side runs rounds (timeouts fire, proposals and votes go out) but cannot commit.
	// Wait until every node has given up round 0 and tried round 1, then check that no height
	// advanced.
	for i := 0; i < 4; i++ {
		eventually(t, 30*time.Second, func() bool {
			st := h.c.Node(i).ConsensusStatus()
			return st.Height == before.Height+1 && st.Round >= 1
		}, func() string { return fmt.Sprintf("node %d stays at %+v", i, h.c.Node(i).ConsensusStatus()) })
	}
	for i := 0; i < 4; i++ {
		if got := h.height(i); got != before.Height {
			t.Fatalf("node %d committed height %d during a 2|2 partition", i, got)
		}
	}
	if err := h.c.Heal(); err != nil {
		t.Fatal(err)
	}
	info := h.waitTx(2, tx.Hash())
	h.agree(info.Height, all(4)...)
	if got := h.balance(1, addr(alice)); got.Total != 2 {
		t.Fatalf("alice has %d, want 2", got.Total)
	}
}

// (d) An equivocating proposer signs two blocks for its rounds and votes for both: the honest
// nodes do not fork, and each records the double proposal and the double votes as evidence
// against it, and against nobody else.
func TestEquivocatingProposerForksNothing(t *testing.T) {
	const byz = 3
	h := newHarness(t, testnet.ClusterOptions{Validators: 4, Byzantine: map[int]testnet.Byzantine{byz: {Equivocate: true}}})
	bad := h.c.Address(byz)
	alice := newKey(t)
	convicted := func(i int) bool {
		ev, err := h.c.Client(i).Evidence(ctxFor(t, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]bool{}
		for _, e := range ev.Evidence {
			if e.Validator != bad {
				t.Fatalf("node %d holds evidence against honest validator %s: %+v", i, e.Validator.Hex(), e)
			}
			kinds[e.Kind] = true
		}
		return kinds["proposal"] && kinds["vote"]
	}
	var top uint64
	earned := uint64(0)
	deadline := time.Now().Add(60 * time.Second)
	for k := 0; ; k++ {
		// Transactions keep heights coming, so the byzantine validator gets its turns.
		top = h.commit(k%3, h.c.Owner, h.earn(addr(alice), 1, "e-"+strconv.Itoa(k))).Height
		earned++
		if convicted(0) && convicted(1) && convicted(2) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d heights the honest nodes hold no evidence against %s on all three", top, bad.Hex())
		}
	}
	// No fork: every node, the byzantine one too, has the same blocks, and every block
	// carries a valid certificate (the ledger checks it when the next block is applied).
	h.agree(top, all(4)...)
	for i := 0; i < 4; i++ {
		if got := h.balance(i, addr(alice)); got.Total != earned {
			t.Fatalf("node %d: alice has %d, want %d", i, got.Total, earned)
		}
	}
	ev, err := h.c.Client(0).Evidence(ctxFor(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ev.Evidence {
		if e.A == e.B {
			t.Fatalf("evidence of two identical messages: %+v", e)
		}
	}
}

// Only a validator can be byzantine: an observer sends no consensus messages to alter.
func TestByzantineMustBeAValidator(t *testing.T) {
	_, err := testnet.NewCluster(testnet.ClusterOptions{
		Validators: 4, Observers: 1, Dir: t.TempDir(), Byzantine: map[int]testnet.Byzantine{4: {Equivocate: true}},
	})
	if err == nil || !strings.Contains(err.Error(), "byzantine node 4 is not a validator") {
		t.Fatalf("a byzantine observer: %v", err)
	}
	_, err = testnet.NewCluster(testnet.ClusterOptions{
		Validators: 1, Dir: t.TempDir(), Byzantine: map[int]testnet.Byzantine{0: {Equivocate: true}},
	})
	if err == nil || !strings.Contains(err.Error(), "needs at least two validators") {
		t.Fatalf("a byzantine lone validator: %v", err)
	}
}

// (e) A peer that is neither validator nor observer cannot connect; a connected peer's
// malformed, forged and oversized messages change nothing, and it is penalized.
func TestStrangersAndForgedMessages(t *testing.T) {
	h := newHarness(t, testnet.ClusterOptions{Validators: 4, Observers: 1})
	alice := newKey(t)
	first := h.commit(0, h.c.Owner, h.earn(addr(alice), 1, "x-0"))

	// A stranger running Loyal's p2p, knowing where node 0 listens, is refused.
	stranger, err := p2p.New(p2p.Config{
		Key: newKey(t), ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, Validators: h.c.Genesis.Validators,
		ReconnectMin: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	v0 := h.c.Node(0)
	dialNodes(t, stranger, v0)
	if err := stranger.Start(); err != nil {
		t.Fatal(err)
	}
	refusedBefore := p2pEvents(t, v0, "refused")
	eventually(t, 20*time.Second, func() bool { return p2pEvents(t, v0, "refused") >= refusedBefore+2 },
		func() string {
			return fmt.Sprintf("node 0 refused the stranger %d times", p2pEvents(t, v0, "refused")-refusedBefore)
		})

	// The observer's identity (an admitted peer) turns bad: the observer stops, and a host of
	// the test's own takes its key, connects to the validators and sends what no node would.
	if err := h.c.Stop(4); err != nil {
		t.Fatal(err)
	}
	observerKey, err := node.LoadKey(filepath.Join(h.c.Home(4), node.ConsensusKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	bad, err := p2p.New(p2p.Config{
		Key: observerKey, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, Validators: h.c.Genesis.Validators,
		// Above the nodes' limit, so that the oversized message below leaves this host.
		Consensus: p2p.ProtocolLimits{MaxMessage: 8 << 20}, ReconnectMin: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	dialNodes(t, bad, h.c.Node(0), h.c.Node(1), h.c.Node(2), h.c.Node(3))
	if err := bad.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() bool { return len(bad.Peers()) == 4 },
		func() string { return fmt.Sprintf("the bad peer reached %d of the 4 validators", len(bad.Peers())) })
	impostor := newKey(t)
	forged := &consensus.Vote{Type: chain.Precommit, Height: first.Height + 1, BlockHash: chain.Hash{1}, Validator: h.c.Address(0)}
	if forged.Sig, err = chain.SignVote(impostor, forged.Digest(h.c.Genesis.ChainID)); err != nil {
		t.Fatal(err)
	}
	garbage := [][]byte{
		{'V', 1, 1, 2, 3},
		append([]byte{'V', 1}, forged.Encode()...), // signed by someone else than it names
		append([]byte{'P', 1, 0, 0, 0, 200}, make([]byte, 300)...),
		make([]byte, 6<<20), // over the consensus message limit
	}
	ctx := ctxFor(t, 10*time.Second)
	for round := 0; round < 10; round++ {
		for _, g := range garbage {
			if _, err := bad.Broadcast(ctx, p2p.ConsensusProtocol, g); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := bad.Broadcast(ctx, p2p.TxsProtocol, []byte{'T', 1, 0, 1, 0, 0, 0, 3, 1, 2, 3}); err != nil {
			t.Fatal(err)
		}
	}
	next := h.commit(1, h.c.Owner, h.earn(addr(alice), 1, "x-1"))
	h.agree(next.Height, all(4)...)
	for i := 0; i < 4; i++ {
		eventually(t, 20*time.Second, func() bool {
			n := h.c.Node(i)
			return p2pEvents(t, n, "penalty") > 0 && p2pEvents(t, n, "violation") > 0
		}, func() string {
			n := h.c.Node(i)
			return fmt.Sprintf("validator %d counted no violation against the forging peer: %d penalties, %d violations",
				i, p2pEvents(t, n, "penalty"), p2pEvents(t, n, "violation"))
		})
	}
}

// (f) An observer follows the validators, serves reads, and passes transactions submitted
// to it on to them; the wallet works against it as against any node.
func TestObserverFollowsAndForwards(t *testing.T) {
	h := newHarness(t, testnet.ClusterOptions{Validators: 4, Observers: 1})
	alice, bob := newKey(t), newKey(t)
	ctx := ctxFor(t, 60*time.Second)
	obs := h.c.Client(4)
	sub, err := wallet.Send(ctx, obs, h.c.Owner, h.earn(addr(alice), 7, "via-observer"), 0)
	if err != nil {
		t.Fatal(err)
	}
	info, err := wallet.Wait(ctx, obs, sub.Hash)
	if err != nil {
		t.Fatal(err)
	}
	h.agree(info.Height, all(5)...) // validator 2 holds alice's points before she spends them there
	sub, err = wallet.Send(ctx, h.c.Client(2), alice, &chain.Transfer{Program: testnet.ClusterProgram, To: addr(bob), Amount: 3}, 0)
	if err != nil {
		t.Fatal(err)
	}
	moved := h.waitTx(2, sub.Hash)
	h.agree(moved.Height, all(5)...) // the observer included
	for i := 0; i < 5; i++ {
		if a, b := h.balance(i, addr(alice)), h.balance(i, addr(bob)); a.Total != 4 || b.Total != 3 {
			t.Fatalf("node %d: alice %d, bob %d; want 4 and 3", i, a.Total, b.Total)
		}
	}
	if info.Height == 0 || moved.Height <= info.Height {
		t.Fatalf("earn at %d, transfer at %d", info.Height, moved.Height)
	}
	st, err := obs.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Height < moved.Height {
		t.Fatalf("the observer reports height %d", st.Height)
	}
}

// A validator cut off from the others holds a transaction in its mempool that the others
// commit without it; when it catches up on their blocks, the transaction leaves its mempool
// (it is committed, not pending, and never proposed twice).
func TestCaughtUpBlocksLeaveTheMempool(t *testing.T) {
	h := newHarness(t, testnet.ClusterOptions{Validators: 4})
	alice := newKey(t)
	before := h.commit(0, h.c.Owner, h.earn(addr(alice), 1, "before"))
	h.agree(before.Height, all(4)...)
	if err := h.c.Partition([]int{0, 1, 2}, []int{3}); err != nil {
		t.Fatal(err)
	}
	tx := h.sign(h.c.Owner, h.earn(addr(alice), 1, "while-away"))
	h.submit(3, tx)
	h.submit(0, tx)
	info := h.waitTx(0, tx.Hash())
	st, err := h.c.Client(3).Status(ctxFor(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if st.Height != before.Height || st.Mempool.Txs != 1 {
		t.Fatalf("the cut-off validator: height %d, %d pending; want %d and 1", st.Height, st.Mempool.Txs, before.Height)
	}
	if err := h.c.Heal(); err != nil {
		t.Fatal(err)
	}
	h.agree(info.Height, all(4)...)
	var last api.Status
	eventually(t, 10*time.Second, func() bool {
		var err error
		if last, err = h.c.Client(3).Status(ctxFor(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
		return last.Mempool.Txs == 0
	}, func() string {
		return fmt.Sprintf("after catching up to %d the validator still holds %d transactions", last.Height, last.Mempool.Txs)
	})
	got, err := h.c.Client(3).Tx(ctxFor(t, 10*time.Second), tx.Hash(), 0)
	if err != nil || got.Status != api.TxCommitted || got.Height != info.Height {
		t.Fatalf("on the caught-up validator: %+v %v", got, err)
	}
}

// p2pEvents reads the node's loyal_p2p_events_total{event=...} from its metrics registry, as
// an operator reads it at /metrics.
func p2pEvents(t *testing.T, n *node.Node, event string) uint64 {
	t.Helper()
	mfs, err := n.Metrics().Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "loyal_p2p_events_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "event" && l.GetValue() == event {
					return uint64(m.GetCounter().GetValue())
				}
			}
		}
	}
	t.Fatalf("no loyal_p2p_events_total{event=%q} on the node", event)
	return 0
}
