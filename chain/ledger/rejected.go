package ledger

import (
	"fmt"

	"github.com/loyal-ledger/loyal/chain"
)

// RejectedTx is a transaction BuildBlock left out because it does not apply to the state
// at its position; Err says why (with the ledger's code, see chain.Code). The proposer
// drops it from its mempool.
type RejectedTx struct {
	Tx  *chain.Tx
	Err error
}

func (r *RejectedTx) Error() string { return fmt.Sprintf("tx %s: %v", r.Tx.Hash(), r.Err) }

func (r *RejectedTx) Unwrap() error { return r.Err }
