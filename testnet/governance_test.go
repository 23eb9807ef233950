package testnet_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/testnet"
	"github.com/loyal-ledger/loyal/wallet"
)

// The coalition grows and changes by governance (ADR 0009) on four validators while
// customers keep transferring: a fifth partner is admitted by three of four and registers a
// program; a partner's owner key is rotated and the old key is refused; a partner is removed,
// its program retired and its customers' points intact. Every node ends with the same chain
// and the same partners.
func TestGovernanceUnderLoad(t *testing.T) {
	h := newHarness(t, testnet.ClusterOptions{Validators: 4, Partners: 3})
	owner, p1, p2, p3 := h.c.Partners[0], h.c.Partners[1], h.c.Partners[2], h.c.Partners[3]
	eve, p1b := newKey(t), newKey(t)
	c1, c2 := newKey(t), newKey(t)

	// Partner 3's program, with a customer holding 50 of its points.
	h.commit(3, p3, &chain.RegisterProgram{Symbol: "THREE", Name: "Three"})
	h.commit(3, p3, &chain.Earn{Program: "THREE", Credits: []chain.Credit{{To: addr(c1), Amount: 50, OrderRef: "t1"}}})

	// The load: two customers send ACME back and forth, each transfer to another node, each
	// waiting for the commit of the one before.
	loaders := []*ecdsa.PrivateKey{newKey(t), newKey(t)}
	funded := h.commit(0, owner, &chain.Earn{Program: testnet.ClusterProgram, Credits: []chain.Credit{
		{To: addr(loaders[0]), Amount: 1_000, OrderRef: "load-0"}, {To: addr(loaders[1]), Amount: 1_000, OrderRef: "load-1"},
	}})
	h.agree(funded.Height, all(4)...)
	ctx, stop := context.WithCancel(context.Background())
	var load sync.WaitGroup
	var committed atomic.Int64
	loadErr := make(chan error, len(loaders))
	for i, k := range loaders {
		load.Add(1)
		go func() {
			defer load.Done()
			for n := 0; ctx.Err() == nil; n++ {
				node := (i + n) % 4
				tx := h.sign(k, &chain.Transfer{Program: testnet.ClusterProgram, To: addr(loaders[1-i]), Amount: 1})
				if _, err := h.c.Client(node).SubmitTx(ctx, tx); err != nil {
					if ctx.Err() == nil {
						loadErr <- err
					}
					return
				}
				// Wait without ctx, so a transaction already submitted is seen committed before
				// the next is signed (the harness counts nonces itself).
				wctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				_, err := wallet.Wait(wctx, h.c.Client(node), tx.Hash())
				cancel()
				if err != nil {
					loadErr <- err
					return
				}
				committed.Add(1)
			}
		}()
	}
	stopLoad := func() {
		stop()
		load.Wait()
		close(loadErr)
		for err := range loadErr {
			t.Errorf("load: %v", err)
		}
	}
	defer func() {
		if ctx.Err() == nil {
			stopLoad()
		}
	}()
	before := committed.Load()

	// 1. Admit Eve: the owner proposes, partners 1 and 2 approve (three of four).
	proposed := h.step(0, owner, &chain.Propose{Action: chain.ActionAdmitPartner, Partner: addr(eve), Name: "Eve's Books"})
	id := h.proposalOf(0, proposed, addr(owner))
	h.step(1, p1, &chain.Approve{Proposal: id})
	if pr := h.proposal(2, id); pr.Status != "open" || pr.Counted != 2 || pr.Needed != 3 {
		t.Fatalf("after two of four: %s, %d counted of %d needed", pr.Status, pr.Counted, pr.Needed)
	}
	executed := h.step(2, p2, &chain.Approve{Proposal: id})
	if pr := h.proposal(3, id); pr.Status != "executed" || pr.Closed != executed.Height {
		t.Fatalf("admission: %s at %d, want executed at %d", pr.Status, pr.Closed, executed.Height)
	}
	h.step(3, eve, &chain.RegisterProgram{Symbol: "EVE", Name: "Eve's Books"})

	// 2. Rotate partner 1's key (five partners now: four approvals needed); its program moves.
	h.step(1, p1, &chain.RegisterProgram{Symbol: "ONE", Name: "One"})
	proposed = h.step(1, p1, &chain.Propose{Action: chain.ActionRotateOwnerKey, Partner: addr(p1), NewKey: addr(p1b)})
	id = h.proposalOf(1, proposed, addr(p1))
	h.step(0, owner, &chain.Approve{Proposal: id})
	h.step(2, p2, &chain.Approve{Proposal: id})
	h.step(3, eve, &chain.Approve{Proposal: id})
	if pr := h.proposal(0, id); pr.Status != "executed" {
		t.Fatalf("rotation: %s", pr.Status)
	}
	for i := 0; i < 4; i++ {
		if one, err := h.c.Client(i).Program(ctxFor(t, 10*time.Second), "ONE"); err != nil || one.Owner != addr(p1b) {
			t.Fatalf("node %d: ONE after the rotation: owner %s, %v; want %s", i, one.Owner, err, addr(p1b))
		}
	}
	h.refused(1, p1, &chain.RegisterProgram{Symbol: "ONE2", Name: "One"}, chain.ErrRetiredKey)
	h.refused(2, p1, &chain.Propose{Action: chain.ActionAdmitPartner, Partner: addr(newKey(t)), Name: "x"}, chain.ErrRetiredKey)
	h.refused(3, p1, &chain.UpdateProgram{Program: "ONE", Retire: true}, chain.ErrRetiredKey)
	h.step(1, p1b, &chain.UpdateProgram{Program: "ONE", SetOperators: true, Operators: []chain.Address{addr(p2)}})

	// 3. Remove partner 3: the other four are eligible, three approvals pass.
	proposed = h.step(0, owner, &chain.Propose{Action: chain.ActionRemovePartner, Partner: addr(p3)})
	id = h.proposalOf(0, proposed, addr(owner))
	h.step(1, p1b, &chain.Approve{Proposal: id})
	removed := h.step(2, p2, &chain.Approve{Proposal: id})
	if pr := h.proposal(3, id); pr.Status != "executed" || pr.Closed != removed.Height {
		t.Fatalf("removal: %s at %d", pr.Status, pr.Closed)
	}
	prog, err := h.c.Client(3).Program(ctxFor(t, 10*time.Second), "THREE")
	if err != nil || !prog.Retired || prog.Outstanding != 50 {
		t.Fatalf("THREE after its partner's removal: retired %v, outstanding %d, %v", prog.Retired, prog.Outstanding, err)
	}
	h.refused(3, p3, &chain.Earn{Program: "THREE", Credits: []chain.Credit{{To: addr(c1), Amount: 1, OrderRef: "t2"}}}, chain.ErrProgramRetired)
	h.refused(0, p3, &chain.Reverse{Program: "THREE", OrderRef: "t1", Amount: 50}, chain.ErrPartnerRemoved)
	h.step(0, c1, &chain.Transfer{Program: "THREE", To: addr(c2), Amount: 20})
	last := h.step(1, c2, &chain.Redeem{Program: "THREE", Amount: 5, RewardRef: "r1"})

	during := committed.Load() - before
	stopLoad()
	if during == 0 {
		t.Fatal("no transfer of the load committed while the coalition changed")
	}
	t.Logf("%d transfers of the load committed during the governance steps", during)

	h.agree(last.Height, all(4)...)
	want := []api.PartnerInfo{}
	for i := 0; i < 4; i++ {
		ps, err := h.c.Client(i).Partners(ctxFor(t, 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			want = ps.Partners
			names := map[string]chain.Address{}
			for _, p := range ps.Partners {
				names[p.Name] = p.Address
			}
			wantNames := map[string]chain.Address{"owner": addr(owner), "partner1": addr(p1b), "partner2": addr(p2), "Eve's Books": addr(eve)}
			if len(names) != len(wantNames) {
				t.Fatalf("partners %+v", ps.Partners)
			}
			for n, a := range wantNames {
				if names[n] != a {
					t.Fatalf("partner %q is %s, want %s (all: %+v)", n, names[n], a, ps.Partners)
				}
			}
			if len(ps.Proposals) != 0 {
				t.Fatalf("open proposals left: %+v", ps.Proposals)
			}
		} else if !slices.EqualFunc(ps.Partners, want, func(a, b api.PartnerInfo) bool {
			return a.Address == b.Address && a.Name == b.Name && slices.Equal(a.Programs, b.Programs)
		}) {
			t.Fatalf("node %d partners %+v, node 0 %+v", i, ps.Partners, want)
		}
		for _, c := range []struct {
			k    *ecdsa.PrivateKey
			want uint64
		}{{c1, 30}, {c2, 15}} {
			info, err := h.c.Client(i).Account(ctxFor(t, 10*time.Second), addr(c.k))
			if err != nil {
				t.Fatal(err)
			}
			if len(info.Programs) != 1 || info.Programs[0].Program != "THREE" || info.Programs[0].Total != c.want {
				t.Fatalf("node %d: customer holds %+v, want %d THREE", i, info.Programs, c.want)
			}
		}
	}
}

// step commits p from key through node i and waits until every node has the block: the next
// step may go to any node, and a node judges a transaction by what it has committed.
func (h *harness) step(i int, key *ecdsa.PrivateKey, p chain.Payload) api.TxInfo {
	h.t.Helper()
	info := h.commit(i, key, p)
	for n := 0; n < h.c.Len(); n++ {
		h.waitHeight(n, info.Height)
	}
	return info
}

// proposalOf returns the id of the proposal that the committed transaction recorded.
func (h *harness) proposalOf(i int, info api.TxInfo, proposer chain.Address) uint64 {
	h.t.Helper()
	all, err := h.c.Client(i).Proposals(ctxFor(h.t, 10*time.Second), "")
	if err != nil {
		h.t.Fatal(err)
	}
	for _, p := range all.Proposals {
		if p.Proposer == proposer && p.Height == info.Height {
			return p.ID
		}
	}
	h.t.Fatalf("node %d lists no proposal by %s at height %d", i, proposer, info.Height)
	return 0
}

func (h *harness) proposal(i int, id uint64) api.ProposalInfo {
	h.t.Helper()
	p, err := h.c.Client(i).Proposal(ctxFor(h.t, 10*time.Second), id)
	if err != nil {
		h.t.Fatalf("node %d, proposal %d: %v", i, id, err)
	}
	return p
}

// refused submits p from key to node i and checks that the node refuses it with want, without
// using up the key's nonce.
func (h *harness) refused(i int, key *ecdsa.PrivateKey, p chain.Payload, want *chain.Error) {
	h.t.Helper()
	tx := h.sign(key, p)
	_, err := h.c.Client(i).SubmitTx(ctxFor(h.t, 10*time.Second), tx)
	var apiErr *wallet.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != want.Code {
		h.t.Fatalf("node %d: %s from %s: %v, want %s", i, p.Kind(), addr(key), err, want.Code)
	}
	h.mu.Lock()
	h.nonces[addr(key)]--
	h.mu.Unlock()
}
