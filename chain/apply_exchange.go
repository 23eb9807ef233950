package chain

import "math/bits"

// apply burns From's points and mints To's at the agreed rate, within the daily cap, and adds
// the minted amount to the settlement position From → To that Settle later reduces.
func (p *Exchange) apply(s *State, sender Address) ([]Entry, error) {
	from, to, err := s.routeEnds(p.From, p.To)
	if err != nil {
		return nil, err
	}
	if to.Retired {
		return nil, rejectf(ErrProgramRetired, "%s mints no new points", p.To)
	}
	if from.Retired && s.version >= Version2 {
		// Version2 closes a retired program's routes both ways (ADR 0009).
		return nil, rejectf(ErrRouteClosed, "%s is retired", p.From)
	}
	r, err := s.route(p.From, p.To)
	if err != nil {
		return nil, err
	}
	if !r.Open() {
		return nil, rejectf(ErrRouteClosed, "%s>%s", p.From, p.To)
	}
	if r.Day != s.today {
		r.Day, r.Used = s.today, 0
	}
	if limit := r.Cap(); limit > 0 && (r.Used > limit || p.Amount > limit-r.Used) {
		return nil, rejectf(ErrDailyCapReached, "%s>%s: %d of %d used today, asked %d", p.From, p.To, r.Used, limit, p.Amount)
	}
	hi, lo := bits.Mul64(p.Amount, r.FromSide.Numerator)
	if hi >= r.FromSide.Denominator {
		return nil, rejectf(ErrOverflow, "exchange output")
	}
	out, _ := bits.Div64(hi, lo, r.FromSide.Denominator)
	if out < p.MinOut {
		return nil, rejectf(ErrBelowMinOut, "would mint %d %s, min_out %d", out, p.To, p.MinOut)
	}
	if out == 0 {
		return nil, rejectf(ErrAmountZero, "exchange of %d %s would mint nothing", p.Amount, p.From)
	}
	var ok bool
	if to.Stats.ExchangedIn, ok = addChecked(to.Stats.ExchangedIn, out); !ok {
		return nil, rejectf(ErrOverflow, "program %s exchanged-in total", p.To)
	}
	if _, ok = addChecked(to.Stats.Earned, to.Stats.ExchangedIn); !ok {
		return nil, rejectf(ErrOverflow, "program %s supply", p.To)
	}
	pos, err := s.position(p.From, p.To)
	if err != nil {
		return nil, err
	}
	if pos.Owed, ok = addChecked(pos.Owed, out); !ok {
		return nil, rejectf(ErrOverflow, "settlement position %s>%s", p.From, p.To)
	}

	taken, entries, err := s.burnAvailable(sender, p.From, p.Amount)
	if err != nil {
		return nil, err
	}
	from.Stats.ExchangedOut += p.Amount
	s.putProgram(from)

	// The minted lot expires no later than the earliest burnt lot, so round trips cannot
	// refresh expiry, and no later than To's own policy would give fresh points.
	_, expiry := lotDays(Policy{ExpiryDays: to.Policy.ExpiryDays}, s.today)
	expiry = min(expiry, taken[0].Expiry)
	dst, expired, err := s.loadBalance(sender, p.To)
	if err != nil {
		return nil, err
	}
	entries = append(entries, expireEntry(sender, p.To, expired)...)
	s.scheduleExpiry(p.To, expiry, out, 0)
	s.applyMoves(p.To, dst.add(Lot{Amount: out, Expiry: expiry}, s.params.MaxLots))
	s.putBalance(sender, p.To, &dst)
	s.putProgram(to)

	r.Used += p.Amount
	s.set(routeKey(p.From, p.To), r.encode())
	s.set(PositionKey(p.From, p.To), pos.encode())
	route := p.From + ">" + p.To
	return append(entries,
		Entry{Account: sender, Program: p.From, Cause: CauseExchangeOut, Debit: p.Amount, Route: route},
		Entry{Account: sender, Program: p.To, Cause: CauseExchangeIn, Credit: out, Route: route, ExpiryDay: expiry},
	), nil
}
