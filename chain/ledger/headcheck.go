package ledger

import (
	"errors"
	"fmt"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/store"
)

// ReadHead reads the head record of a ledger store without opening the ledger (no state is
// loaded, nothing is written), so that a node can compare it with what it knows it committed
// before it opens the store read-write. ok is false for a store with no ledger in it.
func ReadHead(db store.Reader) (head Head, ok bool, err error) {
	if _, err := db.Get(metaGenesis); errors.Is(err, store.ErrNotFound) {
		return Head{}, false, nil
	} else if err != nil {
		return Head{}, false, fmt.Errorf("ledger: read genesis hash: %w", err)
	}
	raw, err := db.Get(metaHead)
	if err != nil {
		return Head{}, false, fmt.Errorf("%w: no head record: %v", ErrCorrupt, err)
	}
	head, err = decodeHead(raw)
	return head, err == nil, err
}

// checkHeadBlock checks that the head record agrees with the block it names: the block is
// stored, its header hashes to the head's hash, and it carries the head's height, time and
// state root. (Open then checks the stored state against that root.) A head record that
// outlived its block, or a block from elsewhere, would otherwise go unnoticed until a peer
// or a client asked for it.
func (l *Ledger) checkHeadBlock() error {
	h := l.head
	if h.Height == 0 {
		if h.Hash != l.gHash {
			return fmt.Errorf("%w: head at height 0 has hash %s, not the genesis hash %s", ErrCorrupt, h.Hash, l.gHash)
		}
		return nil
	}
	raw, err := l.db.Get(heightKey(pBlock, h.Height))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: the head block %d is not stored", ErrCorrupt, h.Height)
	}
	if err != nil {
		return fmt.Errorf("ledger: read head block %d: %w", h.Height, err)
	}
	blk, err := chain.DecodeBlock(raw)
	if err != nil {
		return fmt.Errorf("%w: head block %d: %v", ErrCorrupt, h.Height, err)
	}
	bh := &blk.Header
	switch got := bh.Hash(); {
	case got != h.Hash:
		return fmt.Errorf("%w: the stored head block %d hashes to %s, the head record says %s", ErrCorrupt, h.Height, got, h.Hash)
	case bh.Height != h.Height || bh.Time != h.Time || bh.StateRoot != h.StateRoot:
		return fmt.Errorf("%w: head block %d (height %d, time %d, state root %s) disagrees with the head record (time %d, state root %s)",
			ErrCorrupt, h.Height, bh.Height, bh.Time, bh.StateRoot, h.Time, h.StateRoot)
	}
	return nil
}
