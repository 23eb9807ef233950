package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"

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

// Block returns the committed block at height.
func (l *Ledger) Block(height uint64) (*chain.Block, error) {
	raw, err := l.db.Get(heightKey(pBlock, height))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("block %d", height))
	}
	blk, err := chain.DecodeBlock(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: block %d: %v", ErrCorrupt, height, err)
	}
	return blk, nil
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

// History returns up to limit history records of a, starting at record offset (oldest first),
// and the total number of records.
func (l *Ledger) History(a chain.Address, offset, limit uint64) ([]HistoryRecord, uint64, error) {
	total, err := l.historyLen(a)
	if err != nil {
		return nil, 0, err
	}
	var out []HistoryRecord
	if offset >= total || limit == 0 {
		return out, total, nil
	}
	end := min(total, offset+limit)
	err = l.db.Iterate(historyKey(a, offset), historyKey(a, end), func(_, v []byte) error {
		r, err := decodeHistoryRecord(v)
		if err != nil {
			return fmt.Errorf("%w: history record: %v", ErrCorrupt, err)
		}
		out = append(out, r)
		return nil
	})
	return out, total, err
}

// StateProof proves a state record (or its absence) against the head's state root.
type StateProof struct {
	Height    uint64     `json:"height,string"`
	StateRoot chain.Hash `json:"state_root"`
	Key       []byte     `json:"key"`
	Value     []byte     `json:"value"` // nil when proving absence
	Proof     smt.Proof  `json:"proof"`
}

// Verify checks the proof against a header's state root: the header is all it needs.
func (p *StateProof) Verify(h *chain.Header) error {
	if h.StateRoot != p.StateRoot || h.Height != p.Height {
		return fmt.Errorf("%w: proof is for height %d root %s, header is %d root %s", smt.ErrInvalidProof, p.Height, p.StateRoot, h.Height, h.StateRoot)
	}
	k := smt.HashKey(p.Key)
	if p.Value == nil {
		return smt.VerifyExclusion(p.StateRoot, k, p.Proof)
	}
	return smt.VerifyInclusion(p.StateRoot, k, smt.HashValue(p.Value), p.Proof)
}

// ProveState proves the record under a chain state key as of the head.
func (l *Ledger) ProveState(key []byte) (*StateProof, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	v, err := l.db.Get(stateKey(key))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return &StateProof{
		Height: l.head.Height, StateRoot: l.head.StateRoot, Key: append([]byte(nil), key...),
		Value: v, Proof: l.tree.Prove(smt.HashKey(key)),
	}, nil
}
