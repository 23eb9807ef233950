package ledger

// stateCache keeps recently read or written state records in memory so that executing a
// block rarely reaches the store: accounts touched by one block are usually touched by the
// next. It is two generations of maps — a record found in the old one is promoted, and when
// the young one outgrows half the budget it becomes the old one — which bounds memory to
// about the budget without per-entry bookkeeping. Only the goroutine holding the ledger's
// write lock uses it. It changes no result: a miss reads the store.
type stateCache struct {
	budget     int
	young, old map[string][]byte // nil value: known absent
	youngBytes int
}

func newStateCache(budgetBytes int) *stateCache {
	return &stateCache{budget: budgetBytes, young: map[string][]byte{}, old: map[string][]byte{}}
}

func (c *stateCache) get(k []byte) (v []byte, ok bool) {
	if v, ok = c.young[string(k)]; ok {
		return v, true
	}
	if v, ok = c.old[string(k)]; ok {
		c.put(k, v)
	}
	return v, ok
}

func (c *stateCache) put(k, v []byte) {
	if c.budget <= 0 {
		return
	}
	c.young[string(k)] = v
	c.youngBytes += len(k) + len(v) + 64
	if c.youngBytes > c.budget/2 {
		c.old, c.young, c.youngBytes = c.young, map[string][]byte{}, 0
	}
}
