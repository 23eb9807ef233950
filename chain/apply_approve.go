package chain

import "slices"

// apply adds the sender's approval to an open proposal before its deadline, then counts the
// approvals against the partners as they are now, executing the proposal if they pass.
func (p *Approve) apply(s *State, sender Address) ([]Entry, error) {
	if err := s.partnerSender(sender); err != nil {
		return nil, err
	}
	prop, err := s.proposal(p.Proposal)
	if err != nil {
		return nil, err
	}
	switch {
	case prop.Status != ProposalOpen:
		return nil, rejectf(ErrProposalClosed, "proposal %d %s at height %d", prop.ID, prop.StatusAt(s.time), prop.Closed)
	case s.time > prop.Deadline:
		return nil, rejectf(ErrProposalExpired, "proposal %d: deadline %d, block time %d", prop.ID, prop.Deadline, s.time)
	case slices.Contains(prop.Approvals, sender):
		return nil, rejectf(ErrAlreadyApproved, "%s, proposal %d", sender, prop.ID)
	case len(prop.Approvals) >= maxApprovals:
		return nil, rejectf(ErrTooManyItems, "proposal %d has %d approvals", prop.ID, len(prop.Approvals))
	}
	prop.Approvals = append(prop.Approvals, sender)
	entries := []Entry{{Account: sender, Cause: CauseApproval, Ref: prop.ref(), Counterparty: prop.Partner}}
	outcome, err := s.tally(prop)
	if err != nil {
		return nil, err
	}
	return append(entries, outcome...), nil
}
