package chain

// apply records, for the creditor program's owner, a payment received from the debtor
// program, reducing the open position Counterparty → Program.
func (p *Settle) apply(s *State, sender Address) ([]Entry, error) {
	if _, err := s.ownedProgram(sender, p.Program); err != nil {
		return nil, err
	}
	if _, err := s.program(p.Counterparty); err != nil {
		return nil, err
	}
	pos, err := s.position(p.Counterparty, p.Program)
	if err != nil {
		return nil, err
	}
	if p.Amount > pos.Open() {
		return nil, rejectf(ErrSettleTooMuch, "%s owes %s %d, settling %d", p.Counterparty, p.Program, pos.Open(), p.Amount)
	}
	pos.Settled += p.Amount
	s.set(PositionKey(p.Counterparty, p.Program), pos.encode())
	return nil, nil
}
