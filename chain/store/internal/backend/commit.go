package backend

import (
	"fmt"

	"github.com/loyal-ledger/loyal/chain/store"
)

// BeginCommit makes the checks every backend's Commit makes before writing, in
// the contract's order: a closed batch, the batch's sticky error, a closed DB,
// a read-only DB, an empty batch. write is true only if the batch is to be
// written; g is then entered and the caller must exit it. Otherwise err is
// what Commit returns (nil for an empty batch).
func BeginCommit(g *Gate, backend string, batchClosed bool, sticky error, readOnly, empty bool) (write bool, err error) {
	switch {
	case batchClosed:
		return false, store.ErrClosed
	case sticky != nil:
		return false, sticky
	case !g.Enter():
		return false, store.ErrClosed
	}
	switch {
	case readOnly:
		err = fmt.Errorf("store: %s commit: %w", backend, store.ErrReadOnly)
	case empty:
	default:
		return true, nil
	}
	g.Exit()
	return false, err
}
