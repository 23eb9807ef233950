package chain

import "slices"

// Validator governance (Version3, docs/adr/0003-consensus.md): what adding, removing and
// re-keying a validator require of the state and what they write. The proposals, approvals
// and threshold are partner governance's (governance.go).

// validatorChange returns the validator set p would put in force, judged against the last
// set decided (which may not be in force yet): the precondition of p, checked when it is
// proposed and again when it would execute.
func (s *State) validatorChange(p *Proposal) ([]Validator, error) {
	_, set, err := s.lastValidatorEpoch()
	if err != nil {
		return nil, err
	}
	at := slices.IndexFunc(set, func(v Validator) bool { return v.Address == p.Validator })
	var entry Validator
	if p.Entry != nil {
		if entry, err = p.Entry.Validator(); err != nil {
			return nil, err
		}
		if !s.isPartner(entry.Partner) {
			return nil, rejectf(ErrNotPartner, "the validator's partner %s", entry.Partner)
		}
		if slices.ContainsFunc(set, func(v Validator) bool { return v.Address == entry.Address }) {
			return nil, rejectf(ErrAlreadyValidator, "%s", entry.Address)
		}
		if s.retiredValidator(entry.Address) {
			return nil, rejectf(ErrRetiredKey, "validator key %s was rotated away and may not come back", entry.Address)
		}
	}
	if p.Action != ActionAddValidator && at < 0 {
		return nil, rejectf(ErrNotValidator, "%s", p.Validator)
	}
	next := slices.Clone(set)
	switch p.Action {
	case ActionAddValidator:
		next = append(next, entry)
	case ActionRemoveValidator:
		if len(set) == 1 {
			return nil, rejectf(ErrLastValidator, "%s is the only validator", p.Validator)
		}
		next = slices.Delete(next, at, at+1)
	case ActionRotateValidatorKey:
		next[at] = entry // the same place: the proposer order stays
	}
	if err := checkValidators(s.version, s.params, next, nil); err != nil {
		return nil, rejectf(ErrValidatorSetTooLarge, "%v", err)
	}
	return next, nil
}

// changeValidators executes p: its set is in force from p.Activation. A key rotated away is
// recorded, and may never be a validator's again (it may have leaked).
func (s *State) changeValidators(p *Proposal) ([]Entry, error) {
	next, err := s.validatorChange(p)
	if err != nil {
		return nil, err
	}
	last, _, err := s.lastValidatorEpoch()
	if err != nil {
		return nil, err
	}
	s.scheduleValidators(p.Activation, last, next)
	cause, who := CauseValidatorAdded, p.Validator
	switch p.Action {
	case ActionRemoveValidator:
		cause = CauseValidatorRemoved
	case ActionRotateValidatorKey:
		cause = CauseValidatorKeyRotated
		v, _ := p.Entry.Validator()
		s.set(retiredValidatorKey(p.Validator), append([]byte{recordVersion}, v.Address[:]...))
	}
	if p.Action == ActionAddValidator {
		v, _ := p.Entry.Validator()
		who = v.Address
	}
	return []Entry{{Account: p.Partner, Cause: cause, Ref: p.ref(), Counterparty: who}}, nil
}
