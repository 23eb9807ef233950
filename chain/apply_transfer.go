package chain

// apply moves available points, oldest expiry first, from the sender to the recipient; the
// lots keep their expiry, so a transfer cannot refresh it.
func (p *Transfer) apply(s *State, sender Address) ([]Entry, error) {
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
