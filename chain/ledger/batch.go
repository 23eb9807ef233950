package ledger

import (
	"encoding/binary"
	"fmt"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/store"
	"github.com/loyal-ledger/loyal/internal/keysort"
)

// write commits batch (blk's, from buildBatch), synced, and puts ex's changes into the
// state cache meanwhile: the commit mostly waits, for the disk or for badger's writer
// goroutine, and the cache does not depend on its outcome. A caller whose write fails must
// revert ex and drop the cache (the store may hold the new block or not).
func (l *Ledger) write(blk *chain.Block, batch store.Batch, ex *executed) error {
	done := make(chan error, 1)
	go func() { done <- batch.Commit(true) }()
	for _, c := range ex.Changes {
		l.cache.put(c.Key, c.Value)
	}
	if err := <-done; err != nil {
		return fmt.Errorf("ledger: commit block %d: %w", blk.Header.Height, err)
	}
	return nil
}

// buildBatch returns the batch that commits blk: block, state, indexes and head. It reads
// blk and ex's changes and entries only (not ex's state root or undo records), so it may
// run while the state tree is updated (see execute).
//
// It writes the keys in ascending order. Pebble commits a block-sized batch as a flushable
// batch, which sorts its keys first (pebble's newFlushableBatch); keys already in order make
// that sort one linear pass instead of hundreds of thousands of key comparisons for a block
// of transfers (BENCHMARKS.md, "Measurements behind design choices", has the figures).
// Ordering them here costs less: the state changes come sorted, and the history and the tx
// index are sorted on a fixed-width prefix of their keys. The tables' prefixes give the
// order of the tables: 'H' block hash < 'b' block < 'c' certificate < 'e' history < 'm' head
// < 'r' reversal index < 's' state < 't' tx index. TestCommitWritesKeysInOrder checks it.
func (l *Ledger) buildBatch(blk *chain.Block, ex *executed, commit *chain.Commit) store.Batch {
	h := &blk.Header
	size := 256 + len(blk.Txs)*(64+2*192) // tx index and ~2 history records per tx
	for _, c := range ex.Changes {
		size += len(c.Key) + len(c.Value) + 16
	}
	for _, tx := range blk.Txs {
		size += tx.Size() + 4
	}
	batch := l.db.NewBatchSized(size)

	hash := blk.Hash()
	batch.Set(hashKey(pHash, hash), binary.BigEndian.AppendUint64(nil, h.Height))
	batch.Set(heightKey(pBlock, h.Height), blk.Encode())
	if commit != nil {
		batch.Set(heightKey(pSeen, h.Height), commit.Encode())
	}
	// Hashes and kinds are read once, in order: the history and the tx index use them in key
	// order, where reading each from its transaction would miss the CPU cache.
	hashes := make([]chain.Hash, len(blk.Txs))
	kinds := make([]chain.Kind, len(blk.Txs))
	for i, tx := range blk.Txs {
		hashes[i], kinds[i] = tx.Hash(), tx.Kind()
	}
	// The ~50,000 keys and history records are built in two scratch buffers rather than
	// allocated one by one: the batch copies what it is given.
	key, val := make([]byte, 0, 64), make([]byte, 0, 256)
	rec := HistoryRecord{Height: h.Height, Time: h.Time}
	for _, r := range historyOrder(ex.Entries) {
		rec.TxHash, rec.TxIndex, rec.Kind, rec.Entry = hashes[r.tx], r.tx, kinds[r.tx], ex.Entries[r.tx][r.entry]
		key = appendHistoryKey(key[:0], rec.Entry.Account, HistoryCursor{Height: h.Height, TxIndex: r.tx, Entry: r.entry})
		val = rec.appendTo(val[:0])
		batch.Set(key, val)
	}
	head := Head{Height: h.Height, Hash: hash, Time: h.Time, StateRoot: h.StateRoot}
	batch.Set(metaHead, head.encode())
	keys, values := reversalIndex(h.Height, ex.Entries, hashes)
	for i := range keys {
		batch.Set(keys[i], values[i])
	}
	for _, c := range ex.Changes {
		key = appendStateKey(key[:0], c.Key)
		if c.Value == nil {
			batch.Delete(key)
		} else {
			batch.Set(key, c.Value)
		}
	}
	for _, r := range keysort.Sort(nil, len(hashes), func(i int) []byte { return hashes[i][:] }) {
		key = appendHashKey(key[:0], pTx, hashes[r.Index])
		val = binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(val[:0], h.Height), uint32(r.Index))
		batch.Set(key, val)
	}
	return batch
}

// historyRef names entry Entries[tx][entry] of a block.
type historyRef struct{ tx, entry uint32 }

// historyOrder returns the block's history entries in the order of their history keys: by
// account, then position (the refs are listed in position order, and keysort keeps that
// order among equal accounts).
func historyOrder(entries [][]chain.Entry) []historyRef {
	var flat []historyRef
	for i, es := range entries {
		for j := range es {
			flat = append(flat, historyRef{tx: uint32(i), entry: uint32(j)})
		}
	}
	account := func(k int) []byte { r := flat[k]; return entries[r.tx][r.entry].Account[:] }
	order := make([]historyRef, len(flat))
	for k, r := range keysort.Sort(nil, len(flat), account) {
		order[k] = flat[r.Index]
	}
	return order
}
