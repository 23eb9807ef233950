package mempool

import "github.com/loyal-ledger/loyal/chain"

// recentCommitted is how many hashes of committed transactions the pool remembers. Under
// load a block often reaches a node before the gossip of its transactions does; the late
// copies then arrive after the commit. Remembering the hashes of the last few blocks drops
// them before their signatures are recovered — each recovery costs more than everything
// else the node does for a transaction. 65,536 hashes are about 5 MB.
const recentCommitted = 1 << 16

// recentSet is a bounded set of hashes that forgets the oldest first. Its owner locks it.
type recentSet struct {
	set  map[chain.Hash]struct{}
	ring []chain.Hash
	next int // where the next hash goes in ring, once ring is full
}

func newRecentSet(n int) *recentSet {
	n = max(n, 1)
	return &recentSet{set: make(map[chain.Hash]struct{}, n), ring: make([]chain.Hash, 0, n)}
}

func (r *recentSet) add(h chain.Hash) {
	if _, ok := r.set[h]; ok {
		return
	}
	if len(r.ring) < cap(r.ring) {
		r.ring = append(r.ring, h)
	} else {
		delete(r.set, r.ring[r.next])
		r.ring[r.next] = h
		r.next = (r.next + 1) % len(r.ring)
	}
	r.set[h] = struct{}{}
}

func (r *recentSet) has(h chain.Hash) bool {
	_, ok := r.set[h]
	return ok
}
