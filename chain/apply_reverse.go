package chain

// apply claws back a refunded order's points: first the order's own still-pending points,
// then available points oldest first; what was already spent is recorded as unrecovered.
func (p *Reverse) apply(s *State, sender Address) ([]Entry, error) {
	prog, err := s.operatedProgram(sender, p.Program)
	if err != nil {
		return nil, err
	}
	if err := s.refusePartnerRemoved(p.Program); err != nil {
		return nil, err // the customers keep the points of a removed partner's program
	}
	if err := s.checkRefLen("order_ref", p.OrderRef); err != nil {
		return nil, err
	}
	o, ok, err := s.order(p.Program, p.OrderRef)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, rejectf(ErrUnknownOrder, "%s in %s", p.OrderRef, p.Program)
	}
	if left := o.Amount - o.Reversed; p.Amount > left {
		return nil, rejectf(ErrReverseTooMuch, "order %s earned %d, %d already reversed, asked %d", p.OrderRef, o.Amount, o.Reversed, p.Amount)
	}
	b, expired, err := s.loadBalance(o.To, p.Program)
	if err != nil {
		return nil, err
	}
	entries := expireEntry(o.To, p.Program, expired)

	// First the order's own points if still pending, then available points oldest first.
	recovered := b.takePending(p.Amount, o.Expiry, o.Available, s.today)
	s.scheduleExpiry(p.Program, o.Expiry, 0, recovered)
	if rest := min(p.Amount-recovered, b.Available(s.today)); rest > 0 {
		for _, l := range b.spend(rest, s.today) {
			s.scheduleExpiry(p.Program, l.Expiry, 0, l.Amount)
		}
		recovered += rest
	}
	unrecovered := p.Amount - recovered
	b.recordReversal(p.Amount, o.EarnedDay)
	s.putBalance(o.To, p.Program, &b)

	o.Reversed += p.Amount
	s.set(OrderKey(p.Program, p.OrderRef), o.encode())
	prog.Stats.Reversed += recovered
	prog.Stats.Unrecovered += unrecovered
	s.putProgram(prog)
	return append(entries, Entry{
		Account: o.To, Program: p.Program, Cause: CauseReverse, Debit: recovered,
		Unrecovered: unrecovered, Ref: p.OrderRef, Counterparty: sender,
	}), nil
}
