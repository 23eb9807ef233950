package node

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/node/internal/mempool"
)

// ErrOrderConflict is a merchant request that reuses an order ref with different contents,
// or mixes new order refs with ones already credited.
var ErrOrderConflict = &chain.Error{Code: "order_conflict", Msg: "order ref already used with different contents"}

// ErrOrderPending is a reversal of an order whose earn is not committed yet.
var ErrOrderPending = &chain.Error{Code: "order_pending", Msg: "the order's earn is not committed yet; retry shortly"}

// ErrOrderDropped reports, on a retry, a refund the node dropped without trying it: an earlier
// transaction of the operator failed when its block was built, and on a network of several
// validators a refund is not signed again at another nonce (see merchantDesk.rebuilt).
var ErrOrderDropped = &chain.Error{Code: "order_dropped", Msg: "the order's transaction was dropped after an earlier one failed; send the request again"}

// ErrNoOperatorKey is a merchant request while the node holds no operator key that loads:
// operator.key is missing or fails the checks of start, and no valid operator.next.key stands
// in (hotkeys.go). The node is at fault, not the request: the HTTP API answers 503, and the
// same request succeeds once the node's operator puts a key file right.
var ErrNoOperatorKey = &chain.Error{Code: "no_operator_key", Msg: "the node holds no valid operator key: operator.key is missing or does not load, and no valid operator.next.key stands in (the node's log says why)"}

// merchantDesk turns shop back-end requests into transactions signed with one of the node's
// operator keys, idempotently: the order ref names the request, so a retry finds the
// transaction the first attempt made (pending in the mempool, or committed in the ledger),
// whichever key signed it, and answers with it instead of crediting again.
//
// The desk holds one operator key, or two during a rotation (hotkeys.go, rotation.go). For
// each request it signs with the newest key it holds that the program's committed state lets
// earn and reverse (an operator, or the owner): so during a handover the old key keeps
// working until the owner adds the new one, the new one is used from the block that adds it,
// and the old one is never used again once the owner removes it. Each key has its own nonce
// sequence, the mempool's (PendingNonce of the key's address): a transaction of one key
// never waits for, nor fills a gap of, the other's.
//
// The desk's bookkeeping follows the blocks (desk_commits.go): a transaction seen committed
// leaves pending; one that fails when its block is built is recorded in failed and reported
// to the order's next request, and the operator's later transactions, which the mempool drops
// with it (their nonces can no longer run), are signed again at the freed nonces.
type merchantDesk struct {
	ledger *ledger.Ledger
	pool   *mempool.Mempool
	admit  func(*chain.Tx) (api.Submitted, error) // admission with the merchant endpoints' reserved share
	keys   *secretPair[operatorKey]
	// shared is true when other validators hold copies of what the desk submits (a network
	// of several): a refund is then never signed again at another nonce.
	shared atomic.Bool
	log    *slog.Logger

	mu sync.Mutex // one request at a time: they share the operator keys' nonce sequences
	// pending maps an order (and, for reversals, its reversal) to the transaction submitted
	// for it that was not yet seen committed; byHash is its inverse.
	pending map[deskKey]*chain.Tx
	byHash  map[chain.Hash]tracked
	seq     uint64 // numbers the transactions tracked in the order they were submitted
	// failed maps an order to why its transaction failed at block build, until a request
	// for the order hears it.
	failed map[deskKey]error
}

type deskKey struct {
	program, ref string
	reverse      bool
}

// tracked is a transaction the desk submitted: its orders, and when it was submitted (two
// keys' nonces do not order them).
type tracked struct {
	keys []deskKey
	seq  uint64
}

func newMerchantDesk(l *ledger.Ledger, pool *mempool.Mempool, keys *secretPair[operatorKey], log *slog.Logger) *merchantDesk {
	return &merchantDesk{ledger: l, pool: pool, keys: keys, log: log, pending: map[deskKey]*chain.Tx{}, byHash: map[chain.Hash]tracked{}, failed: map[deskKey]error{}}
}

// track records tx as the transaction submitted for keys.
func (d *merchantDesk) track(tx *chain.Tx, keys ...deskKey) {
	for _, k := range keys {
		if old, ok := d.pending[k]; ok {
			d.untrack(old.Hash())
		}
		d.pending[k] = tx
		delete(d.failed, k)
	}
	t, ok := d.byHash[tx.Hash()]
	if !ok {
		d.seq++
		t.seq = d.seq
	}
	t.keys = append(t.keys, keys...)
	d.byHash[tx.Hash()] = t
}

// untrack forgets the transaction with hash h.
func (d *merchantDesk) untrack(h chain.Hash) []deskKey {
	keys := d.byHash[h].keys
	delete(d.byHash, h)
	for _, k := range keys {
		if tx, ok := d.pending[k]; ok && tx.Hash() == h {
			delete(d.pending, k)
		}
	}
	return keys
}

// pendingTx returns the still-pending transaction submitted for k, forgetting it once it is
// committed or dropped.
func (d *merchantDesk) pendingTx(k deskKey) (*chain.Tx, bool) {
	tx, ok := d.pending[k]
	if !ok {
		return nil, false
	}
	h := tx.Hash()
	_, _, ok = d.pool.Get(h)
	if ok {
		// The ledger commits a block before the mempool hears of it: a transaction can be
		// in both for a moment, and then it counts as committed.
		_, _, err := d.ledger.TxLocation(h)
		ok = err != nil
	}
	if !ok {
		d.untrack(h)
		return nil, false
	}
	return tx, true
}

// takeFailure returns, and forgets, why the transaction of one of keys failed at block
// build; nil if none did.
func (d *merchantDesk) takeFailure(keys ...deskKey) error {
	var first error
	for _, k := range keys {
		if err, ok := d.failed[k]; ok {
			if first == nil {
				first = err
			}
			delete(d.failed, k)
		}
	}
	return first
}

// signer is the key the desk signs program's transactions with: the newest key it holds that
// the committed state lets earn and reverse in program. It refuses (chain.ErrNotOperator) a
// program none of its keys may act for.
func (d *merchantDesk) signer(program string) (operatorKey, error) {
	p, err := d.ledger.Program(program)
	if err != nil {
		return operatorKey{}, err
	}
	return pickOperator(p, d.keys.held())
}

// earn credits points for orders, or returns the transaction that already did.
func (d *merchantDesk) earn(req api.MerchantEarn) (api.Submitted, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	key, err := d.signer(req.Program)
	if err != nil {
		return api.Submitted{}, err
	}
	if len(req.Credits) == 0 {
		return api.Submitted{}, fmt.Errorf("%w: no credits", chain.ErrTooManyItems)
	}
	keys := make([]deskKey, len(req.Credits))
	for i, c := range req.Credits {
		keys[i] = deskKey{program: req.Program, ref: c.OrderRef}
	}
	if err := d.takeFailure(keys...); err != nil {
		return api.Submitted{}, err // once: the next request goes on as if it had not been
	}
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
		o, err := d.ledger.Order(req.Program, c.OrderRef)
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
	tx, sub, err := d.submit(key, &chain.Earn{Program: req.Program, Credits: req.Credits})
	if err != nil {
		return sub, err
	}
	d.track(tx, keys...)
	return sub, nil
}

// reverse brings the points reversed for an order up to req.Amount in total. A retry (or a
// repeat with the same total) finds the order already reversed that far and returns the
// transaction that did it; a later partial refund sends the new, larger total.
func (d *merchantDesk) reverse(req api.MerchantReverse) (api.Submitted, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	key, err := d.signer(req.Program)
	if err != nil {
		return api.Submitted{}, err
	}
	if req.Amount == 0 {
		return api.Submitted{}, chain.ErrAmountZero
	}
	k := deskKey{program: req.Program, ref: req.OrderRef, reverse: true}
	if err := d.takeFailure(k); err != nil {
		return api.Submitted{}, err // once: the next request goes on as if it had not been
	}
	if _, ok := d.pendingTx(deskKey{program: req.Program, ref: req.OrderRef}); ok {
		return api.Submitted{}, fmt.Errorf("%w: order %s", ErrOrderPending, req.OrderRef)
	}
	o, err := d.ledger.Order(req.Program, req.OrderRef)
	if err != nil {
		return api.Submitted{}, err
	}
	if o == nil {
		return api.Submitted{}, fmt.Errorf("%w: %s in %s", chain.ErrUnknownOrder, req.OrderRef, req.Program)
	}
	already := o.Reversed
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
	tx, sub, err := d.submit(key, &chain.Reverse{Program: req.Program, OrderRef: req.OrderRef, Amount: req.Amount - already})
	if err != nil {
		return sub, err
	}
	d.track(tx, k)
	return sub, nil
}

// submit signs p with key at the key's next pending nonce and admits it: checked against the
// state after the key's transactions already waiting, and allowed the pool's reserved share.
func (d *merchantDesk) submit(key operatorKey, p chain.Payload) (*chain.Tx, api.Submitted, error) {
	acc, err := d.ledger.Account(key.addr)
	if err != nil {
		return nil, api.Submitted{}, err
	}
	tx := chain.NewTx(d.ledger.Genesis().ChainID, d.pool.PendingNonce(key.addr, acc.Nonce), 0, p)
	if err := d.ledger.Signer().Sign(tx, key.key); err != nil {
		return nil, api.Submitted{}, fmt.Errorf("node: sign with the operator key: %w", err)
	}
	sub, err := d.admit(tx)
	return tx, sub, err
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

// lastReversal finds the latest committed reversal of an order, by the ledger's reversal
// index; through the customer's history only for reversals committed before the index
// existed.
func (d *merchantDesk) lastReversal(o *chain.Order, program, ref string) (chain.Hash, uint64, error) {
	h, height, ok, err := d.ledger.LastReversal(program, ref)
	if err != nil || ok {
		return h, height, err
	}
	err = d.scanHistory(o.To, o.Height, func(r *ledger.HistoryRecord) bool {
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
		recs, next, err := d.ledger.History(who, *cur, 500)
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
