package node

import (
	"errors"
	"sync"
	"time"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/node/internal/mempool"
)

// Admission of a transaction into the mempool, from the API (Submit), the merchant desk or a
// peer. Every transaction, whatever its nonce, is checked against the committed state plus
// the sender's transactions already waiting (ledger.CheckQueue): its role, its program, its
// funds after the queue. Checking a queue costs at most MaxFutureNonces+1 transaction
// applications on a throwaway state, against a signature recovery that costs more; it is
// what keeps a flood of transactions that can never run (unfunded keys, programs the sender
// does not operate, at nonces far ahead) out of the pool and off the gossip.

// admitFrom says where a transaction comes from.
type admitFrom int

const (
	fromClient   admitFrom = iota // POST /v1/txs
	fromMerchant                  // the merchant desk: may use the pool's reserved share
	fromPeer                      // gossip: refusals are not counted, most are copies
)

// admit checks tx and adds it to the mempool. A transaction that is already there, or
// already committed (a client's retry, even one racing the block that commits it), is
// answered pending or committed with its height, never refused.
func (n *Node) admit(tx *chain.Tx, from admitFrom) (api.Submitted, error) {
	head := n.ledger.Head()
	now := uint64(n.now().Unix())
	_, err := n.pool.AddWith(tx, n.ledger.CommittedNonce, mempool.AddOptions{
		HeadTime: head.Time, Now: now, Reserved: from == fromMerchant,
		Check: func(tx *chain.Tx, sender chain.Address, queue []*chain.Tx) error {
			return n.ledger.CheckQueue(queue, tx, sender, now)
		},
	})
	if err != nil {
		if errors.Is(err, mempool.ErrFull) {
			n.poolFull(err)
		}
		if from == fromPeer { // mostly copies of what the pool holds or committed already
			return api.Submitted{}, err
		}
		if sub, ok := n.resubmitted(tx, err); ok {
			return sub, nil
		}
		n.metrics.Rejected.WithLabelValues(chain.Code(err)).Inc()
		return api.Submitted{}, err
	}
	if from == fromPeer {
		return api.Submitted{Hash: tx.Hash(), Status: api.TxPending}, nil // the batch nudges once (network.onTxs)
	}
	n.poolGauges()
	if nw := n.net.Load(); nw != nil {
		nw.gossipTx(tx) // every validator may propose it
	}
	n.drv.nudge()
	return api.Submitted{Hash: tx.Hash(), Status: api.TxPending}, nil
}

// admitPeer admits a transaction a peer gossiped, with the checks of a client's.
func (n *Node) admitPeer(tx *chain.Tx) error {
	_, err := n.admit(tx, fromPeer)
	return err
}

// resubmitted answers a refused transaction that is the very transaction pending or
// committed: that is the answer, whatever the refusal (a duplicate, already committed, a nonce
// used, or a validity window passed since it committed). The ledger is asked first: a client
// told "committed" (the ledger holds the block) must hear it again, even while the mempool has
// not yet forgotten the transaction. Then the pool, then the ledger once more: a transaction
// leaves the pool only after the ledger committed it, so one of the three reads finds a
// transaction that was in either when the refusal was decided.
func (n *Node) resubmitted(tx *chain.Tx, err error) (api.Submitted, bool) {
	if errors.Is(err, chain.ErrMalformed) {
		return api.Submitted{}, false // not a transaction anyone could have committed
	}
	h := tx.Hash()
	if sub, ok := n.committedAt(h); ok {
		return sub, true
	}
	if _, _, ok := n.pool.Get(h); ok {
		return api.Submitted{Hash: h, Status: api.TxPending}, true
	}
	return n.committedAt(h)
}

// committedAt answers where h committed, if the ledger has it.
func (n *Node) committedAt(h chain.Hash) (api.Submitted, bool) {
	height, _, err := n.ledger.TxLocation(h)
	if err != nil {
		if !errors.Is(err, ledger.ErrNotFound) {
			n.log.Error("resubmitted transaction: ledger read failed", "tx", h, "err", err)
		}
		return api.Submitted{}, false
	}
	return api.Submitted{Hash: h, Status: api.TxCommitted, Height: height}, true
}

// poolGauges sets the mempool's gauges.
func (n *Node) poolGauges() { setPoolGauges(n.metrics, n.pool) }

func setPoolGauges(m *Metrics, pool *mempool.Mempool) {
	txs, bytes := pool.Size()
	queued, _ := pool.Queued()
	m.MempoolTxs.Set(float64(txs))
	m.MempoolBytes.Set(float64(bytes))
	m.QueuedTxs.Set(float64(queued))
}

// fullLogEvery is how often, at most, the log says the mempool is full: under a flood every
// submission is refused, and one line per refusal would drown the log.
const fullLogEvery = time.Minute

// fullLog is when the log last said the mempool was full, and how many refusals since.
type fullLog struct {
	mu      sync.Mutex
	last    time.Time
	refused int
}

// poolFull counts a refusal for a full pool and logs it once per fullLogEvery.
func (n *Node) poolFull(err error) {
	n.metrics.MempoolFull.Inc()
	now := n.now()
	n.full.mu.Lock()
	n.full.refused++
	refused := n.full.refused
	due := n.full.last.IsZero() || now.Sub(n.full.last) >= fullLogEvery
	if due {
		n.full.last, n.full.refused = now, 0
	}
	n.full.mu.Unlock()
	if due {
		txs, bytes := n.pool.Size()
		queued, queuedBytes := n.pool.Queued()
		n.log.Warn("mempool full: refusing transactions", "refused", refused, "txs", txs, "bytes", bytes,
			"queued_txs", queued, "queued_bytes", queuedBytes, "err", err)
	}
}
