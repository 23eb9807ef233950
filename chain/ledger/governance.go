package ledger

import (
	"errors"
	"fmt"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/store"
)

// Reads of partner governance (ADR 0009): the partners and the proposals, as committed.

// Partners calls fn with every current partner, in address order.
func (l *Ledger) Partners(fn func(p chain.PartnerInfo) error) error {
	return chain.ForEachPartner(l.ScanState, fn)
}

// Proposals calls fn with every governance proposal, oldest first.
func (l *Ledger) Proposals(fn func(p *chain.Proposal) error) error {
	return chain.ForEachProposal(l.ScanState, fn)
}

// Proposal returns proposal id, or an error wrapping chain.ErrUnknownProposal.
func (l *Ledger) Proposal(id uint64) (*chain.Proposal, error) {
	raw, err := l.GetState(chain.ProposalKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %d", chain.ErrUnknownProposal, id)
	}
	if err != nil {
		return nil, err
	}
	p, err := chain.DecodeProposal(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: proposal %d: %v", ErrCorrupt, id, err)
	}
	return p, nil
}

// ProgramPartner returns the partner whose program symbol is, if the state records one
// (chains under protocol version 2).
func (l *Ledger) ProgramPartner(symbol string) (chain.Address, bool, error) {
	return chain.ProgramPartner(l.lookupState, symbol)
}

// lookupState reads a state record, nil if absent.
func (l *Ledger) lookupState(key []byte) ([]byte, error) {
	v, err := l.GetState(key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return v, err
}
