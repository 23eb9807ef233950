package node

import (
	"errors"
	"slices"
	"time"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node/consensus"
)

// heldBlock is a block of the height being decided, proposed by a peer or built here, with
// its transactions' senders and whether it is valid on top of the head.
type heldBlock struct {
	blk     *chain.Block // nil for an invalid block
	senders []chain.Address
	valid   bool
	started time.Time // when building began (zero for a peer's block): commit time is measured from it
}

// heldBlocks are the blocks the driver holds for one height: at most one per round, since a
// round has one proposer and an honest one signs one proposal. A second, conflicting proposal
// of a round is not validated or kept (its signed header still reaches the engine, which
// reports it as evidence), so a byzantine proposer costs one block's validation and memory per
// round it proposes in, and a peer that is not the round's proposer costs nothing: its
// proposals are dropped before they get here (see checkSender).
type heldBlocks struct {
	height  uint64
	blocks  map[chain.Hash]*heldBlock
	byRound map[uint32]chain.Hash
}

// reset forgets everything and holds blocks of height.
func (h *heldBlocks) reset(height uint64) {
	h.height = height
	h.blocks = map[chain.Hash]*heldBlock{}
	h.byRound = map[uint32]chain.Hash{}
}

// byHash is the held block with hash, or nil.
func (h *heldBlocks) byHash(hash chain.Hash) *heldBlock { return h.blocks[hash] }

// put holds b as round's block.
func (h *heldBlocks) put(round uint32, hash chain.Hash, b *heldBlock) {
	h.blocks[hash] = b
	h.byRound[round] = hash
}

// prune lets go of the blocks of rounds before round-1, except those named in keep.
func (h *heldBlocks) prune(round uint32, keep ...chain.Hash) {
	if round < 2 {
		return
	}
	for r, hash := range h.byRound {
		if r >= round-1 || slices.Contains(keep, hash) {
			continue
		}
		delete(h.byRound, r)
		still := false
		for _, other := range h.byRound {
			still = still || other == hash
		}
		if !still {
			delete(h.blocks, hash)
		}
	}
}

// forRound is what the driver already holds for a proposal of round with hash: the block
// (conflict false), nothing yet (nil, false), or the different block of the round (conflict).
func (h *heldBlocks) forRound(round uint32, hash chain.Hash) (b *heldBlock, conflict bool) {
	if got, ok := h.byRound[round]; ok {
		if got != hash {
			return nil, true
		}
		return h.blocks[hash], false
	}
	if b := h.blocks[hash]; b != nil { // a re-proposal of an earlier round's block
		h.byRound[round] = hash
		return b, false
	}
	return nil, false
}

// checkProposal validates a peer's proposal of the current height against the head and
// returns the event to step: the block is checked (hash, height and time against the signed
// proposal, then every transaction's sender and the block's execution) once per round, and
// only for the first proposal of the round.
func (d *driver) checkProposal(in proposalIn) consensus.Event {
	p := in.proposal
	ev := consensus.ProposalReceived{Now: d.now(), Proposal: p, POL: in.pol}
	b, conflict := d.held.forRound(p.Round, p.BlockHash)
	switch {
	case conflict:
		d.metrics.Proposals.WithLabelValues("conflicting").Inc()
		return ev // not valid: the engine keeps the signed header as evidence
	case b != nil:
		ev.BlockValid = b.valid
		return ev
	}
	blk := in.block
	if blk.Hash() != p.BlockHash || blk.Header.Time != p.BlockTime || blk.Header.Height != p.Height {
		// Not the block its signed header names: nothing is learnt of that block (an honest
		// re-proposal of it must still be checked), so no verdict is kept.
		d.metrics.Proposals.WithLabelValues("invalid").Inc()
		d.log.Info("invalid proposed block", "height", p.Height, "round", p.Round, "proposer", p.Proposer.Hex(), "err", errBlockMismatch)
		return ev
	}
	b = &heldBlock{blk: blk}
	var err error
	if b.senders, err = d.senders(blk.Txs); err == nil {
		err = d.ledger.VerifyBlock(blk, b.senders)
	}
	if err != nil {
		d.metrics.Proposals.WithLabelValues("invalid").Inc()
		d.log.Info("invalid proposed block", "height", p.Height, "round", p.Round, "proposer", p.Proposer.Hex(), "err", err)
		b = &heldBlock{} // no body kept: this node never applies it (if it is committed, block sync fetches it)
	} else {
		d.metrics.Proposals.WithLabelValues("valid").Inc()
		b.valid = true
	}
	d.held.put(p.Round, p.BlockHash, b)
	ev.BlockValid = b.valid
	return ev
}

// senders returns the senders of a proposed block's transactions: from the mempool, which
// recovered them on admission, and by recovery for those it does not hold.
func (d *driver) senders(txs []*chain.Tx) ([]chain.Address, error) {
	out := make([]chain.Address, len(txs))
	var missing []int
	for i, tx := range txs {
		if _, s, ok := d.pool.Get(tx.Hash()); ok {
			out[i] = s
		} else {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	rest := make([]*chain.Tx, len(missing))
	for j, i := range missing {
		rest[j] = txs[i]
	}
	got, err := d.ledger.RecoverSenders(rest)
	if err != nil {
		return nil, err
	}
	for j, i := range missing {
		out[i] = got[j]
	}
	return out, nil
}

// errBlockMismatch is a proposal whose block is not the one its signed header names.
var errBlockMismatch = errors.New("the block's hash, height or time is not the proposal's")
