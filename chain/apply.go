package chain

import (
	"fmt"
	"math/bits"
	"slices"
)

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
	var (
		entries []Entry
		err     error
	)
	switch p := tx.Payload.(type) {
	case *RegisterProgram:
		err = s.registerProgram(sender, p)
	case *UpdateProgram:
		err = s.updateProgram(sender, p)
	case *Earn:
		entries, err = s.earn(sender, p)
	case *Reverse:
		entries, err = s.reverse(sender, p)
	case *Transfer:
		entries, err = s.transfer(sender, p)
	case *Redeem:
		entries, err = s.redeem(sender, p)
	case *SetRate:
		err = s.setRate(sender, p)
	case *Exchange:
		entries, err = s.exchange(sender, p)
	case *Settle:
		err = s.settle(sender, p)
	default:
		err = fmt.Errorf("%w: %T", ErrUnknownKind, p)
	}
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

func (s *State) registerProgram(sender Address, p *RegisterProgram) error {
	if !s.isPartner(sender) {
		return rejectf(ErrNotPartner, "%s", sender)
	}
	if len(p.Name) > s.params.MaxMemoLen {
		return rejectf(ErrFieldTooLong, "name of %d bytes exceeds %d", len(p.Name), s.params.MaxMemoLen)
	}
	if _, ok := s.get(ProgramKey(p.Symbol)); ok {
		return rejectf(ErrProgramExists, "%s", p.Symbol)
	}
	s.putProgram(&Program{
		Symbol: p.Symbol, Name: p.Name, Owner: sender, Operators: slices.Clone(p.Operators),
		Policy: clonePolicy(p.Policy), ExpiredThrough: s.today,
	})
	list := s.programList()
	i, _ := slices.BinarySearch(list, p.Symbol)
	s.putProgramList(slices.Insert(list, i, p.Symbol))
	return nil
}

func clonePolicy(p Policy) Policy {
	p.Tiers = slices.Clone(p.Tiers)
	return p
}

func (s *State) ownedProgram(sender Address, symbol string) (*Program, error) {
	prog, err := s.program(symbol)
	if err != nil {
		return nil, err
	}
	if prog.Owner != sender {
		return nil, rejectf(ErrNotOwner, "%s is not the owner of %s", sender, symbol)
	}
	return prog, nil
}

func (s *State) updateProgram(sender Address, p *UpdateProgram) error {
	prog, err := s.ownedProgram(sender, p.Program)
	if err != nil {
		return err
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
	return nil
}

// operatedProgram loads a program the sender may earn and reverse in.
func (s *State) operatedProgram(sender Address, symbol string) (*Program, error) {
	prog, err := s.program(symbol)
	if err != nil {
		return nil, err
	}
	if !prog.IsOperator(sender) {
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

func (s *State) earn(sender Address, p *Earn) ([]Entry, error) {
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

func (s *State) applyMoves(symbol string, moves []expiryMove) {
	for _, m := range moves {
		s.scheduleExpiry(symbol, m.from, 0, m.amount)
		s.scheduleExpiry(symbol, m.to, m.amount, 0)
	}
}

func (s *State) reverse(sender Address, p *Reverse) ([]Entry, error) {
	prog, err := s.operatedProgram(sender, p.Program)
	if err != nil {
		return nil, err
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

func (s *State) transfer(sender Address, p *Transfer) ([]Entry, error) {
	if sender == p.To {
		return nil, rejectf(ErrSelfTransfer, "%s", sender)
	}
	if len(p.Memo) > s.params.MaxMemoLen {
		return nil, rejectf(ErrFieldTooLong, "memo of %d bytes exceeds %d", len(p.Memo), s.params.MaxMemoLen)
	}
	if _, ok := s.get(ProgramKey(p.Program)); !ok {
		return nil, rejectf(ErrUnknownProgram, "%s", p.Program)
	}
	from, taken, entries, err := s.spendAvailable(sender, p.Program, p.Amount)
	if err != nil {
		return nil, err
	}
	s.putBalance(sender, p.Program, &from)
	to, expired, err := s.loadBalance(p.To, p.Program)
	if err != nil {
		return nil, err
	}
	entries = append(entries, expireEntry(p.To, p.Program, expired)...)
	for _, l := range taken {
		s.applyMoves(p.Program, to.add(l, s.params.MaxLots))
	}
	s.putBalance(p.To, p.Program, &to)
	return append(entries,
		Entry{Account: sender, Program: p.Program, Cause: CauseTransferOut, Debit: p.Amount, Ref: p.Memo, Counterparty: p.To},
		Entry{Account: p.To, Program: p.Program, Cause: CauseTransferIn, Credit: p.Amount, Ref: p.Memo, Counterparty: sender},
	), nil
}

func (s *State) redeem(sender Address, p *Redeem) ([]Entry, error) {
	if err := s.checkRefLen("reward_ref", p.RewardRef); err != nil {
		return nil, err
	}
	prog, err := s.program(p.Program)
	if err != nil {
		return nil, err
	}
	b, taken, entries, err := s.spendAvailable(sender, p.Program, p.Amount)
	if err != nil {
		return nil, err
	}
	for _, l := range taken {
		s.scheduleExpiry(p.Program, l.Expiry, 0, l.Amount)
	}
	s.putBalance(sender, p.Program, &b)
	prog.Stats.Redeemed += p.Amount
	s.putProgram(prog)
	return append(entries, Entry{Account: sender, Program: p.Program, Cause: CauseRedeem, Debit: p.Amount, Ref: p.RewardRef}), nil
}

func (s *State) setRate(sender Address, p *SetRate) error {
	from, err := s.program(p.From)
	if err != nil {
		return err
	}
	to, err := s.program(p.To)
	if err != nil {
		return err
	}
	if from.Owner != sender && to.Owner != sender {
		return rejectf(ErrNotOwner, "%s owns neither %s nor %s", sender, p.From, p.To)
	}
	r, err := s.route(p.From, p.To)
	if err != nil {
		return err
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
	s.set(RouteKey(p.From, p.To), r.encode())
	return nil
}

func (s *State) exchange(sender Address, p *Exchange) ([]Entry, error) {
	from, err := s.program(p.From)
	if err != nil {
		return nil, err
	}
	to, err := s.program(p.To)
	if err != nil {
		return nil, err
	}
	if to.Retired {
		return nil, rejectf(ErrProgramRetired, "%s mints no new points", p.To)
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

	src, taken, entries, err := s.spendAvailable(sender, p.From, p.Amount)
	if err != nil {
		return nil, err
	}
	for _, l := range taken {
		s.scheduleExpiry(p.From, l.Expiry, 0, l.Amount)
	}
	s.putBalance(sender, p.From, &src)
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
	s.set(RouteKey(p.From, p.To), r.encode())
	s.set(PositionKey(p.From, p.To), pos.encode())
	route := p.From + ">" + p.To
	return append(entries,
		Entry{Account: sender, Program: p.From, Cause: CauseExchangeOut, Debit: p.Amount, Route: route},
		Entry{Account: sender, Program: p.To, Cause: CauseExchangeIn, Credit: out, Route: route, ExpiryDay: expiry},
	), nil
}

func (s *State) settle(sender Address, p *Settle) error {
	if _, err := s.ownedProgram(sender, p.Program); err != nil {
		return err
	}
	if _, err := s.program(p.Counterparty); err != nil {
		return err
	}
	pos, err := s.position(p.Counterparty, p.Program)
	if err != nil {
		return err
	}
	if p.Amount > pos.Open() {
		return rejectf(ErrSettleTooMuch, "%s owes %s %d, settling %d", p.Counterparty, p.Program, pos.Open(), p.Amount)
	}
	pos.Settled += p.Amount
	s.set(PositionKey(p.Counterparty, p.Program), pos.encode())
	return nil
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
