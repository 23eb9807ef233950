package ledger

import (
	"fmt"
	"sync"

	"github.com/loyal-ledger/loyal/chain"
)

// maxAdmitCache bounds the records the admission cache holds; past it, it starts again empty.
const maxAdmitCache = 1 << 16

// admitCache keeps the committed state records admission checks (CheckQueue) read, for one
// head block at a time: the checks of a block's worth of transactions read the same programs
// and often the same accounts, and every validator checks every transaction. It is emptied
// when the head moves, so a record is never older than the head it was cached under (it may
// be newer by a block being committed meanwhile, which an early check tolerates: the block
// that carries the transaction checks it again). Safe for concurrent use; block execution
// never reads it.
type admitCache struct {
	mu     sync.Mutex
	head   chain.Hash
	values map[string][]byte // nil value: known absent
}

// reader is a chain.StateReader over the committed state at head, through the cache.
func (c *admitCache) reader(l *Ledger, head chain.Hash) chain.StateReader {
	return admitReader{c: c, base: stateReader{db: l.db}, head: head}
}

type admitReader struct {
	c    *admitCache
	base stateReader
	head chain.Hash
}

func (r admitReader) Get(k []byte) ([]byte, error) {
	c := r.c
	c.mu.Lock()
	if c.head != r.head {
		c.head, c.values = r.head, nil
	}
	v, ok := c.values[string(k)]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := r.base.Get(k)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.head == r.head {
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
	raw, err := l.admit.reader(l, l.Head().Hash).Get(chain.AccountKey(a))
	if err != nil || raw == nil {
		return 0, err
	}
	acc, err := chain.DecodeAccount(raw)
	if err != nil {
		return 0, fmt.Errorf("%w: account %s: %v", ErrCorrupt, a, err)
	}
	return acc.Nonce, nil
}
