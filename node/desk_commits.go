package node

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
)

// The merchant desk's bookkeeping as blocks are built and committed.

// committed forgets the desk's transactions that blk committed: the pending map holds only
// what may still be waiting, whatever the shops retry or not. Called for every committed
// block (afterCommit).
func (d *merchantDesk) committed(blk *chain.Block) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.byHash) == 0 {
		return
	}
	for _, tx := range blk.Txs {
		d.untrack(tx.Hash())
	}
}

// rejected is told the transactions a block being built could not apply, after the mempool
// dropped them with their senders' later ones (dropRejected). A desk transaction that failed
// for a reason of its own is recorded against its orders, for their next request to report
// with the ledger's code. The operator's transactions that the mempool dropped only because
// they came after it — refused for their nonce, or not tried — are signed again at the freed
// nonces, in their order, so one bad order does not silently take the later ones with it.
//
// On a network of several validators, other validators' mempools may still hold the dropped
// transactions at their old nonces. An earn signed again is safe whichever copy commits: the
// second fails as a duplicate order. A refund is not (its amount is a delta): there it is
// not signed again but recorded as dropped (ErrOrderDropped), and the shop's retry computes
// what is left to reverse from the ledger.
func (d *merchantDesk) rejected(rejected []error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.byHash) == 0 {
		return
	}
	failedOne := false
	for _, e := range rejected {
		var r *ledger.RejectedTx
		if !errors.As(e, &r) {
			continue
		}
		h := r.Tx.Hash()
		if _, ours := d.byHash[h]; !ours || errors.Is(r.Err, chain.ErrNonceTooHigh) || errors.Is(r.Err, chain.ErrNonceTooLow) {
			continue // not the desk's, or refused only for coming after a failed one
		}
		failedOne = true
		for _, k := range d.untrack(h) {
			d.failed[k] = fmt.Errorf("order %s of %s: its transaction %s failed when its block was built: %w (send the request again to retry)", k.ref, k.program, h, r.Err)
		}
	}
	if failedOne {
		d.resignDropped()
	}
}

// resignDropped signs again, in the order they were first submitted, the desk's transactions
// that are neither in the mempool nor committed: each with the key signer picks for its
// program now (a rotation may have moved it to another key), at that key's next nonce.
func (d *merchantDesk) resignDropped() {
	type drop struct {
		tx  *chain.Tx
		seq uint64
	}
	var dropped []drop
	for h, t := range d.byHash {
		if _, _, ok := d.pool.Get(h); ok {
			continue
		}
		if _, _, err := d.ledger.TxLocation(h); err == nil {
			continue
		}
		if tx := d.pending[t.keys[0]]; tx != nil {
			dropped = append(dropped, drop{tx, t.seq})
		}
	}
	slices.SortFunc(dropped, func(a, b drop) int { return cmp.Compare(a.seq, b.seq) })
	for _, dr := range dropped {
		old := dr.tx
		keys := d.untrack(old.Hash())
		if _, refund := old.Payload.(*chain.Reverse); refund && d.shared.Load() {
			for _, k := range keys {
				d.failed[k] = fmt.Errorf("%w: order %s of %s, transaction %s", ErrOrderDropped, k.ref, k.program, old.Hash())
			}
			continue
		}
		key, err := d.signer(keys[0].program)
		var tx *chain.Tx
		if err == nil {
			tx, _, err = d.submit(key, old.Payload)
		}
		if err != nil {
			for _, k := range keys {
				d.failed[k] = fmt.Errorf("order %s of %s: its transaction %s was dropped after an earlier one failed, and signing it again was refused: %w", k.ref, k.program, old.Hash(), err)
			}
			continue
		}
		d.track(tx, keys...)
		d.log.Info("merchant desk: signed a dropped transaction again", "old", old.Hash(), "new", tx.Hash(), "operator", key.addr, "nonce", tx.Nonce)
	}
}
