package chain

import (
	"encoding/binary"
	"math"
)

// apply records the proposal under the next id, with its proposer's approval, after checking
// that the proposer is a partner and that the action could execute now; a one-partner
// coalition's proposal therefore executes at once.
func (p *Propose) apply(s *State, sender Address) ([]Entry, error) {
	if err := s.partnerSender(sender); err != nil {
		return nil, err
	}
	prop := &Proposal{
		Action: p.Action, Partner: p.Partner, Name: p.Name, NewKey: p.NewKey,
		Proposer: sender, Height: s.height, Approvals: []Address{sender},
	}
	return s.recordProposal(prop, p.Partner)
}

// recordProposal records a new proposal, both kinds', once its precondition holds: the next
// id, the deadline, the proposer's history entry (naming counterparty), then the count that
// may execute it at once.
func (s *State) recordProposal(prop *Proposal, counterparty Address) ([]Entry, error) {
	if err := s.precondition(prop); err != nil {
		return nil, err
	}
	prop.ID = s.u64Record([]byte{nsProposalSeq}) + 1
	s.set([]byte{nsProposalSeq}, binary.BigEndian.AppendUint64(nil, prop.ID))
	prop.Deadline = s.time + s.governance.ProposalSeconds
	if prop.Deadline < s.time { // cannot happen within MaxBlockTime and MaxProposalSeconds; kept exact
		prop.Deadline = math.MaxUint64
	}
	entries := []Entry{{Account: prop.Proposer, Cause: CauseProposal, Ref: prop.ref(), Counterparty: counterparty}}
	outcome, err := s.tally(prop)
	if err != nil {
		return nil, err
	}
	return append(entries, outcome...), nil
}
