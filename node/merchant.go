package node

import (
	"fmt"
	"sync"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
)

// ErrOrderConflict is a merchant request that reuses an order ref with different contents,
// or mixes new order refs with ones already credited.
var ErrOrderConflict = &chain.Error{Code: "order_conflict", Msg: "order ref already used with different contents"}

// ErrOrderPending is a reversal of an order whose earn is not committed yet.
var ErrOrderPending = &chain.Error{Code: "order_pending", Msg: "the order's earn is not committed yet; retry shortly"}

// merchantDesk turns shop back-end requests into transactions signed with the node's operator
// key, idempotently: the order ref names the request, so a retry finds the transaction the
// first attempt made (pending in the mempool, or committed in the ledger) and answers with
// it instead of crediting again.
type merchantDesk struct {
	n  *Node
	mu sync.Mutex // one request at a time: they share the operator's nonce sequence
	// pending maps an order (and, for reversals, its reversal) to the transaction submitted
	// for it that was not yet seen committed.
	pending map[deskKey]chain.Hash
}

type deskKey struct {
	program, ref string
	reverse      bool
}

func newMerchantDesk(n *Node) *merchantDesk {
	return &merchantDesk{n: n, pending: map[deskKey]chain.Hash{}}
}

// pendingTx returns the still-pending transaction submitted for k, forgetting it once it is
// committed or dropped.
func (d *merchantDesk) pendingTx(k deskKey) (*chain.Tx, bool) {
	h, ok := d.pending[k]
	if !ok {
		return nil, false
	}
	tx, _, ok := d.n.pool.Get(h)
	if ok {
		// The ledger commits a block before the mempool hears of it: a transaction can be
		// in both for a moment, and then it counts as committed.
		_, _, err := d.n.ledger.TxLocation(h)
		ok = err != nil
	}
	if !ok {
		delete(d.pending, k)
		return nil, false
	}
	return tx, true
}

// earn credits points for orders, or returns the transaction that already did.
func (d *merchantDesk) earn(req api.MerchantEarn) (api.Submitted, error) {
	if len(req.Credits) == 0 {
		return api.Submitted{}, fmt.Errorf("%w: no credits", chain.ErrTooManyItems)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var (
		known    []api.Submitted
		fresh    int
		conflict error
	)
	for _, c := range req.Credits {
		k := deskKey{program: req.Program, ref: c.OrderRef}
		if tx, ok := d.pendingTx(k); ok {
			if !earnHasCredit(tx, c) {
				conflict = fmt.Errorf("%w: order %s is pending in tx %s with other contents", ErrOrderConflict, c.OrderRef, tx.Hash())
			}
			known = append(known, api.Submitted{Hash: tx.Hash(), Status: api.TxPending})
			continue
		}
		o, err := d.n.ledger.Order(req.Program, c.OrderRef)
		if err != nil {
			return api.Submitted{}, err
		}
		if o == nil {
			fresh++
			continue
		}
		if o.To != c.To || o.Amount != c.Amount {
			conflict = fmt.Errorf("%w: order %s was credited %d to %s", ErrOrderConflict, c.OrderRef, o.Amount, o.To)
		}
		h, err := d.findTx(o.To, o.Height, req.Program, c.OrderRef, chain.CauseEarn)
		if err != nil {
			return api.Submitted{}, err
		}
		known = append(known, api.Submitted{Hash: h, Status: api.TxCommitted, Height: o.Height})
	}
	if conflict != nil {
		return api.Submitted{}, conflict
	}
	if len(known) > 0 {
		for _, s := range known[1:] {
			if s.Hash != known[0].Hash || fresh > 0 {
				return api.Submitted{}, fmt.Errorf("%w: the request mixes orders of different transactions (or new ones); retry it exactly or send new orders alone", ErrOrderConflict)
			}
		}
		if fresh > 0 {
			return api.Submitted{}, fmt.Errorf("%w: order refs already credited in tx %s", ErrOrderConflict, known[0].Hash)
		}
		return known[0], nil // a retry: the original answer
	}
	sub, err := d.submit(&chain.Earn{Program: req.Program, Credits: req.Credits})
	if err != nil {
		return sub, err
	}
	for _, c := range req.Credits {
		d.pending[deskKey{program: req.Program, ref: c.OrderRef}] = sub.Hash
	}
	return sub, nil
}

// reverse brings the points reversed for an order up to req.Amount in total. A retry (or a
// repeat with the same total) finds the order already reversed that far and returns the
// transaction that did it; a later partial refund sends the new, larger total.
func (d *merchantDesk) reverse(req api.MerchantReverse) (api.Submitted, error) {
	if req.Amount == 0 {
		return api.Submitted{}, chain.ErrAmountZero
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.pendingTx(deskKey{program: req.Program, ref: req.OrderRef}); ok {
		return api.Submitted{}, fmt.Errorf("%w: order %s", ErrOrderPending, req.OrderRef)
	}
	o, err := d.n.ledger.Order(req.Program, req.OrderRef)
	if err != nil {
		return api.Submitted{}, err
	}
	if o == nil {
		return api.Submitted{}, fmt.Errorf("%w: %s in %s", chain.ErrUnknownOrder, req.OrderRef, req.Program)
	}
	already := o.Reversed
	k := deskKey{program: req.Program, ref: req.OrderRef, reverse: true}
	tx, pending := d.pendingTx(k)
	if pending {
		if r, ok := tx.Payload.(*chain.Reverse); ok {
			already += r.Amount
		}
	}
	if req.Amount <= already {
		if pending {
			return api.Submitted{Hash: tx.Hash(), Status: api.TxPending}, nil
		}
		h, height, err := d.lastReversal(o, req.Program, req.OrderRef)
		if err != nil {
			return api.Submitted{}, err
		}
		return api.Submitted{Hash: h, Status: api.TxCommitted, Height: height}, nil
	}
	sub, err := d.submit(&chain.Reverse{Program: req.Program, OrderRef: req.OrderRef, Amount: req.Amount - already})
	if err != nil {
		return sub, err
	}
	d.pending[k] = sub.Hash
	return sub, nil
}

// submit signs p with the operator key at the operator's next pending nonce and admits it.
func (d *merchantDesk) submit(p chain.Payload) (api.Submitted, error) {
	n := d.n
	committed, err := n.nonceOf(n.opAddr)
	if err != nil {
		return api.Submitted{}, err
	}
	tx := chain.NewTx(n.genesis.ChainID, n.pool.PendingNonce(n.opAddr, committed), 0, p)
	if err := n.ledger.Signer().Sign(tx, n.operator); err != nil {
		return api.Submitted{}, fmt.Errorf("node: sign with the operator key: %w", err)
	}
	return n.admit(tx, fromMerchant)
}

// findTx finds the transaction at height that moved points of program for ref with cause,
// through the customer's history.
func (d *merchantDesk) findTx(who chain.Address, height uint64, program, ref string, cause chain.Cause) (chain.Hash, error) {
	var found chain.Hash
	err := d.scanHistory(who, height, func(r *ledger.HistoryRecord) bool {
		if r.Height != height {
			return false
		}
		if r.Entry.Program == program && r.Entry.Ref == ref && r.Entry.Cause == cause {
			found = r.TxHash
			return false
		}
		return true
	})
	if err == nil && found == (chain.Hash{}) {
		err = fmt.Errorf("node: order %s of %s has no %s entry at height %d in %s's history", ref, program, cause, height, who)
	}
	return found, err
}

// lastReversal finds the latest committed reversal of an order.
func (d *merchantDesk) lastReversal(o *chain.Order, program, ref string) (chain.Hash, uint64, error) {
	var (
		h      chain.Hash
		height uint64
	)
	err := d.scanHistory(o.To, o.Height, func(r *ledger.HistoryRecord) bool {
		if r.Entry.Program == program && r.Entry.Ref == ref && r.Entry.Cause == chain.CauseReverse {
			h, height = r.TxHash, r.Height
		}
		return true
	})
	if err == nil && height == 0 {
		err = fmt.Errorf("node: order %s of %s is reversed but no reversal is in %s's history", ref, program, o.To)
	}
	return h, height, err
}

// scanHistory calls fn on who's history from height on while fn returns true.
func (d *merchantDesk) scanHistory(who chain.Address, height uint64, fn func(*ledger.HistoryRecord) bool) error {
	cur := &ledger.HistoryCursor{Height: height}
	for cur != nil {
		recs, next, err := d.n.ledger.History(who, *cur, 500)
		if err != nil {
			return err
		}
		for i := range recs {
			if !fn(&recs[i]) {
				return nil
			}
		}
		cur = next
	}
	return nil
}

func earnHasCredit(tx *chain.Tx, c chain.Credit) bool {
	e, ok := tx.Payload.(*chain.Earn)
	if !ok {
		return false
	}
	for _, x := range e.Credits {
		if x.OrderRef == c.OrderRef {
			return x == c
		}
	}
	return false
}
