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

// ProposalsFrom calls fn with the governance proposals from id first on, oldest first, until
// fn returns ErrStop (which ProposalsFrom then returns as nil) or another error.
func (l *Ledger) ProposalsFrom(first uint64, fn func(p *chain.Proposal) error) error {
	lower := stateKey(chain.ProposalKey(first))
	upper := prefixEnd(stateKey(chain.ProposalKey(0)[:1]))
	err := l.db.Iterate(lower, upper, func(k, v []byte) error {
		p, err := chain.DecodeProposal(v)
		if err != nil {
			return fmt.Errorf("%w: proposal record %x: %v", ErrCorrupt, k, err)
		}
		return fn(p)
	})
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}

// ErrStop ends a ProposalsFrom walk early without an error.
var ErrStop = errors.New("ledger: stop")

// LastProposalID is the id the last proposal was given (0: none yet).
func (l *Ledger) LastProposalID() (uint64, error) {
	return chain.LastProposalID(stateReader{db: l.db}.Get)
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
	return chain.ProgramPartner(stateReader{db: l.db}.Get, symbol)
}
