package ledger

import (
	"fmt"
	"sync"

	"github.com/loyal-ledger/loyal/chain"
)

// maxAdmitCache bounds the records the admission cache holds; past it, it starts again empty.
const maxAdmitCache = 1 << 16

// admitCache keeps the committed state records admission checks (CheckQueue) read, as of one
// head block: the checks of a block's worth of transactions read the same programs and often
// the same accounts, and every validator checks every transaction. When a block commits, its
// changes replace the records they touch and the cache moves to the new head (advance): a
// sender whose last transaction just committed is checked again without reading the store.
// A record is never older than the head it is cached under (it may be newer by a block being
// committed meanwhile, which an early check tolerates: the block that carries the transaction
// checks it again). Safe for concurrent use; block execution never reads it.
type admitCache struct {
	mu     sync.Mutex
	head   Head
	values map[string][]byte // nil value: known absent
}

// reader is a chain.StateReader over the committed state at head, through the cache.
func (c *admitCache) reader(l *Ledger, head Head) chain.StateReader {
	return admitReader{c: c, base: stateReader{db: l.db}, head: head}
}

// advance moves the cache from parent to head, the block just committed on it with changes.
// Records the block did not change are still those at head. The ledger's writer calls it,
// holding the write lock, once the block is written.
func (c *admitCache) advance(parent chain.Hash, head Head, changes []chain.Change) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.head.Hash != parent {
		c.head, c.values = head, nil // the cache was of another head (or empty): start afresh
		return
	}
	for _, ch := range changes {
		if _, ok := c.values[string(ch.Key)]; ok {
			c.values[string(ch.Key)] = ch.Value
		}
	}
	c.head = head
}

type admitReader struct {
	c    *admitCache
	base stateReader
	head Head
}

func (r admitReader) Get(k []byte) ([]byte, error) {
	c := r.c
	c.mu.Lock()
	if c.head.Hash != r.head.Hash && (r.head.Height > c.head.Height || c.head.Hash == (chain.Hash{})) {
		c.head, c.values = r.head, nil // a head the cache missed: start afresh at it
	}
	current := c.head.Hash == r.head.Hash
	v, ok := c.values[string(k)]
	c.mu.Unlock()
	if current && ok {
		return v, nil
	}
	// A miss, or a reader of a head older than the cache's (a check that began before the
	// last commit): the store has the record, at least as new as the reader's head.
	v, err := r.base.Get(k)
	if err != nil || !current {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.head.Hash == r.head.Hash {
		if c.values == nil || len(c.values) >= maxAdmitCache {
			c.values = make(map[string][]byte)
		}
		c.values[string(k)] = v
	}
	return v, nil
}

// CommittedNonce is an account's next nonce in the committed state, read as CheckQueue reads
// it (through the admission cache): admission asks for it, then checks the transaction, and
// the second read is then free.
func (l *Ledger) CommittedNonce(a chain.Address) (uint64, error) {
	raw, err := l.admit.reader(l, l.Head()).Get(chain.AccountKey(a))
	if err != nil || raw == nil {
		return 0, err
	}
	acc, err := chain.DecodeAccount(raw)
	if err != nil {
		return 0, fmt.Errorf("%w: account %s: %v", ErrCorrupt, a, err)
	}
	return acc.Nonce, nil
}
