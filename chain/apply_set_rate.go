package chain

// apply records the sender's side of the route for each end of it the sender owns; the route
// opens only while both sides agree.
func (p *SetRate) apply(s *State, sender Address) ([]Entry, error) {
	from, to, err := s.routeEnds(p.From, p.To)
	if err != nil {
		return nil, err
	}
	if from.Owner != sender && to.Owner != sender {
		if err := s.refuseRetiredKeys(sender); err != nil {
			return nil, err
		}
		return nil, rejectf(ErrNotOwner, "%s owns neither %s nor %s", sender, p.From, p.To)
	}
	if err := s.refusePartnerRemoved(p.From, p.To); err != nil {
		return nil, err
	}
	r, err := s.route(p.From, p.To)
	if err != nil {
		return nil, err
	}
	side := RateSide{Numerator: p.Numerator, Denominator: p.Denominator, DailyCap: p.DailyCap}
	if p.Numerator == 0 {
		side = RateSide{}
	}
	if from.Owner == sender {
		r.FromSide = side
	}
	if to.Owner == sender {
		r.ToSide = side
	}
	s.set(routeKey(p.From, p.To), r.encode())
	return nil, nil
}
