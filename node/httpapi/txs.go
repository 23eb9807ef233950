package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
)

// submit is POST /v1/txs: a signed transaction in its JSON form.
func (s *Server) submit(w http.ResponseWriter, r *http.Request) error {
	var tx chain.Tx
	if err := decodeBody(r, &tx); err != nil {
		return err
	}
	sub, err := s.b.Submit(&tx)
	if err != nil {
		return err
	}
	return s.answerSubmitted(w, r, sub)
}

// answerSubmitted waits for the commit if asked (?wait=) and answers 202 while pending, 200
// once committed.
func (s *Server) answerSubmitted(w http.ResponseWriter, r *http.Request, sub api.Submitted) error {
	wait, err := parseWait(r)
	if err != nil {
		return err
	}
	if sub.Status == api.TxPending && wait > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		defer cancel()
		switch err := s.b.WaitCommitted(ctx, sub.Hash); {
		case err == nil:
			if h, _, err := s.l.TxLocation(sub.Hash); err == nil {
				sub.Status, sub.Height = api.TxCommitted, h
			}
		case errors.Is(err, context.DeadlineExceeded):
		default:
			return err
		}
	}
	status := http.StatusAccepted
	if sub.Status == api.TxCommitted {
		status = http.StatusOK
	}
	return writeJSON(w, status, sub)
}

// tx is GET /v1/txs/{hash}[?wait=10s].
func (s *Server) tx(w http.ResponseWriter, r *http.Request) error {
	h, err := parseHash(r.PathValue("hash"))
	if err != nil {
		return err
	}
	wait, err := parseWait(r)
	if err != nil {
		return err
	}
	if wait > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		defer cancel()
		if err := s.b.WaitCommitted(ctx, h); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
	}
	l := s.l
	height, index, err := l.TxLocation(h)
	switch {
	case err == nil:
		blk, err := l.Block(height)
		if err != nil {
			return err
		}
		if index >= len(blk.Txs) {
			return fmt.Errorf("tx index %d past block %d's %d txs", index, height, len(blk.Txs))
		}
		tx := blk.Txs[index]
		sender, err := l.Signer().Sender(tx)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, api.TxInfo{Hash: h, Status: api.TxCommitted, Height: height, Index: index, Kind: tx.Kind().String(), Sender: sender, Tx: tx})
	case !errors.Is(err, ledger.ErrNotFound):
		return err
	}
	if tx, sender, ok := s.b.PendingTx(h); ok {
		return writeJSON(w, http.StatusOK, api.TxInfo{Hash: h, Status: api.TxPending, Kind: tx.Kind().String(), Sender: sender, Tx: tx})
	}
	return fmt.Errorf("%w: transaction %s is neither pending nor committed", ErrNotFound, h)
}

// merchant guards a merchant endpoint with the bearer token.
func (s *Server) merchant(h func(w http.ResponseWriter, r *http.Request) error) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="loyal merchant"`)
			return ErrUnauthorized
		}
		return h(w, r)
	}
}

// merchantEarn is POST /v1/merchant/earn: credits for shop orders, signed by the node's
// operator key, idempotent by order ref.
func (s *Server) merchantEarn(w http.ResponseWriter, r *http.Request) error {
	var req api.MerchantEarn
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	sub, err := s.b.MerchantEarn(req)
	if err != nil {
		return err
	}
	return s.answerSubmitted(w, r, sub)
}

// merchantReverse is POST /v1/merchant/reverse: a refund, idempotent by order ref (the
// amount is the order's total to have reversed).
func (s *Server) merchantReverse(w http.ResponseWriter, r *http.Request) error {
	var req api.MerchantReverse
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	sub, err := s.b.MerchantReverse(req)
	if err != nil {
		return err
	}
	return s.answerSubmitted(w, r, sub)
}
