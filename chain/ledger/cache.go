package ledger

import "github.com/loyal-ledger/loyal/chain"

// stateCache keeps recently read or written state records in memory so that executing a
// block rarely reaches the store: accounts touched by one block are usually touched by the
// next. It is two generations of maps — a record found in the old one is promoted, and when
// the young one outgrows half the budget it becomes the old one — which bounds memory to
// about the budget without per-entry bookkeeping. Only the goroutine holding the ledger's
// write lock uses it. It changes no result: a miss reads the store.
type stateCache struct {
	budget     int
	young, old generation
	youngBytes int
}

// generation is one generation of the cache. Account records, most of a block's reads and
// writes, are keyed by address: a fixed-size key is stored and compared in the map's own
// slots, and putting one allocates no string (a block of transfers puts 20,000 of them).
type generation struct {
	accounts map[chain.Address][]byte // nil value: known absent
	other    map[string][]byte        // every other record by state key
}

func newGeneration() generation {
	return generation{accounts: map[chain.Address][]byte{}, other: map[string][]byte{}}
}

// accountNS is the first byte of every account key.
var accountNS = chain.AccountKey(chain.Address{})[0]

// accountOf returns the address of an account key.
func accountOf(k []byte) (chain.Address, bool) {
	if len(k) != 1+len(chain.Address{}) || k[0] != accountNS {
		return chain.Address{}, false
	}
	return chain.Address(k[1:]), true
}

func (g generation) get(k []byte) (v []byte, ok bool) {
	if a, isAccount := accountOf(k); isAccount {
		v, ok = g.accounts[a]
	} else {
		v, ok = g.other[string(k)]
	}
	return v, ok
}

func (g generation) put(k, v []byte) {
	if a, isAccount := accountOf(k); isAccount {
		g.accounts[a] = v
	} else {
		g.other[string(k)] = v
	}
}

func newStateCache(budgetBytes int) *stateCache {
	return &stateCache{budget: budgetBytes, young: newGeneration(), old: newGeneration()}
}

func (c *stateCache) get(k []byte) (v []byte, ok bool) {
	if v, ok = c.young.get(k); ok {
		return v, true
	}
	if v, ok = c.old.get(k); ok {
		c.put(k, v)
	}
	return v, ok
}

func (c *stateCache) put(k, v []byte) {
	if c.budget <= 0 {
		return
	}
	c.young.put(k, v)
	c.youngBytes += len(k) + len(v) + 64
	if c.youngBytes > c.budget/2 {
		c.old, c.young, c.youngBytes = c.young, newGeneration(), 0
	}
}
