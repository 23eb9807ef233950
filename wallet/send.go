package wallet

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
)

// WaitPoll is how long each GET /v1/txs/{hash}?wait= of Wait asks the node to hold.
const WaitPoll = 10 * time.Second

// minPollInterval spaces Wait's requests when the node answers without holding.
const minPollInterval = 500 * time.Millisecond

// Sign builds the transaction of payload from key's account at nonce and signs it for the
// network of signer. It runs the stateless checks, so a malformed payload fails here with
// its chain error code rather than at the node.
func Sign(signer *chain.Signer, key *ecdsa.PrivateKey, nonce, validUntil uint64, payload chain.Payload) (*chain.Tx, error) {
	tx := chain.NewTx(signer.ChainID(), nonce, validUntil, payload)
	if err := signer.Sign(tx, key); err != nil {
		return nil, fmt.Errorf("wallet: signing: %w", err)
	}
	// Check covers the signature's shape too, so it runs on the signed transaction.
	if err := tx.Check(); err != nil {
		return nil, fmt.Errorf("wallet: invalid transaction (%s): %w", chain.Code(err), err)
	}
	return tx, nil
}

// Send signs payload with key and submits it: it fetches the network's chain id and genesis
// hash (once per Client) and the account's next nonce (which counts the node's pending
// transactions from it), builds and signs the transaction, and posts it. validUntil is the
// last block time at which the transaction may be included, 0 for no limit.
func Send(ctx context.Context, c *Client, key *ecdsa.PrivateKey, payload chain.Payload, validUntil uint64) (api.Submitted, error) {
	signer, err := c.Signer(ctx)
	if err != nil {
		return api.Submitted{}, err
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	var nonce uint64
	acct, err := c.Account(ctx, from)
	var apiErr *APIError
	switch {
	case err == nil:
		nonce = acct.Nonce
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound && apiErr.Code == "not_found":
		// An account the ledger has never seen starts at nonce 0.
	default:
		return api.Submitted{}, err
	}
	tx, err := Sign(signer, key, nonce, validUntil, payload)
	if err != nil {
		return api.Submitted{}, err
	}
	return c.SubmitTx(ctx, tx)
}

// Wait polls GET /v1/txs/{hash}?wait=10s until the transaction is committed, and returns
// it. It stops with an error when ctx is done (the transaction may still commit later) or
// when the node does not know the transaction (code "not_found": it was never accepted or
// has been dropped from the mempool).
func Wait(ctx context.Context, c *Client, hash chain.Hash) (api.TxInfo, error) {
	for {
		poll := WaitPoll
		if d, ok := ctx.Deadline(); ok {
			// Ask the node to answer before our deadline, so that running out of time reads
			// as "still pending" rather than as a cancelled request.
			if left := time.Until(d) - time.Second; left < poll {
				poll = left
			}
		}
		if poll < time.Second {
			poll = time.Second
		}
		start := time.Now()
		info, err := c.Tx(ctx, hash, poll)
		if err == nil && info.Status == api.TxCommitted {
			return info, nil
		}
		if err != nil && ctx.Err() == nil {
			return api.TxInfo{}, fmt.Errorf("wallet: waiting for %s: %w", hash.Hex(), err)
		}
		// A node that answers "pending" at once (no long poll) is asked again after a pause.
		if err == nil {
			if pause := minPollInterval - time.Since(start); pause > 0 {
				t := time.NewTimer(pause)
				select {
				case <-ctx.Done():
				case <-t.C:
				}
				t.Stop()
			}
		}
		if ctx.Err() != nil {
			return api.TxInfo{}, fmt.Errorf("wallet: %s not committed yet: %w", hash.Hex(), ctx.Err())
		}
	}
}
