package chain

// apply checks the proof of possession under this chain's domain, then records the
// proposal as Propose does: the proposer's approval counted, executed at once if that
// passes (a one-partner coalition).
func (p *ProposeValidator) apply(s *State, sender Address) ([]Entry, error) {
	if err := s.partnerSender(sender); err != nil {
		return nil, err
	}
	prop := &Proposal{
		Action: p.Action, Validator: p.Validator, Entry: p.Entry,
		Proposer: sender, Height: s.height, Approvals: []Address{sender},
	}
	if p.Entry != nil {
		if err := VerifyPossession(s.domain(), p.Entry, p.Proof); err != nil {
			return nil, err
		}
		prop.Partner, prop.Name = p.Entry.Partner, p.Entry.Name
	} else {
		_, set, err := s.lastValidatorEpoch()
		if err != nil {
			return nil, err
		}
		for _, v := range set {
			if v.Address == p.Validator {
				prop.Partner, prop.Name = v.Partner, v.Name
			}
		}
	}
	return s.recordProposal(prop, p.Validator)
}
