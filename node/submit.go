package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/node/httpapi"
)

// The methods the HTTP API calls (httpapi.Backend).
var _ httpapi.Backend = (*Node)(nil)

// Submit admits a signed transaction to the mempool (admit.go): signature, chain, size and
// nonce are checked there, and the transaction is tried against the committed state after
// the sender's waiting ones, so an insufficient balance or an unknown program is refused at
// once with the ledger's code rather than dropped later.
func (n *Node) Submit(tx *chain.Tx) (api.Submitted, error) { return n.admit(tx, fromClient) }

// Status is the node's view of the chain.
func (n *Node) Status() api.Status {
	head := n.ledger.Head()
	txs, bytes := n.pool.Size()
	ops := operatorAddrs(n.operators.held())
	var op chain.Address // zero while no operator key loads
	if len(ops) > 0 {
		op = ops[0]
	}
	return api.Status{
		ChainID: n.genesis.ChainID, Network: n.genesis.Network, GenesisHash: n.ledger.Signer().Domain().Salt,
		Height: head.Height, HeadHash: head.Hash, HeadTime: head.Time, StateRoot: head.StateRoot,
		Validator: n.validator, Operator: op, Operators: ops, Mempool: api.MempoolStatus{Txs: txs, Bytes: bytes},
	}
}

// PendingTx returns a transaction waiting in the mempool.
func (n *Node) PendingTx(h chain.Hash) (*chain.Tx, chain.Address, bool) { return n.pool.Get(h) }

// NextNonce is the nonce an account's next transaction must carry, counting its pending ones.
func (n *Node) NextNonce(a chain.Address) (uint64, error) {
	committed, err := n.ledger.CommittedNonce(a)
	if err != nil {
		return 0, err
	}
	return n.pool.PendingNonce(a, committed), nil
}

// WaitCommitted blocks until the transaction is committed (nil), has left the mempool without
// being committed (ledger.ErrNotFound), or ctx ends.
func (n *Node) WaitCommitted(ctx context.Context, h chain.Hash) error {
	return n.feed.waitFor(ctx, func() (bool, error) {
		_, _, err := n.ledger.TxLocation(h)
		switch {
		case err == nil:
			return true, nil
		case !errors.Is(err, ledger.ErrNotFound):
			return false, err
		}
		if _, _, ok := n.pool.Get(h); !ok {
			// Not committed and not pending: re-check the ledger once, as the commit may
			// have landed between the two reads.
			if _, _, err := n.ledger.TxLocation(h); err == nil {
				return true, nil
			}
			return false, fmt.Errorf("%w: transaction %s is neither pending nor committed (dropped: it no longer applies)", ledger.ErrNotFound, h)
		}
		return false, nil
	})
}

// MerchantTokens are the bearer tokens the merchant endpoints accept: the home's api.token
// and, during a rotation, api.next.token, read again when they change, each only while its
// file is there and loads (hotkeys.go): none when neither does.
func (n *Node) MerchantTokens() []string { return n.tokens.held() }

// MerchantEarn credits points for shop orders with the newest operator key the program lets
// earn, idempotently by order ref.
func (n *Node) MerchantEarn(req api.MerchantEarn) (api.Submitted, error) { return n.desk.earn(req) }

// MerchantReverse reverses an order's points up to a total with the newest operator key the
// program lets reverse, idempotently by order ref.
func (n *Node) MerchantReverse(req api.MerchantReverse) (api.Submitted, error) {
	return n.desk.reverse(req)
}
