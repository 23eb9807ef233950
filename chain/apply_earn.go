package chain

// apply credits each customer a lot with the days of the program's current policy and records
// the order, so that a refund can find and reverse exactly its points.
func (p *Earn) apply(s *State, sender Address) ([]Entry, error) {
	prog, err := s.operatedProgram(sender, p.Program)
	if err != nil {
		return nil, err
	}
	if prog.Retired {
		return nil, rejectf(ErrProgramRetired, "%s", p.Program)
	}
	if len(p.Credits) > s.params.MaxCreditsPerEarn {
		return nil, rejectf(ErrTooManyItems, "%d credits exceed %d", len(p.Credits), s.params.MaxCreditsPerEarn)
	}
	available, expiry := lotDays(prog.Policy, s.today)
	entries := make([]Entry, 0, len(p.Credits))
	for _, c := range p.Credits {
		if err := s.checkRefLen("order_ref", c.OrderRef); err != nil {
			return nil, err
		}
		if _, exists := s.get(OrderKey(p.Program, c.OrderRef)); exists {
			return nil, rejectf(ErrDuplicateOrder, "%s in %s", c.OrderRef, p.Program)
		}
		var ok bool
		if prog.Stats.Earned, ok = addChecked(prog.Stats.Earned, c.Amount); !ok {
			return nil, rejectf(ErrOverflow, "program %s earned total", p.Program)
		}
		if _, ok = addChecked(prog.Stats.Earned, prog.Stats.ExchangedIn); !ok {
			return nil, rejectf(ErrOverflow, "program %s supply", p.Program)
		}
		b, expired, err := s.loadBalance(c.To, p.Program)
		if err != nil {
			return nil, err
		}
		entries = append(entries, expireEntry(c.To, p.Program, expired)...)
		b.recordEarn(c.Amount, s.today, prog.Policy.TierWindowDays)
		s.scheduleExpiry(p.Program, expiry, c.Amount, 0)
		s.applyMoves(p.Program, b.add(Lot{Amount: c.Amount, Expiry: expiry, Available: available}, s.params.MaxLots))
		s.putBalance(c.To, p.Program, &b)
		o := Order{To: c.To, Amount: c.Amount, EarnedDay: s.today, Expiry: expiry, Available: available, Height: s.height}
		s.set(OrderKey(p.Program, c.OrderRef), o.encode())
		entries = append(entries, Entry{
			Account: c.To, Program: p.Program, Cause: CauseEarn, Credit: c.Amount, Ref: c.OrderRef,
			Counterparty: sender, AvailableDay: available, ExpiryDay: expiry,
		})
	}
	s.putProgram(prog)
	return entries, nil
}
