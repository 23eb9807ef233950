package chain

import "slices"

// apply creates the program with the sender, who must be a partner, as its owner. The
// program list stays sorted, so readers and BeginBlock walk programs in one order.
func (p *RegisterProgram) apply(s *State, sender Address) ([]Entry, error) {
	if err := s.partnerSender(sender); err != nil {
		return nil, err
	}
	if err := s.refuseRetiredKeys(p.Operators...); err != nil {
		return nil, err
	}
	if len(p.Name) > s.params.MaxMemoLen {
		return nil, rejectf(ErrFieldTooLong, "name of %d bytes exceeds %d", len(p.Name), s.params.MaxMemoLen)
	}
	if _, ok := s.get(ProgramKey(p.Symbol)); ok {
		return nil, rejectf(ErrProgramExists, "%s", p.Symbol)
	}
	s.putProgram(&Program{
		Symbol: p.Symbol, Name: p.Name, Owner: sender, Operators: slices.Clone(p.Operators),
		Policy: clonePolicy(p.Policy), ExpiredThrough: s.today,
	})
	if s.version >= Version2 {
		// Whose program it is, for governance: a removed partner's programs are retired.
		s.putProgramPartner(p.Symbol, sender)
	}
	list := s.programList()
	i, _ := slices.BinarySearch(list, p.Symbol)
	s.putProgramList(slices.Insert(list, i, p.Symbol))
	return nil, nil
}
