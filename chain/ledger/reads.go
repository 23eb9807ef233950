package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/smt"
	"github.com/loyal-ledger/loyal/chain/store"
)

// ErrNotFound is returned for a block, transaction or record that does not exist.
var ErrNotFound = errors.New("ledger: not found")

func notFound(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrNotFound, what)
	}
	return err
}

// Block returns the committed block at height. Recent blocks come from a small cache of
// decoded blocks (reads of a busy block's transactions would otherwise decode and re-hash
// the whole block each time), so the caller must not modify the result.
func (l *Ledger) Block(height uint64) (*chain.Block, error) {
	if blk := l.blocks.get(height); blk != nil {
		return blk, nil
	}
	raw, err := l.db.Get(heightKey(pBlock, height))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("block %d", height))
	}
	blk, err := chain.DecodeBlock(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: block %d: %v", ErrCorrupt, height, err)
	}
	l.blocks.put(height, blk)
	return blk, nil
}

// blockCache keeps the most recently decoded blocks (committed blocks never change).
type blockCache struct {
	mu    sync.Mutex
	byH   map[uint64]*chain.Block
	order []uint64 // insertion order, for eviction
}

const blockCacheSize = 32

func (c *blockCache) get(h uint64) *chain.Block {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byH[h]
}

func (c *blockCache) put(h uint64, blk *chain.Block) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byH == nil {
		c.byH = map[uint64]*chain.Block{}
	}
	if _, ok := c.byH[h]; ok {
		return
	}
	if len(c.order) == blockCacheSize {
		delete(c.byH, c.order[0])
		c.order = c.order[1:]
	}
	c.byH[h] = blk
	c.order = append(c.order, h)
}

// BlockHeight returns the height of the block with hash h.
func (l *Ledger) BlockHeight(h chain.Hash) (uint64, error) {
	raw, err := l.db.Get(hashKey(pHash, h))
	if err != nil {
		return 0, notFound(err, "block "+h.Hex())
	}
	return binary.BigEndian.Uint64(raw), nil
}

// SeenCommit returns the certificate this node saw for the block at height: the canonical
// one is in the block at height+1, this one covers the tip.
func (l *Ledger) SeenCommit(height uint64) (*chain.Commit, error) {
	raw, err := l.db.Get(heightKey(pSeen, height))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("commit %d", height))
	}
	return chain.DecodeCommit(raw)
}

// TxLocation returns where a committed transaction is: block height and index.
func (l *Ledger) TxLocation(h chain.Hash) (height uint64, index int, err error) {
	raw, err := l.db.Get(hashKey(pTx, h))
	if err != nil {
		return 0, 0, notFound(err, "transaction "+h.Hex())
	}
	if len(raw) != 12 {
		return 0, 0, fmt.Errorf("%w: tx index of %s", ErrCorrupt, h)
	}
	return binary.BigEndian.Uint64(raw), int(binary.BigEndian.Uint32(raw[8:])), nil
}

// TxProof returns the inclusion proof of a committed transaction and its block's header.
func (l *Ledger) TxProof(h chain.Hash) (*chain.TxProof, *chain.Header, error) {
	height, index, err := l.TxLocation(h)
	if err != nil {
		return nil, nil, err
	}
	blk, err := l.Block(height)
	if err != nil {
		return nil, nil, err
	}
	p, err := chain.ProveTx(blk.Txs, index)
	if err != nil {
		return nil, nil, err
	}
	return p, &blk.Header, nil
}

// HistoryCursor is a position in an account's history: where to continue paging.
type HistoryCursor struct {
	Height  uint64 `json:"height,string"`
	TxIndex uint32 `json:"tx_index"`
	Entry   uint32 `json:"entry"`
}

// History returns up to limit records of a's history from position from on (oldest first;
// the zero cursor is the beginning) and the cursor of the record after the last returned,
// or nil when there is none.
func (l *Ledger) History(a chain.Address, from HistoryCursor, limit int) ([]HistoryRecord, *HistoryCursor, error) {
	var (
		out  []HistoryRecord
		next *HistoryCursor
	)
	if limit <= 0 {
		return nil, nil, nil
	}
	upper := historyUpper(a)
	errStop := errors.New("stop")
	err := l.db.Iterate(historyKey(a, from), upper, func(k, v []byte) error {
		if len(out) == limit {
			c := HistoryCursor{
				Height:  binary.BigEndian.Uint64(k[21:]),
				TxIndex: binary.BigEndian.Uint32(k[29:]),
				Entry:   binary.BigEndian.Uint32(k[33:]),
			}
			next = &c
			return errStop
		}
		r, err := decodeHistoryRecord(v)
		if err != nil {
			return fmt.Errorf("%w: history record: %v", ErrCorrupt, err)
		}
		out = append(out, r)
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, nil, err
	}
	return out, next, nil
}

// historyUpper is the first key after every history key of a.
func historyUpper(a chain.Address) []byte {
	return historyKey(a, HistoryCursor{Height: ^uint64(0), TxIndex: ^uint32(0), Entry: ^uint32(0)})
}

// ProveState proves the record under a chain state key as of the head.
func (l *Ledger) ProveState(key []byte) (*chain.StateProof, error) {
	l.mu.Lock() // not RLock: a speculative block is taken out of the tree meanwhile
	defer l.mu.Unlock()
	if sp := l.spec; sp != nil {
		// Prove against the head, then put the block back: tree updates only, so a client
		// polling proofs does not make the next commit execute its block again.
		l.revert(sp.ex)
		defer l.updateTree(sp.ex)
	}
	v, err := l.db.Get(stateKey(key))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return &chain.StateProof{
		Height: l.head.Height, StateRoot: l.head.StateRoot, Key: append([]byte(nil), key...),
		Value: v, Proof: l.tree.Prove(smt.HashKey(key)),
	}, nil
}

// ProveAccount proves a's account record (or its absence) as of the head.
func (l *Ledger) ProveAccount(a chain.Address) (*chain.StateProof, error) {
	return l.ProveState(chain.AccountKey(a))
}

// Programs calls fn with every registered program, in symbol order, as of the moment it starts.
func (l *Ledger) Programs(fn func(p *chain.Program) error) error {
	return chain.ForEachProgram(l.ScanState, fn)
}

// Routes calls fn with every exchange route either owner has proposed, by (from, to).
func (l *Ledger) Routes(fn func(from, to string, r *chain.Route) error) error {
	return chain.ForEachRoute(l.ScanState, fn)
}

// Positions calls fn with every settlement position, by (debtor, creditor).
func (l *Ledger) Positions(fn func(debtor, creditor string, p *chain.Position) error) error {
	return chain.ForEachPosition(l.ScanState, fn)
}

// ScanState calls fn with every state record whose key starts with prefix, in key order.
// The slices are valid only during the call.
func (l *Ledger) ScanState(prefix []byte, fn func(key, value []byte) error) error {
	lower := stateKey(prefix)
	upper := prefixEnd(lower)
	return l.db.Iterate(lower, upper, func(k, v []byte) error { return fn(k[1:], v) })
}

// prefixEnd is the smallest key greater than every key starting with p (nil: no bound).
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// CheckTx tells whether tx from sender would apply to the committed state in the next block,
// at block time t or later; it changes nothing. Expiries due at that block are not taken into
// account, so a transaction that passes may still fail when the block is built — the check
// is for early, clear answers to the sender, not a guarantee. Safe to call concurrently with
// block application.
func (l *Ledger) CheckTx(tx *chain.Tx, sender chain.Address, t uint64) error {
	head := l.Head()
	st := chain.NewState(stateReader{db: l.db}, l.RulesAt(head.Height+1), head.Height+1, max(t, head.Time+1))
	_, err := st.ApplyTx(tx, sender)
	if err != nil && st.Err() != nil {
		return st.Err()
	}
	return err
}

// Account returns an address's committed account: its nonce and holdings (empty, nonce 0,
// for an address that never held anything).
func (l *Ledger) Account(a chain.Address) (*chain.Account, error) {
	raw, err := l.GetState(chain.AccountKey(a))
	if errors.Is(err, store.ErrNotFound) {
		return &chain.Account{}, nil
	}
	if err != nil {
		return nil, err
	}
	acc, err := chain.DecodeAccount(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: account %s: %v", ErrCorrupt, a, err)
	}
	return acc, nil
}

// Program returns a committed program, or an error wrapping chain.ErrUnknownProgram.
func (l *Ledger) Program(symbol string) (*chain.Program, error) {
	raw, err := l.GetState(chain.ProgramKey(symbol))
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", chain.ErrUnknownProgram, symbol)
	}
	if err != nil {
		return nil, err
	}
	p, err := chain.DecodeProgram(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: program %s: %v", ErrCorrupt, symbol, err)
	}
	return p, nil
}

// Order returns the record of an earn credit, or nil if the order ref was never credited.
func (l *Ledger) Order(symbol, ref string) (*chain.Order, error) {
	raw, err := l.GetState(chain.OrderKey(symbol, ref))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	o, err := chain.DecodeOrder(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: order %s/%s: %v", ErrCorrupt, symbol, ref, err)
	}
	return o, nil
}
