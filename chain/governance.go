package chain

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"unicode"
)

// Partner governance (Version2, docs/adr/0009-partner-governance.md): a partner proposes an
// action, partners approve it, and it executes in the transaction whose approval makes the
// approvers more than two thirds of the partners, before the proposal's deadline, once. This
// file holds what the two kinds share: the actions, the proposal record, the threshold, and
// each action's precondition and effect. The kinds are in kind_propose.go and
// kind_approve.go.

// Action is what a proposal would do.
type Action uint8

// The actions. The numbers are part of the encoding: never reuse one.
const (
	ActionAdmitPartner   Action = 1 // Partner joins the coalition as Name
	ActionRemovePartner  Action = 2 // Partner leaves; its programs are retired
	ActionRotateOwnerKey Action = 3 // Partner's key becomes NewKey; the old one is refused

	// Validator actions (Version3, kind propose_validator): they change the validator set
	// ActivationDelay blocks after the block that executes them.
	ActionAddValidator       Action = 4 // Entry joins the validator set
	ActionRemoveValidator    Action = 5 // Validator leaves it
	ActionRotateValidatorKey Action = 6 // Validator's place in the set goes to Entry's key
)

var actionNames = [...]string{
	ActionAdmitPartner:       "admit_partner",
	ActionRemovePartner:      "remove_partner",
	ActionRotateOwnerKey:     "rotate_owner_key",
	ActionAddValidator:       "add_validator",
	ActionRemoveValidator:    "remove_validator",
	ActionRotateValidatorKey: "rotate_validator_key",
}

// String is the action's name, as in the JSON form and the EIP-712 message.
func (a Action) String() string {
	if int(a) < len(actionNames) && actionNames[a] != "" {
		return actionNames[a]
	}
	return "action(" + strconv.Itoa(int(a)) + ")"
}

// ParseAction maps an action's name back to the action.
func ParseAction(s string) (Action, error) {
	for a, name := range actionNames {
		if name != "" && name == s {
			return Action(a), nil
		}
	}
	return 0, rejectf(ErrMalformed, "unknown governance action %q (admit_partner, remove_partner, rotate_owner_key, add_validator, remove_validator, rotate_validator_key)", s)
}

func (a Action) valid() bool { return int(a) < len(actionNames) && actionNames[a] != "" }

// aboutValidators reports whether a changes the validator set (propose_validator's actions).
func (a Action) aboutValidators() bool {
	return a >= ActionAddValidator && a <= ActionRotateValidatorKey
}

// MarshalText implements encoding.TextMarshaler.
func (a Action) MarshalText() ([]byte, error) {
	if !a.valid() {
		return nil, fmt.Errorf("chain: unknown governance action %d", uint8(a))
	}
	return []byte(a.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Action) UnmarshalText(b []byte) error {
	v, err := ParseAction(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// ProposalStatus is where a proposal stands. An open proposal past its deadline is expired;
// that is derived from the time (ProposalAt), never written.
type ProposalStatus uint8

// The statuses of a proposal record.
const (
	ProposalOpen     ProposalStatus = 0
	ProposalExecuted ProposalStatus = 1
	ProposalFailed   ProposalStatus = 2 // its precondition no longer held when it would execute
)

// Proposal is a governance proposal as the state holds it.
type Proposal struct {
	ID       uint64         `json:"id,string"`
	Action   Action         `json:"action"`
	Partner  Address        `json:"partner"`         // whom the action is about
	Name     string         `json:"name,omitempty"`  // admit: the new partner's name
	NewKey   Address        `json:"new_key"`         // rotate: the partner's new key
	Proposer Address        `json:"proposer"`        // a partner; the proposal is its approval
	Height   uint64         `json:"height,string"`   // the block that recorded it
	Deadline uint64         `json:"deadline,string"` // the last block time at which it may be approved
	Status   ProposalStatus `json:"-"`
	// Code is why a failed proposal failed: the error code of its precondition.
	Code string `json:"code,omitempty"`
	// Closed is the height at which it executed or failed.
	Closed uint64 `json:"closed,string,omitempty"`
	// Approvals are the addresses that approved, the proposer first, in order. Only those
	// that are partners when an approval is counted count (Approvers).
	Approvals []Address `json:"approvals"`

	// Validator actions (Version3): the validator removed or re-keyed, and the entry added
	// or rotated to. Partner is the entry's partner (remove: the removed validator's).
	Validator Address       `json:"validator,omitzero"`
	Entry     *ValidatorKey `json:"entry,omitempty"`
	// Activation is the height from which an executed validator change is in force.
	Activation uint64 `json:"activation,string,omitempty"`
}

// StatusAt names the proposal's status at block time t: "open", "executed", "failed", or
// "expired" for an open proposal past its deadline.
func (p *Proposal) StatusAt(t uint64) string {
	switch p.Status {
	case ProposalExecuted:
		return "executed"
	case ProposalFailed:
		return "failed"
	}
	if t > p.Deadline {
		return "expired"
	}
	return "open"
}

// ref is how history entries name the proposal: "ID:action".
func (p *Proposal) ref() string { return strconv.FormatUint(p.ID, 10) + ":" + p.Action.String() }

func (p *Proposal) encode() []byte {
	e := encoder{Buf: make([]byte, 0, 160+20*len(p.Approvals))}
	e.U8(recordVersion)
	e.U64(p.ID)
	e.U8(uint8(p.Action))
	e.Address(p.Partner)
	e.Str(p.Name)
	e.Address(p.NewKey)
	e.Address(p.Proposer)
	e.U64(p.Height)
	e.U64(p.Deadline)
	e.U8(uint8(p.Status))
	e.Str(p.Code)
	e.U64(p.Closed)
	encodeAddresses(&e, p.Approvals)
	if p.Action.aboutValidators() { // a partner action's record ends as Version2 wrote it
		e.Address(p.Validator)
		encodeEntry(&e, p.Entry)
		e.U64(p.Activation)
	}
	return e.Buf
}

// DecodeProposal decodes a proposal record.
func DecodeProposal(buf []byte) (*Proposal, error) {
	d := newDecoder(buf)
	if v := d.U8(); d.Err == nil && v != recordVersion {
		return nil, rejectf(ErrUnknownVersion, "proposal record version %d", v)
	}
	p := &Proposal{ID: d.U64(), Action: Action(d.U8()), Partner: d.Address(), Name: d.Str(maxPartnerName),
		NewKey: d.Address(), Proposer: d.Address(), Height: d.U64(), Deadline: d.U64(),
		Status: ProposalStatus(d.U8()), Code: d.Str(64), Closed: d.U64()}
	p.Approvals = decodeAddresses(&d, maxApprovals)
	if p.Action.aboutValidators() {
		p.Validator = d.Address()
		p.Entry = decodeEntry(&d)
		p.Activation = d.U64()
	}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	return p, nil
}

// maxApprovals bounds a proposal's approvals: the partners', and those of partners removed
// or re-keyed while it was open, which stay in its record but no longer count.
const maxApprovals = 4 * MaxPartners

// maxPartnerName is the longest partner name, in bytes.
const maxPartnerName = 64

func checkPartnerName(name string) error {
	if name == "" {
		return rejectf(ErrMalformed, "a partner needs a name")
	}
	return checkDisplayName("partner name", name, maxPartnerName)
}

// checkDisplayName checks a name that people read (a partner's, a validator's): bounded,
// UTF-8, and free of control characters, which could rewrite what a terminal shows.
func checkDisplayName(field, name string, max int) error {
	if err := checkString(field, name, max); err != nil {
		return err
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return rejectf(ErrMalformed, "%s holds the control character %U", field, r)
		}
	}
	return nil
}

// State keys of governance, beside nsPartner (address → name).
const (
	nsProposal       = 'g' // id (8 bytes, big-endian) → Proposal
	nsProposalSeq    = 'G' // the last proposal id given
	nsPartnerCount   = 'M' // the number of partners
	nsRetiredKey     = 'K' // a partner's rotated-away key → the key it was rotated to
	nsProgramPartner = 'S' // symbol → the partner whose program it is
	nsFormerPartner  = 'F' // a removed partner's key → present
)

// ProposalKey is the state key of proposal id.
func ProposalKey(id uint64) []byte { return binary.BigEndian.AppendUint64([]byte{nsProposal}, id) }

func retiredKeyKey(a Address) []byte { return append([]byte{nsRetiredKey}, a[:]...) }

func programPartnerKey(symbol string) []byte { return append([]byte{nsProgramPartner}, symbol...) }

func formerPartnerKey(a Address) []byte { return append([]byte{nsFormerPartner}, a[:]...) }

// formerPartner reports whether a was removed from the partners at some time.
func (s *State) formerPartner(a Address) bool {
	_, ok := s.get(formerPartnerKey(a))
	return ok
}

// partnerRemoved reports, from Version2 on, whether the partner whose program symbol is has
// been removed: its program is retired and the removed partner's keys may no longer manage it
// (ADR 0009).
func (s *State) partnerRemoved(symbol string) bool {
	if s.version < Version2 {
		return false
	}
	p := s.programPartner(symbol)
	return p != (Address{}) && !s.isPartner(p)
}

// refusePartnerRemoved refuses managing a program whose partner was removed.
func (s *State) refusePartnerRemoved(symbols ...string) error {
	for _, sym := range symbols {
		if s.partnerRemoved(sym) {
			return rejectf(ErrPartnerRemoved, "%s", sym)
		}
	}
	return nil
}

func (s *State) u64Record(key []byte) uint64 {
	v, ok := s.get(key)
	if !ok || len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func (s *State) partnerCount() int { return int(s.u64Record([]byte{nsPartnerCount})) }

func (s *State) putPartnerCount(n uint32) {
	s.set([]byte{nsPartnerCount}, binary.BigEndian.AppendUint64(nil, uint64(n)))
}

func (s *State) partnerName(a Address) (string, bool) {
	v, ok := s.get(partnerKey(a))
	if !ok || len(v) == 0 {
		return "", false
	}
	return string(v[1:]), true
}

func (s *State) putPartner(a Address, name string) {
	s.set(partnerKey(a), append([]byte{recordVersion}, name...)) // never empty: an empty value would read as absent
}

// retiredKey reports whether a was a partner's key before a rotation.
func (s *State) retiredKey(a Address) bool {
	_, ok := s.get(retiredKeyKey(a))
	return ok
}

// programPartner is the partner whose program symbol is (Version2: recorded when it is
// registered or by genesis), or the zero address.
func (s *State) programPartner(symbol string) Address {
	v, ok := s.get(programPartnerKey(symbol))
	if !ok || len(v) != 1+len(Address{}) {
		return Address{}
	}
	return Address(v[1:])
}

func (s *State) putProgramPartner(symbol string, a Address) {
	s.set(programPartnerKey(symbol), append([]byte{recordVersion}, a[:]...))
}

func (s *State) proposal(id uint64) (*Proposal, error) {
	v, ok := s.get(ProposalKey(id))
	if !ok {
		return nil, rejectf(ErrUnknownProposal, "%d", id)
	}
	return DecodeProposal(v)
}

func (s *State) putProposal(p *Proposal) { s.set(ProposalKey(p.ID), p.encode()) }

// partnerSender checks that sender may act as a partner.
func (s *State) partnerSender(sender Address) error {
	if s.isPartner(sender) {
		return nil
	}
	if err := s.refuseRetiredKeys(sender); err != nil {
		return err
	}
	return rejectf(ErrNotPartner, "%s", sender)
}

// approvers counts p's approvals against the partners as they are now (Tally).
func (s *State) approvers(p *Proposal) (approvers, eligible int) {
	return tally(p, s.isPartner, s.partnerCount())
}

// Tally counts p's approvals as execution counts them, against a partner set given by
// isPartner and its size: the approvals of current partners, less the partner a removal is
// about, out of the eligible partners (the set less that partner too); and the approvals a
// pass needs of them (Quorum: more than two thirds). Readers (the API, the CLI) use it to say
// where a proposal stands.
func Tally(p *Proposal, isPartner func(Address) bool, partners int) (counted, needed int) {
	counted, eligible := tally(p, isPartner, partners)
	return counted, Quorum(eligible)
}

func tally(p *Proposal, isPartner func(Address) bool, partners int) (approvers, eligible int) {
	eligible = partners
	var excluded Address
	if p.Action == ActionRemovePartner && isPartner(p.Partner) {
		excluded = p.Partner
		eligible--
	}
	for _, a := range p.Approvals {
		if a != excluded && isPartner(a) {
			approvers++
		}
	}
	return approvers, eligible
}

// passes is the threshold: more than two thirds of the eligible partners approve, the same
// Quorum a commit certificate needs of the validators.
func passes(approvers, eligible int) bool { return eligible > 0 && approvers >= Quorum(eligible) }

// precondition is what must hold for p's action to execute, checked when it is proposed
// and again when it would execute.
func (s *State) precondition(p *Proposal) error {
	switch p.Action {
	case ActionAdmitPartner:
		if s.isPartner(p.Partner) {
			return rejectf(ErrAlreadyPartner, "%s", p.Partner)
		}
		if s.retiredKey(p.Partner) {
			return rejectf(ErrRetiredKey, "%s was rotated away and may not come back", p.Partner)
		}
		if s.partnerCount() >= MaxPartners {
			return rejectf(ErrTooManyPartners, "the coalition has %d partners, the most it may have", MaxPartners)
		}
	case ActionRemovePartner:
		if !s.isPartner(p.Partner) {
			return rejectf(ErrNotPartner, "%s", p.Partner)
		}
		if s.partnerCount() <= 1 {
			return rejectf(ErrLastPartner, "%s is the only partner", p.Partner)
		}
	case ActionRotateOwnerKey:
		if !s.isPartner(p.Partner) {
			return rejectf(ErrNotPartner, "%s", p.Partner)
		}
		if s.isPartner(p.NewKey) {
			return rejectf(ErrAlreadyPartner, "new key %s", p.NewKey)
		}
		if s.retiredKey(p.NewKey) {
			return rejectf(ErrRetiredKey, "new key %s was rotated away before", p.NewKey)
		}
		if s.formerPartner(p.NewKey) {
			// Its approvals stay in open proposals' records: as another partner's key they
			// would count for a seat that never gave them.
			return rejectf(ErrFormerPartner, "new key %s", p.NewKey)
		}
	case ActionAddValidator, ActionRemoveValidator, ActionRotateValidatorKey:
		_, err := s.validatorChange(p)
		return err
	default:
		return rejectf(ErrMalformed, "unknown governance action %d", p.Action)
	}
	return nil
}

// tally counts p's approvals after one was added and, if they pass, executes p: its action
// if its precondition still holds, otherwise it fails with the precondition's code. Either
// way p closes, so it never executes twice. It returns the history entries of the outcome
// and writes p.
func (s *State) tally(p *Proposal) ([]Entry, error) {
	approvers, eligible := s.approvers(p)
	if !passes(approvers, eligible) {
		s.putProposal(p)
		return nil, nil
	}
	if p.Action.aboutValidators() {
		// One change per activation height: the approver tries again in a later block.
		if last := s.u64Record([]byte{nsLastValidatorEpoch}); last == s.height+ActivationDelay {
			return nil, rejectf(ErrValidatorChangePending, "at height %d", last)
		}
	}
	p.Closed = s.height
	if err := s.precondition(p); err != nil {
		code := Code(err)
		if code == "internal" {
			return nil, err
		}
		p.Status, p.Code = ProposalFailed, code
		s.putProposal(p)
		return []Entry{{Account: p.Proposer, Cause: CauseProposalFailed, Ref: p.ref() + ":" + code, Counterparty: p.Partner}}, nil
	}
	p.Status = ProposalExecuted
	if p.Action.aboutValidators() {
		p.Activation = s.height + ActivationDelay
	}
	s.putProposal(p)
	switch p.Action {
	case ActionAdmitPartner:
		s.putPartner(p.Partner, p.Name)
		s.putPartnerCount(uint32(s.partnerCount() + 1))
		return []Entry{{Account: p.Partner, Cause: CausePartnerAdmitted, Ref: p.ref()}}, nil
	case ActionRemovePartner:
		return s.removePartner(p)
	case ActionRotateOwnerKey:
		return s.rotateOwnerKey(p)
	default:
		return s.changeValidators(p)
	}
}

// removePartner takes p.Partner out of the partner set and retires its programs: no more
// earning and no exchange to or from them, while holders keep, transfer and redeem what
// they hold and the settlement positions stay.
func (s *State) removePartner(p *Proposal) ([]Entry, error) {
	s.del(partnerKey(p.Partner))
	s.set(formerPartnerKey(p.Partner), []byte{recordVersion})
	s.putPartnerCount(uint32(s.partnerCount() - 1))
	for _, sym := range s.programList() {
		if s.programPartner(sym) != p.Partner {
			continue
		}
		prog, err := s.program(sym)
		if err != nil {
			return nil, err
		}
		if !prog.Retired {
			prog.Retired = true
			s.putProgram(prog)
		}
	}
	return []Entry{{Account: p.Partner, Cause: CausePartnerRemoved, Ref: p.ref()}}, nil
}

// rotateOwnerKey moves the partner to p.NewKey: its name, its programs (those it registered,
// and every program the old key owns), and the old key's place in every operator list. The
// old key is recorded as rotated away and is refused as partner, owner and operator from
// this transaction on; as a holder of points it keeps what it holds.
func (s *State) rotateOwnerKey(p *Proposal) ([]Entry, error) {
	old, next := p.Partner, p.NewKey
	name, _ := s.partnerName(old)
	s.del(partnerKey(old))
	s.putPartner(next, name)
	s.set(retiredKeyKey(old), append([]byte{recordVersion}, next[:]...))
	for _, sym := range s.programList() {
		if s.programPartner(sym) == old {
			s.putProgramPartner(sym, next)
		}
		prog, err := s.program(sym)
		if err != nil {
			return nil, err
		}
		changed := false
		if prog.Owner == old {
			prog.Owner, changed = next, true
		}
		if i := slices.Index(prog.Operators, old); i >= 0 {
			prog.Operators, changed = slices.Delete(slices.Clone(prog.Operators), i, i+1), true
		}
		if changed {
			s.putProgram(prog)
		}
	}
	return []Entry{
		{Account: old, Cause: CauseOwnerKeyRotated, Ref: p.ref(), Counterparty: next},
		{Account: next, Cause: CauseOwnerKeyRotated, Ref: p.ref(), Counterparty: old},
	}, nil
}
