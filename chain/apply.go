package chain

import "math/bits"

// The state transition every transaction goes through: the checks that do not depend on its
// kind, then the kind's own apply (apply_<name>.go), then the nonce. Below them are the state
// helpers that several kinds' transitions share.

// ApplyTx applies one transaction whose signature the caller has verified and whose sender
// it recovered. On error nothing changes; the error wraps one of the exported sentinels.
// It returns the ledger entries the transaction produced, in a deterministic order.
func (s *State) ApplyTx(tx *Tx, sender Address) ([]Entry, error) {
	if s.err != nil {
		return nil, s.err
	}
	s.begin()
	entries, err := s.applyTx(tx, sender)
	if err == nil && s.err != nil {
		err = s.err
	}
	if err != nil {
		s.rollbackTx()
		return nil, err
	}
	s.commitTx()
	return entries, nil
}

func (s *State) applyTx(tx *Tx, sender Address) ([]Entry, error) {
	// The signature was verified when the sender was recovered; the payload is rechecked
	// here so that no path into the state skips the stateless rules.
	if tx.Payload == nil {
		return nil, rejectf(ErrMalformed, "missing payload")
	}
	if k := tx.Payload.Kind(); int(k) >= len(kinds) || kinds[k].since > s.version {
		// A kind the rules in force at this height do not have yet (ADR 0005).
		return nil, rejectf(ErrUnknownKind, "%s under protocol version %d", k, s.version)
	}
	if err := tx.Payload.check(); err != nil {
		return nil, err
	}
	if tx.ChainID != s.chainID {
		return nil, rejectf(ErrWrongChainID, "transaction for chain %d", tx.ChainID)
	}
	if tx.Size() > s.params.MaxTxBytes {
		return nil, rejectf(ErrTxTooLarge, "%d bytes exceeds %d", tx.Size(), s.params.MaxTxBytes)
	}
	if tx.ValidUntil != 0 && s.time > tx.ValidUntil {
		return nil, rejectf(ErrExpiredTx, "valid until %d, block time %d", tx.ValidUntil, s.time)
	}
	nonce := s.nonce(sender)
	switch {
	case tx.Nonce < nonce:
		return nil, rejectf(ErrNonceTooLow, "got %d, next is %d", tx.Nonce, nonce)
	case tx.Nonce > nonce:
		return nil, rejectf(ErrNonceTooHigh, "got %d, next is %d", tx.Nonce, nonce)
	}
	entries, err := tx.Payload.apply(s, sender)
	if err != nil {
		return nil, err
	}
	s.setNonce(sender, nonce+1)
	return entries, nil
}

func (s *State) checkRefLen(field, ref string) error {
	if len(ref) > s.params.MaxRefLen {
		return rejectf(ErrFieldTooLong, "%s of %d bytes exceeds %d", field, len(ref), s.params.MaxRefLen)
	}
	return nil
}

func (s *State) ownedProgram(sender Address, symbol string) (*Program, error) {
	prog, err := s.program(symbol)
	if err != nil {
		return nil, err
	}
	if prog.Owner != sender {
		if err := s.refuseRetiredKeys(sender); err != nil {
			return nil, err
		}
		return nil, rejectf(ErrNotOwner, "%s is not the owner of %s", sender, symbol)
	}
	return prog, nil
}

// refuseRetiredKeys refuses, from Version2 on, any of keys that a governance rotation moved
// away from (ADR 0009): such a key may no longer own, operate or act for a partner.
func (s *State) refuseRetiredKeys(keys ...Address) error {
	if s.version < Version2 {
		return nil
	}
	for _, k := range keys {
		if k != (Address{}) && s.retiredKey(k) {
			return rejectf(ErrRetiredKey, "%s was rotated away", k)
		}
	}
	return nil
}

// routeEnds loads the two programs of the route from → to, from first.
func (s *State) routeEnds(from, to string) (*Program, *Program, error) {
	f, err := s.program(from)
	if err != nil {
		return nil, nil, err
	}
	t, err := s.program(to)
	if err != nil {
		return nil, nil, err
	}
	return f, t, nil
}

// operatedProgram loads a program the sender may earn and reverse in.
func (s *State) operatedProgram(sender Address, symbol string) (*Program, error) {
	prog, err := s.program(symbol)
	if err != nil {
		return nil, err
	}
	if !prog.IsOperator(sender) {
		if err := s.refuseRetiredKeys(sender); err != nil {
			return nil, err
		}
		return nil, rejectf(ErrNotOperator, "%s in %s", sender, symbol)
	}
	return prog, nil
}

// loadBalance reads and normalizes a balance as of today, returning the points that expired
// out of it since it was last touched (for history; the program counted them already).
func (s *State) loadBalance(a Address, symbol string) (Balance, uint64, error) {
	b, err := s.balance(a, symbol)
	if err != nil {
		return Balance{}, 0, err
	}
	expired, moves := b.normalize(s.today, s.params.MaxLots)
	s.applyMoves(symbol, moves)
	return b, expired, nil
}

func expireEntry(a Address, symbol string, amount uint64) []Entry {
	if amount == 0 {
		return nil
	}
	return []Entry{{Account: a, Program: symbol, Cause: CauseExpire, Debit: amount}}
}

func addChecked(a, b uint64) (uint64, bool) {
	sum, carry := bits.Add64(a, b, 0)
	return sum, carry == 0
}

// lotDays computes when points earned today under policy become available and expire.
// Pending points are locked until the start of the day after pending_days full days have
// passed, so a return window is never shorter than promised whatever the hour of the order;
// expiry counts from availability.
func lotDays(pol Policy, today Day) (available, expiry Day) {
	avail := uint64(today)
	if pol.PendingDays > 0 {
		avail += uint64(pol.PendingDays) + 1
	}
	// Block times are bounded by MaxBlockTime, so neither sum can reach NeverExpires.
	expiry = NeverExpires
	if pol.ExpiryDays > 0 {
		expiry = Day(min(avail+uint64(pol.ExpiryDays), uint64(NeverExpires-1)))
	}
	avail = min(avail, uint64(NeverExpires-1))
	if pol.PendingDays == 0 {
		return 0, expiry
	}
	return Day(avail), expiry
}

func (s *State) applyMoves(symbol string, moves []expiryMove) {
	for _, m := range moves {
		s.scheduleExpiry(symbol, m.from, 0, m.amount)
		s.scheduleExpiry(symbol, m.to, m.amount, 0)
	}
}

// spendAvailable loads the sender's balance and removes amount of available points.
func (s *State) spendAvailable(a Address, symbol string, amount uint64) (Balance, []Lot, []Entry, error) {
	b, expired, err := s.loadBalance(a, symbol)
	if err != nil {
		return Balance{}, nil, nil, err
	}
	if have := b.Available(s.today); have < amount {
		return Balance{}, nil, nil, rejectf(ErrInsufficientPoints, "%s has %d available %s, needs %d", a, have, symbol, amount)
	}
	taken := b.spend(amount, s.today) // before b is returned: it changes b
	return b, taken, expireEntry(a, symbol, expired), nil
}

// burnAvailable removes amount of a's available points for good (a redemption, the source
// of an exchange): the burnt lots leave the program's expiry schedule, as they can no longer
// expire. It returns the lots burnt, oldest expiry first, and the entries of the points that
// had expired since a was last touched.
func (s *State) burnAvailable(a Address, symbol string, amount uint64) ([]Lot, []Entry, error) {
	b, taken, entries, err := s.spendAvailable(a, symbol, amount)
	if err != nil {
		return nil, nil, err
	}
	for _, l := range taken {
		s.scheduleExpiry(symbol, l.Expiry, 0, l.Amount)
	}
	s.putBalance(a, symbol, &b)
	return taken, entries, nil
}

// BeginBlockAfter is BeginBlock for a caller that knows expiry has already been processed
// through day processed in the committed state this block executes over — every program's
// ExpiredThrough is at least processed — because it committed a block of that day on top of
// it. A block of that day or an earlier one then reads no program at all (BeginBlock would
// read every program only to find nothing to do); a later one runs BeginBlock. The changes,
// and so the state root, are those of BeginBlock: it writes nothing for a program already
// processed through today, and a program registered later in a day starts processed through
// that day.
func (s *State) BeginBlockAfter(processed Day) error {
	if s.today <= processed {
		return s.err
	}
	return s.BeginBlock()
}

// BeginBlock counts the points that expire by this block's day, per program, from the
// programs' expiry schedules — touching no account. Accounts drop their expired lots lazily
// when next touched, and every reader computes balances as of the block time, so the two
// views agree. Call it once per block before the first ApplyTx.
func (s *State) BeginBlock() error {
	for _, sym := range s.programList() {
		prog, err := s.program(sym)
		if err != nil {
			return err
		}
		if prog.ExpiredThrough >= s.today {
			continue
		}
		// Every scheduled day is at most this far after the day it was scheduled on (which
		// is ≤ ExpiredThrough), so a long gap between blocks costs no more than this walk.
		last := Day(min(uint64(s.today), uint64(prog.ExpiredThrough)+MaxPendingDays+1+MaxExpiryDays))
		for day := prog.ExpiredThrough + 1; day <= last; day++ {
			if n := s.expiring(sym, day); n > 0 {
				prog.Stats.Expired += n
				s.del(expiryKey(sym, day))
			}
		}
		prog.ExpiredThrough = s.today
		s.putProgram(prog)
	}
	return s.err
}
