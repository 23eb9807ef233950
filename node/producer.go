package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
)

// maxClockLead is how far a block's time may run ahead of the node's clock. Block times are
// whole seconds and must increase from block to block, so a node committing several blocks a
// second borrows from the next seconds — a customer sending transactions one after another
// sees each committed at once — and beyond this lead it waits for the clock instead, because
// points expire by block time and block time must stay close to real time. (Under load this
// costs nothing: a block carries every transaction pending.)
const maxClockLead = 5 * time.Second

// produce is the single-validator block producer: it makes a block as soon as transactions
// are ready (no fixed interval), an empty one only when the heartbeat is due, and commits each
// with its one-signature certificate. It returns when ctx ends, or with the error that makes
// going on unsafe (the store failed, or the ledger refused a block this node built).
func (n *Node) produce(ctx context.Context) error {
	heartbeat := n.cfg.Blocks.Heartbeat.Duration
	last := n.now()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if ctx.Err() != nil {
			return nil
		}
		due := heartbeat > 0 && n.now().Sub(last) >= heartbeat
		progress, err := n.produceBlock(ctx, due)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if progress {
			last = n.now()
			continue
		}
		wait := time.Hour
		if heartbeat > 0 {
			wait = max(heartbeat-n.now().Sub(last), time.Millisecond)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-n.wake:
		case <-timer.C:
		}
	}
}

// produceBlock builds and commits one block from the ready transactions (or an empty one if
// allowEmpty). It reports progress: a block committed or failing transactions dropped.
func (n *Node) produceBlock(ctx context.Context, allowEmpty bool) (bool, error) {
	maxTxs, maxBytes := n.blockLimits(n.lastCommit)
	if pending, _ := n.pool.Size(); pending == 0 && !allowEmpty {
		return false, nil
	}
	// Wait for the clock (if the chain ran ahead) before collecting, so that what arrives
	// meanwhile rides in this block instead of waiting for the next.
	t, err := n.blockTime(ctx)
	if err != nil {
		return false, err
	}
	txs, senders, err := n.pool.Ready(maxTxs, maxBytes, n.nonceOf)
	if err != nil {
		return false, fmt.Errorf("node: mempool: %w", err)
	}
	if len(txs) == 0 && !allowEmpty {
		return false, nil
	}
	start := n.now()
	blk, rejected, err := n.ledger.BuildBlock(t, n.validator, txs, senders, n.lastCommit)
	if err != nil {
		return false, fmt.Errorf("node: build block: %w", err)
	}
	if len(rejected) > 0 {
		n.dropRejected(rejected)
	}
	if len(blk.Txs) == 0 && !allowEmpty {
		return len(rejected) > 0, nil
	}
	kept := senders
	if len(blk.Txs) != len(txs) { // rejected, or cut to the block limits
		kept = keptSenders(txs, senders, blk.Txs)
	}
	commit, err := n.certify(blk)
	if err != nil {
		return false, err
	}
	if err := n.ledger.ApplyBlockWithSenders(blk, kept, commit); err != nil {
		return false, fmt.Errorf("node: commit block %d: %w", blk.Header.Height, err)
	}
	n.lastCommit = commit
	if err := n.afterCommit(blk, kept, n.now().Sub(start)); err != nil {
		return false, err
	}
	return true, nil
}

// blockLimits are the most transactions and bytes of transactions a block after last may
// carry: the limits in force at the next height, lowered by the config's.
func (n *Node) blockLimits(last *chain.Commit) (maxTxs, maxBytes int) {
	p := n.ledger.RulesAt(n.ledger.Head().Height + 1).Params
	maxTxs, maxBytes = p.MaxBlockTxs, p.MaxBlockBytes-(&chain.Block{LastCommit: last}).Size()-1024
	if c := n.cfg.Blocks.MaxTxs; c > 0 {
		maxTxs = min(maxTxs, c)
	}
	if c := n.cfg.Blocks.MaxBytes; c > 0 {
		maxBytes = min(maxBytes, c)
	}
	return maxTxs, maxBytes
}

// blockTime is the next block's time: now, or one second past the head if the head is not
// older than now; it waits while that would run more than maxClockLead ahead.
func (n *Node) blockTime(ctx context.Context) (uint64, error) {
	head := n.ledger.Head().Time
	for {
		now := n.now()
		t := max(uint64(now.Unix()), head+1)
		lead := time.Unix(int64(t), 0).Sub(now)
		if lead <= maxClockLead {
			return t, nil
		}
		timer := time.NewTimer(lead - maxClockLead)
		select {
		case <-ctx.Done():
			timer.Stop()
			return 0, ctx.Err()
		case <-timer.C:
		}
	}
}

// certify signs the block's one-validator commit certificate.
func (n *Node) certify(blk *chain.Block) (*chain.Commit, error) {
	h := blk.Hash()
	sig, err := chain.SignVote(n.key, chain.VoteDigest(n.genesis.ChainID, chain.Precommit, blk.Header.Height, 0, h))
	if err != nil {
		return nil, fmt.Errorf("node: sign commit: %w", err)
	}
	return &chain.Commit{Height: blk.Header.Height, BlockHash: h, Sigs: []chain.CommitSig{{Validator: n.validator, Sig: sig}}}, nil
}

// dropRejected removes transactions that no longer apply (their sender spent the points
// meanwhile, the order ref was taken, …) from the mempool.
func (n *Node) dropRejected(rejected []error) {
	hashes := make([]chain.Hash, 0, len(rejected))
	for _, e := range rejected {
		var r *ledger.RejectedTx
		if !errors.As(e, &r) {
			continue
		}
		hashes = append(hashes, r.Tx.Hash())
		n.metrics.Rejected.WithLabelValues(chain.Code(r.Err)).Inc()
		n.log.Debug("dropped transaction", "tx", r.Tx.Hash(), "code", chain.Code(r.Err), "err", r.Err)
	}
	n.pool.Remove(hashes)
	n.desk.rejected(rejected) // reports its failed orders, signs its later ones again
}

// keptSenders returns the senders of the transactions that made it into the block.
func keptSenders(txs []*chain.Tx, senders []chain.Address, kept []*chain.Tx) []chain.Address {
	out := make([]chain.Address, 0, len(kept))
	j := 0
	for i, tx := range txs {
		if j < len(kept) && kept[j] == tx {
			out = append(out, senders[i])
			j++
		}
	}
	return out
}

// afterCommit is the bookkeeping of every block the ledger committed, whoever applied it (the
// producer, consensus or block sync): the mempool forgets its transactions, metrics and log
// record it, and API requests waiting for a commit wake up. senders are those of blk.Txs, or
// nil when not at hand.
func (n *Node) afterCommit(blk *chain.Block, senders []chain.Address, took time.Duration) error {
	if err := n.pool.UpdateWithSenders(blk.Txs, senders, n.nonceOf, blk.Header.Time); err != nil {
		return fmt.Errorf("node: mempool: %w", err)
	}
	h := blk.Header.Height
	n.metrics.Height.Set(float64(h))
	n.metrics.Blocks.Inc()
	n.metrics.CommittedTxs.Add(float64(len(blk.Txs)))
	n.metrics.BlockApply.Observe(took.Seconds())
	n.poolGauges()
	n.desk.committed(blk)
	n.feed.committed(h)
	n.log.Info("committed block", "height", h, "txs", len(blk.Txs), "hash", blk.Hash(), "time", blk.Header.Time, "took", took.Round(time.Microsecond))
	return nil
}
