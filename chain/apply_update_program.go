package chain

import "slices"

// apply makes the owner's changes; a new policy applies to points earned from now on, since
// existing lots already carry their days.
func (p *UpdateProgram) apply(s *State, sender Address) ([]Entry, error) {
	prog, err := s.ownedProgram(sender, p.Program)
	if err != nil {
		return nil, err
	}
	if err := s.refusePartnerRemoved(p.Program); err != nil {
		return nil, err
	}
	if err := s.refuseRetiredKeys(p.NewOwner); err != nil {
		return nil, err
	}
	if p.SetOperators {
		if err := s.refuseRetiredKeys(p.Operators...); err != nil {
			return nil, err
		}
	}
	if p.SetPolicy {
		prog.Policy = clonePolicy(p.Policy)
	}
	if p.SetOperators {
		prog.Operators = slices.Clone(p.Operators)
	}
	if p.NewOwner != (Address{}) {
		prog.Owner = p.NewOwner
	}
	if p.Retire {
		prog.Retired = true
	}
	s.putProgram(prog)
	return nil, nil
}
