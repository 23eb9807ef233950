package mempool

import "container/heap"

// expiryHeap holds the entries with a ValidUntil, the soonest to expire (then the oldest)
// first, so Update drops the expired ones in O(log n) each without a scan. Each entry keeps
// its index (entry.expIdx) so it can leave the heap when removed for another reason.
type expiryHeap []*entry

var _ heap.Interface = (*expiryHeap)(nil)

func (h expiryHeap) Len() int { return len(h) }

func (h expiryHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.tx.ValidUntil != b.tx.ValidUntil {
		return a.tx.ValidUntil < b.tx.ValidUntil
	}
	return a.seq < b.seq
}

func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].expIdx = i
	h[j].expIdx = j
}

func (h *expiryHeap) Push(x any) {
	e := x.(*entry)
	e.expIdx = len(*h)
	*h = append(*h, e)
}

func (h *expiryHeap) Pop() any {
	old := *h
	n := len(old) - 1
	e := old[n]
	old[n] = nil
	*h = old[:n]
	e.expIdx = -1
	return e
}
