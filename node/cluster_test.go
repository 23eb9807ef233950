package node_test

import (
	"crypto/ecdsa"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node"
	"github.com/loyal-ledger/loyal/node/api"
	"github.com/loyal-ledger/loyal/node/consensus"
	"github.com/loyal-ledger/loyal/p2p"
)

// cluster starts n validators in this process on loopback (real libp2p, real pebble), each a
// partner with its own consensus key, sharing one genesis; partner 0 owns ACME.
func cluster(t *testing.T, n int) ([]*running, *ecdsa.PrivateKey) {
	return clusterWithObservers(t, n, 0)
}

func clusterB(b *testing.B, n int) ([]*running, *ecdsa.PrivateKey) {
	return clusterWithObservers(b, n, 0)
}

// clusterWithObservers also starts observers (nodes whose keys are not validators) after
// the validators; the validators admit them.
func clusterWithObservers(t testing.TB, n, observers int) ([]*running, *ecdsa.PrivateKey) {
	owner := testKey(t, "owner")
	var vals []chain.Validator
	var keys []*ecdsa.PrivateKey
	partners := []chain.Partner{{Name: "owner", Address: addr(owner)}}
	for i := 0; i < n; i++ {
		k := testKey(t, "validator "+strconv.Itoa(i))
		keys = append(keys, k)
		vals = append(vals, chain.Validator{Name: "v" + strconv.Itoa(i), Partner: addr(owner),
			PubKey: crypto.CompressPubkey(&k.PublicKey), Address: addr(k)})
	}
	g := &chain.Genesis{ChainID: 77, Network: "cluster-test", GenesisTime: uint64(time.Now().Unix()) - 10,
		Partners: partners, Validators: vals, Params: chain.DefaultParams(),
		Programs: []chain.GenesisProgram{{Symbol: "ACME", Name: "Acme", Owner: addr(owner)}}}
	dir := t.TempDir()
	var observerIDs []string
	for i := 0; i < observers; i++ {
		k := testKey(t, "observer "+strconv.Itoa(i))
		keys = append(keys, k)
		id, err := p2p.PeerIDOf(crypto.CompressPubkey(&k.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		observerIDs = append(observerIDs, id.String())
	}
	var rs []*running
	for i := 0; i < n+observers; i++ {
		cfg := node.DefaultConfig()
		cfg.P2P.Observers = observerIDs
		cfg.API.Listen = "127.0.0.1:0"
		cfg.P2P.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
		cfg.Log.Level = "warn"
		home := filepath.Join(dir, fmt.Sprintf("node%d", i))
		if _, err := node.WriteHome(home, cfg, g, keys[i]); err != nil {
			t.Fatal(err)
		}
		rs = append(rs, start(t, home))
	}
	for i, a := range rs {
		for j, b := range rs {
			if i != j {
				for _, ad := range b.n.P2PAddrs() {
					if err := a.n.AddPeer(ad); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	return rs, owner
}

// Four validators commit identical blocks under transactions submitted to all of them.
func TestFourValidatorsAgree(t *testing.T) {
	rs, owner := cluster(t, 4)
	customers := make([]*ecdsa.PrivateKey, 8)
	for i := range customers {
		customers[i] = testKey(t, "customer "+strconv.Itoa(i))
	}
	c := newClient(t, rs[0])
	credits := make([]chain.Credit, len(customers))
	for i, k := range customers {
		credits[i] = chain.Credit{To: addr(k), Amount: 100, OrderRef: "fund-" + strconv.Itoa(i)}
	}
	c.commit(owner, &chain.Earn{Program: "ACME", Credits: credits})

	// Each customer sends 5 transfers, each to a different node.
	var wg sync.WaitGroup
	hashes := make([][]chain.Hash, len(customers))
	for i, k := range customers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				tx := chain.NewTx(c.chain, uint64(j), 0, &chain.Transfer{Program: "ACME", To: addr(owner), Amount: 1})
				if err := c.signer.Sign(tx, k); err != nil {
					t.Error(err)
					return
				}
				var sub api.Submitted
				if status, e := call(t, "POST", rs[(i+j)%len(rs)].url+"/v1/txs", "", tx, &sub); status != 202 {
					t.Errorf("submit: %d %+v", status, e)
					return
				}
				hashes[i] = append(hashes[i], tx.Hash())
			}
		}()
	}
	wg.Wait()
	for _, hs := range hashes {
		for _, h := range hs {
			for _, r := range rs {
				var info api.TxInfo
				call(t, "GET", r.url+"/v1/txs/"+h.Hex()+"?wait=30s", "", nil, &info)
				if info.Status != api.TxCommitted {
					t.Fatalf("tx %s not committed on %s: %+v", h, r.url, info)
				}
			}
		}
	}
	// Same blocks everywhere up to the lowest head.
	low := ^uint64(0)
	for _, r := range rs {
		var st api.Status
		call(t, "GET", r.url+"/v1/status", "", nil, &st)
		low = min(low, st.Height)
	}
	for h := uint64(1); h <= low; h++ {
		var first chain.Hash
		for i, r := range rs {
			var b api.BlockInfo
			call(t, "GET", r.url+"/v1/blocks/"+strconv.FormatUint(h, 10), "", nil, &b)
			if i == 0 {
				first = b.Hash
				t.Logf("height %d: %d txs, proposer %s, time %d, commit round %d", h, len(b.Block.Txs), b.Block.Header.Proposer.Hex()[:8], b.Block.Header.Time, b.Commit.Round)
			} else if b.Hash != first {
				t.Fatalf("height %d: node %d has %s, node 0 has %s", h, i, b.Hash, first)
			}
		}
	}
	for _, r := range rs {
		if got := balance(t, r, addr(owner), "ACME"); got.Total != 40 {
			t.Fatalf("owner on %s has %d, want 40", r.url, got.Total)
		}
	}
}

// An observer follows the validators, serves reads, and passes transactions submitted to it
// on to them.
func TestObserverFollowsAndForwards(t *testing.T) {
	rs, owner := clusterWithObservers(t, 4, 1)
	obs := rs[4]
	alice := testKey(t, "alice")
	c := newClient(t, obs)
	sub := c.commit(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 7, OrderRef: "via-observer"}}})
	for _, r := range rs {
		var info api.TxInfo
		call(t, "GET", r.url+"/v1/txs/"+sub.Hash.Hex()+"?wait=30s", "", nil, &info)
		if info.Status != api.TxCommitted || info.Height != sub.Height {
			t.Fatalf("%s: %+v, want committed at %d", r.url, info, sub.Height)
		}
		if got := balance(t, r, addr(alice), "ACME"); got.Total != 7 {
			t.Fatalf("%s: alice has %d", r.url, got.Total)
		}
	}
	var st api.Status
	call(t, "GET", obs.url+"/v1/status", "", nil, &st)
	if st.Height < sub.Height {
		t.Fatalf("observer at %d", st.Height)
	}
}

// A validator that is down misses blocks; the other three keep committing; restarted, it
// catches up from its peers and agrees with them block for block.
func TestValidatorRestartsAndCatchesUp(t *testing.T) {
	rs, owner := cluster(t, 4)
	alice := testKey(t, "alice")
	c := newClient(t, rs[0])
	c.commit(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 100, OrderRef: "o-0"}}})
	rs[3].stop(t)
	var last api.Submitted
	for i := 1; i <= 4; i++ {
		last = c.commit(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 1, OrderRef: "o-" + strconv.Itoa(i)}}})
	}
	back := start(t, rs[3].home)
	for _, ad := range back.n.P2PAddrs() {
		for _, r := range rs[:3] {
			if err := r.n.AddPeer(ad); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, r := range rs[:3] {
		for _, ad := range r.n.P2PAddrs() {
			if err := back.n.AddPeer(ad); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitHeight(t, back, last.Height, 30*time.Second)
	var info api.TxInfo
	call(t, "GET", back.url+"/v1/txs/"+last.Hash.Hex(), "", nil, &info)
	if info.Status != api.TxCommitted || info.Height != last.Height {
		t.Fatalf("restarted validator: %+v, want committed at %d", info, last.Height)
	}
	for h := uint64(1); h <= last.Height; h++ {
		var a, b api.BlockInfo
		call(t, "GET", rs[0].url+"/v1/blocks/"+strconv.FormatUint(h, 10), "", nil, &a)
		call(t, "GET", back.url+"/v1/blocks/"+strconv.FormatUint(h, 10), "", nil, &b)
		if a.Hash != b.Hash {
			t.Fatalf("height %d differs after catch-up", h)
		}
	}
	// And it takes part again: a transaction submitted to it commits.
	c2 := newClient(t, back)
	c2.nonces = c.nonces
	c2.commit(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 1, OrderRef: "after"}}})
	if got := balance(t, back, addr(alice), "ACME"); got.Total != 105 {
		t.Fatalf("alice = %d on the restarted validator", got.Total)
	}
}

// Split 2|2, no side has a quorum: nothing commits anywhere. Healed, the pending transaction
// commits and all four agree.
func TestPartitionTwoTwoThenHeal(t *testing.T) {
	rs, owner := cluster(t, 4)
	alice := testKey(t, "alice")
	c := newClient(t, rs[0])
	before := c.commit(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 1, OrderRef: "before"}}})
	for _, r := range rs {
		waitHeight(t, r, before.Height, 30*time.Second)
	}
	vals := make([]chain.Address, len(rs))
	for i, r := range rs {
		var st api.Status
		call(t, "GET", r.url+"/v1/status", "", nil, &st)
		vals[i] = st.Validator
	}
	side := func(i int) int { return i / 2 }
	for i, r := range rs {
		for j := range rs {
			if side(i) != side(j) {
				if err := r.n.BlockPeer(vals[j]); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	tx := c.sign(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 1, OrderRef: "during"}}})
	var sub api.Submitted
	if status, e := call(t, "POST", rs[0].url+"/v1/txs?wait=4s", "", tx, &sub); status != 202 || sub.Status != api.TxPending {
		t.Fatalf("during the partition: %d %+v %+v, want still pending", status, sub, e)
	}
	for _, r := range rs {
		var st api.Status
		call(t, "GET", r.url+"/v1/status", "", nil, &st)
		if st.Height != before.Height {
			t.Fatalf("%s committed height %d during a 2|2 partition", r.url, st.Height)
		}
	}
	for i, r := range rs {
		for j := range rs {
			if side(i) != side(j) {
				if err := r.n.UnblockPeer(vals[j]); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	var info api.TxInfo
	call(t, "GET", rs[3].url+"/v1/txs/"+tx.Hash().Hex()+"?wait=30s", "", nil, &info)
	if info.Status != api.TxCommitted {
		waitHeight(t, rs[3], before.Height+1, 30*time.Second)
		call(t, "GET", rs[3].url+"/v1/txs/"+tx.Hash().Hex(), "", nil, &info)
	}
	if info.Status != api.TxCommitted {
		t.Fatalf("after healing: %+v", info)
	}
	for _, r := range rs {
		waitHeight(t, r, info.Height, 30*time.Second)
	}
	for h := uint64(1); h <= info.Height; h++ {
		var first chain.Hash
		for i, r := range rs {
			var b api.BlockInfo
			call(t, "GET", r.url+"/v1/blocks/"+strconv.FormatUint(h, 10), "", nil, &b)
			if i == 0 {
				first = b.Hash
			} else if b.Hash != first {
				t.Fatalf("height %d: node %d disagrees", h, i)
			}
		}
	}
}

// A connected peer (an admitted observer) that sends malformed, forged and oversized
// consensus messages and forged transactions changes nothing: the validators keep committing,
// agree, and penalize it until they ban it.
func TestForgedMessagesFromAPeerAreDropped(t *testing.T) {
	rs, owner := clusterWithObservers(t, 4, 1)
	bad := rs[4] // an admitted observer; we drive its p2p host by hand
	c := newClient(t, rs[0])
	first := c.commit(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(testKey(t, "alice")), Amount: 1, OrderRef: "x-0"}}})
	for _, r := range rs[:4] {
		waitHeight(t, r, first.Height, 30*time.Second)
	}
	impostor := testKey(t, "impostor")
	forgedVote := &consensus.Vote{Type: chain.Precommit, Height: first.Height + 1, Round: 0, BlockHash: chain.Hash{1}, Validator: rs[0].n.Ledger().Genesis().Validators[0].Address}
	sig, err := chain.SignVote(impostor, forgedVote.Digest(77))
	if err != nil {
		t.Fatal(err)
	}
	forgedVote.Sig = sig
	garbage := [][]byte{
		{},
		{'V', 1, 1, 2, 3},
		append([]byte{'V', 1}, forgedVote.Encode()...), // signed by someone else than it names
		append([]byte{'P', 1, 0, 0, 0, 200}, make([]byte, 300)...),
		make([]byte, 6<<20), // over the consensus message limit
	}
	for round := 0; round < 10; round++ {
		for _, g := range garbage {
			bad.n.BroadcastRaw(p2p.ConsensusProtocol, g)
		}
		bad.n.BroadcastRaw(p2p.TxsProtocol, []byte{'T', 1, 0, 1, 0, 0, 0, 3, 1, 2, 3})
	}
	// The validators still commit, and agree.
	next := c.commit(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(testKey(t, "alice")), Amount: 1, OrderRef: "x-1"}}})
	for _, r := range rs[:4] {
		waitHeight(t, r, next.Height, 30*time.Second)
		var b api.BlockInfo
		call(t, "GET", r.url+"/v1/blocks/"+strconv.FormatUint(next.Height, 10), "", nil, &b)
		var want api.BlockInfo
		call(t, "GET", rs[0].url+"/v1/blocks/"+strconv.FormatUint(next.Height, 10), "", nil, &want)
		if b.Hash != want.Hash {
			t.Fatalf("%s disagrees at %d", r.url, next.Height)
		}
	}
	// And they held it against the sender (the only peer sending anything invalid).
	deadline := time.Now().Add(20 * time.Second)
	for {
		penalized := 0
		for _, r := range rs[:4] {
			if st := r.n.P2PStats(); st.Penalties > 0 && st.Violations > 0 {
				penalized++
			}
		}
		if penalized == 4 {
			break
		}
		if time.Now().After(deadline) {
			for _, r := range rs[:4] {
				t.Logf("%s: %+v", r.url, r.n.P2PStats())
			}
			t.Fatalf("only %d of 4 validators counted violations against the forging peer", penalized)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
