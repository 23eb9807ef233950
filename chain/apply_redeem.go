package chain

// apply burns available points, oldest expiry first, and counts them as redeemed.
func (p *Redeem) apply(s *State, sender Address) ([]Entry, error) {
	if err := s.checkRefLen("reward_ref", p.RewardRef); err != nil {
		return nil, err
	}
	prog, err := s.program(p.Program)
	if err != nil {
		return nil, err
	}
	_, entries, err := s.burnAvailable(sender, p.Program, p.Amount)
	if err != nil {
		return nil, err
	}
	prog.Stats.Redeemed += p.Amount
	s.putProgram(prog)
	return append(entries, Entry{Account: sender, Program: p.Program, Cause: CauseRedeem, Debit: p.Amount, Ref: p.RewardRef}), nil
}
