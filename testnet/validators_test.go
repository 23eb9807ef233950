package testnet_test

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/testnet"
	"github.com/loyal-ledger/loyal/wallet"
)

// Validator-set changes by partner vote (ADR 0003) while customers keep transferring: the
// set grows from four to five with the new node offline when the change takes effect (it
// catches up, then signs certificates), a validator's key is rotated to another node (the old
// one follows as an observer), and the set shrinks back to four. No fork, no lost transfer,
// exact balances, and every node agrees on the set at every height.
func TestValidatorChangesUnderLoad(t *testing.T) {
	// Nodes 0-3 validate; 4 and 5 are joiners, which no node lets in until the chain makes
	// them validators: they reach the network from the block that decides it.
	h := newHarness(t, testnet.ClusterOptions{Validators: 4, Joiners: 2, Partners: 1})
	owner, p1 := h.c.Partners[0], h.c.Partners[1]
	live := []int{0, 1, 2, 3}
	// The load goes through nodes that follow the chain to the end: 2 as a validator, then as
	// an observer; 3 is removed and 4 and 5 join.
	ld := h.startLoad(t, []int{0, 1, 2})
	if got := h.height(5); got != 0 {
		t.Fatalf("a joiner no one allows is at height %d", got)
	}

	// 4 -> 5: node 4 is stopped before the decision and stays stopped past the activation.
	if err := h.c.Stop(4); err != nil {
		t.Fatal(err)
	}
	added := h.validatorChange(owner, p1, live, h.addValidator(owner, 4, "v4"))
	h.waitAll(live, added+3)
	for _, i := range live {
		if got := h.setAt(i, added); len(got) != 5 || got[4] != h.c.Address(4) {
			t.Fatalf("node %d: the set at %d is %v, want v0-v3 and node 4", i, added, got)
		}
		if got := h.setAt(i, added-1); len(got) != 4 {
			t.Fatalf("node %d: the set at %d has %d validators, want 4", i, added-1, len(got))
		}
	}
	if got := h.height(5); got != 0 {
		t.Fatalf("joiner 5, not in any set, synced to %d", got)
	}
	if err := h.c.Start(4); err != nil {
		t.Fatal(err)
	}
	live = []int{0, 1, 2, 3, 4}
	h.signs(4, 0)

	// A rotation: validator 2's place goes to joiner 5's key, whose entry says where to dial
	// it; node 2 keeps following as an observer.
	rotated := h.validatorChange(owner, p1, live, h.rotateValidator(owner, 2, 5, "v2-rotated", h.transportAddrs(5)...))
	live = []int{0, 1, 2, 3, 4, 5}
	h.waitAll(live, rotated+3)
	for _, i := range live {
		got := h.setAt(i, rotated)
		if len(got) != 5 || got[2] != h.c.Address(5) || slices.Contains(got, h.c.Address(2)) {
			t.Fatalf("node %d: the set at %d is %v, want node 5 in node 2's place", i, rotated, got)
		}
	}
	h.signs(5, 0)

	// 5 -> 4: validator 3 is removed; it is disconnected and stops counting.
	removed := h.validatorChange(owner, p1, live, &chain.ProposeValidator{Action: chain.ActionRemoveValidator, Validator: h.c.Address(3)})
	h.waitAll([]int{0, 1, 2, 4, 5}, removed+3)
	if err := h.c.Stop(3); err != nil {
		t.Fatal(err)
	}
	live = []int{0, 1, 2, 4, 5}
	h.waitAll(live, removed+6) // four validators, all up: the certificates need all of 0, 1, 4, 5 but three

	ld.stop(t)
	head := h.height(0)
	h.waitAll(live, head)
	h.agree(head, live...)
	// Every node, the one rotated out included, answers the same set at every height, and
	// each certificate is signed only by validators of its own height.
	for height := uint64(1); height <= head; height++ {
		want := h.setAt(0, height)
		for _, i := range live[1:] {
			if got := h.setAt(i, height); !slices.Equal(got, want) {
				t.Fatalf("height %d: node %d says %v, node 0 says %v", height, i, got, want)
			}
		}
	}
	for height := uint64(2); height <= head; height++ {
		b, err := h.c.Client(0).Block(ctxFor(t, 10*time.Second), height)
		if err != nil {
			t.Fatal(err)
		}
		set := h.setAt(0, height-1)
		for _, s := range b.Block.LastCommit.Sigs {
			if !slices.Contains(set, s.Validator) {
				t.Fatalf("the certificate of block %d is signed by %s, not in its set %v", height-1, s.Validator, set)
			}
		}
	}
	ld.check(t, h, live)
	v, err := h.c.Client(2).Validators(ctxFor(t, 10*time.Second), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Epochs) != 4 || v.Epochs[1].From != added || v.Epochs[2].From != rotated || v.Epochs[3].From != removed ||
		v.Epochs[1].Count != 5 || v.Epochs[3].Count != 4 || len(v.Scheduled) != 0 || v.Set.Hash != v.Epochs[3].Hash {
		t.Fatalf("the rotated-out node's epochs: %+v", v)
	}
}

// validatorChange has owner propose p and p1 approve it, on live nodes, and returns the
// height from which the change is in force.
func (h *harness) validatorChange(owner, p1 *ecdsa.PrivateKey, live []int, p *chain.ProposeValidator) uint64 {
	h.t.Helper()
	info := h.commit(live[0], owner, p)
	id := h.proposalOf(live[0], info, addr(owner))
	h.waitAll(live, info.Height)
	info = h.commit(live[1], p1, &chain.Approve{Proposal: id})
	pr := h.proposal(live[1], id)
	if pr.Status != "executed" || pr.Activation != info.Height+chain.ActivationDelay {
		h.t.Fatalf("proposal %d: %s, activation %d; want executed at %d, in force from %d", id, pr.Status, pr.Activation, info.Height, info.Height+chain.ActivationDelay)
	}
	return pr.Activation
}

func (h *harness) entry(i int, name string, multiaddrs ...string) (*chain.ValidatorKey, []byte) {
	h.t.Helper()
	k := h.c.Key(i)
	e := &chain.ValidatorKey{Name: name, Partner: addr(h.c.Partners[0]), PubKey: crypto.CompressPubkey(&k.PublicKey), Multiaddrs: multiaddrs}
	proof, err := chain.SignPossession(chain.Domain{ChainID: h.c.Genesis.ChainID, Salt: h.c.Genesis.Hash()}, e, k)
	if err != nil {
		h.t.Fatal(err)
	}
	return e, proof[:]
}

func (h *harness) addValidator(_ *ecdsa.PrivateKey, i int, name string) *chain.ProposeValidator {
	e, proof := h.entry(i, name)
	return &chain.ProposeValidator{Action: chain.ActionAddValidator, Entry: e, Proof: proof}
}

func (h *harness) rotateValidator(_ *ecdsa.PrivateKey, from, to int, name string, multiaddrs ...string) *chain.ProposeValidator {
	e, proof := h.entry(to, name, multiaddrs...)
	return &chain.ProposeValidator{Action: chain.ActionRotateValidatorKey, Validator: h.c.Address(from), Entry: e, Proof: proof}
}

// transportAddrs are node i's p2p listen addresses without the /p2p/ id, as a validator
// entry names them.
func (h *harness) transportAddrs(i int) []string {
	var out []string
	for _, a := range h.c.Node(i).P2PAddrs() {
		transport, _ := peer.SplitAddr(a)
		out = append(out, transport.String())
	}
	return out
}

// setAt is node i's answer to "the set at height".
func (h *harness) setAt(i int, height uint64) []chain.Address {
	h.t.Helper()
	v, err := h.c.Client(i).Validators(ctxFor(h.t, 10*time.Second), height)
	if err != nil {
		h.t.Fatalf("node %d, validators at %d: %v", i, height, err)
	}
	out := make([]chain.Address, len(v.Set.Validators))
	for j, val := range v.Set.Validators {
		out[j] = val.Address
	}
	return out
}

func (h *harness) waitAll(nodes []int, height uint64) {
	h.t.Helper()
	for _, i := range nodes {
		h.waitHeight(i, height)
	}
}

// signs waits until node i's signature is in a certificate that node j serves.
func (h *harness) signs(i, j int) {
	h.t.Helper()
	want := h.c.Address(i)
	from := h.height(j)
	eventually(h.t, 60*time.Second, func() bool {
		head := h.height(j)
		for height := from; height <= head; height++ {
			c, err := h.c.Node(j).Ledger().SeenCommit(height)
			if err != nil || c == nil {
				continue
			}
			for _, s := range c.Sigs {
				if s.Validator == want {
					return true
				}
			}
		}
		return false
	}, func() string { return "node " + want.Hex() + " never signed a certificate" })
}

// load is two customers sending ACME back and forth through the given nodes, each transfer
// waiting for the commit of the one before.
type load struct {
	keys      []*ecdsa.PrivateKey
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	committed atomic.Int64
	errs      chan error
}

func (h *harness) startLoad(t *testing.T, nodes []int) *load {
	ld := &load{keys: []*ecdsa.PrivateKey{newKey(t), newKey(t)}, errs: make(chan error, 2)}
	funded := h.commit(nodes[0], h.c.Owner, &chain.Earn{Program: testnet.ClusterProgram, Credits: []chain.Credit{
		{To: addr(ld.keys[0]), Amount: 1_000, OrderRef: "load-0"}, {To: addr(ld.keys[1]), Amount: 1_000, OrderRef: "load-1"},
	}})
	h.waitAll(nodes, funded.Height)
	ctx, cancel := context.WithCancel(context.Background())
	ld.cancel = cancel
	for i, k := range ld.keys {
		ld.wg.Add(1)
		go func() {
			defer ld.wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				node := nodes[(i+n)%len(nodes)]
				tx := h.sign(k, &chain.Transfer{Program: testnet.ClusterProgram, To: addr(ld.keys[1-i]), Amount: 1})
				if _, err := h.c.Client(node).SubmitTx(ctx, tx); err != nil {
					if ctx.Err() == nil {
						ld.errs <- err
					}
					return
				}
				wctx, wcancel := context.WithTimeout(context.Background(), 60*time.Second)
				_, err := wallet.Wait(wctx, h.c.Client(node), tx.Hash())
				wcancel()
				if err != nil {
					ld.errs <- err
					return
				}
				ld.committed.Add(1)
			}
		}()
	}
	return ld
}

func (ld *load) stop(t *testing.T) {
	ld.cancel()
	ld.wg.Wait()
	close(ld.errs)
	for err := range ld.errs {
		t.Errorf("load: %v", err)
	}
}

// check asserts the load's exact outcome on every node: customer k sent as many transfers of
// one point as its nonce says, so each holds 1,000 less what it sent plus what it received.
// The clients saw every transfer committed but perhaps the last of each, whose submission
// the stop cut short after the node had it.
func (ld *load) check(t *testing.T, h *harness, nodes []int) {
	t.Helper()
	seen := ld.committed.Load()
	if seen == 0 {
		t.Fatal("no transfer committed under the load")
	}
	a, b := addr(ld.keys[0]), addr(ld.keys[1])
	state := func(i int) (na, nb uint64, ba, bb uint64) {
		acc, err := h.c.Client(i).Account(ctxFor(t, 10*time.Second), a)
		if err != nil {
			t.Fatal(err)
		}
		acc2, err := h.c.Client(i).Account(ctxFor(t, 10*time.Second), b)
		if err != nil {
			t.Fatal(err)
		}
		return acc.Nonce, acc2.Nonce, h.balance(i, a).Total, h.balance(i, b).Total
	}
	var last string
	eventually(t, 30*time.Second, func() bool {
		na, nb, _, _ := state(nodes[0])
		for _, i := range nodes {
			ma, mb, ba, bb := state(i)
			last = fmt.Sprintf("node %d: nonces %d and %d, balances %d and %d; node %d's nonces %d and %d; the clients saw %d", i, ma, mb, ba, bb, nodes[0], na, nb, seen)
			if ma != na || mb != nb || ba != 1_000-ma+mb || bb != 1_000-mb+ma || int64(ma+mb) < seen || int64(ma+mb) > seen+2 {
				return false
			}
		}
		return true
	}, func() string { return last })
}

// A chain's only validator takes a second one and lets it go again: the lone node opens its
// p2p side when the chain adds node 1 (whose entry says where to dial it), both sign while
// there are two, and node 0 goes on alone once node 1 is removed.
func TestOneToTwoToOne(t *testing.T) {
	h := newHarness(t, testnet.ClusterOptions{Validators: 1, Joiners: 1})
	owner := h.c.Owner
	if h.c.Node(0).P2PAddrs() != nil {
		t.Fatal("a lone validator opened p2p before the chain listed another node")
	}
	ld := h.startLoad(t, []int{0})
	e, proof := h.entry(1, "v1", h.transportAddrs(1)...)
	// One partner: a proposal is its own two thirds and executes at once.
	info := h.commit(0, owner, &chain.ProposeValidator{Action: chain.ActionAddValidator, Entry: e, Proof: proof})
	added := info.Height + chain.ActivationDelay
	h.waitAll([]int{0, 1}, added+3)
	if h.c.Node(0).P2PAddrs() == nil {
		t.Fatal("node 0 has no p2p side with two validators")
	}
	if got := h.setAt(0, added); len(got) != 2 || got[1] != h.c.Address(1) {
		t.Fatalf("the set at %d is %v", added, got)
	}
	h.signs(1, 0)
	// Both sign every block from the activation: two validators need both.
	for height := added; height < h.height(0); height++ {
		c, err := h.c.Node(0).Ledger().SeenCommit(height)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Sigs) != 2 {
			t.Fatalf("block %d certified by %d of 2", height, len(c.Sigs))
		}
	}

	info = h.commit(0, owner, &chain.ProposeValidator{Action: chain.ActionRemoveValidator, Validator: h.c.Address(1)})
	removed := info.Height + chain.ActivationDelay
	h.waitHeight(0, removed+3)
	if got := h.setAt(0, removed); len(got) != 1 || got[0] != h.c.Address(0) {
		t.Fatalf("the set at %d is %v", removed, got)
	}
	ld.stop(t)
	head := h.height(0)
	for height := removed; height < head; height++ {
		c, err := h.c.Node(0).Ledger().SeenCommit(height)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Sigs) != 1 || c.Sigs[0].Validator != h.c.Address(0) {
			t.Fatalf("block %d certified by %v, want node 0 alone", height, c.Sigs)
		}
	}
	h.agree(removed-1, 0, 1)
	ld.check(t, h, []int{0})
}
