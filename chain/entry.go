package chain

// Cause says why points came or went; every ledger entry keeps one.
type Cause string

// The causes of ledger entries.
const (
	CauseEarn        Cause = "earn"
	CauseReverse     Cause = "reverse"
	CauseTransferIn  Cause = "transfer_in"
	CauseTransferOut Cause = "transfer_out"
	CauseRedeem      Cause = "redeem"
	CauseExchangeIn  Cause = "exchange_in"
	CauseExchangeOut Cause = "exchange_out"
	CauseExpire      Cause = "expire"

	// Governance steps (ADR 0009) move no points: their entries say who did what, with the
	// proposal as Ref ("ID:action", and ":code" for a failure).
	CauseProposal        Cause = "proposal"          // Account proposed; Counterparty is whom it is about
	CauseApproval        Cause = "approval"          // Account approved
	CausePartnerAdmitted Cause = "partner_admitted"  // Account became a partner
	CausePartnerRemoved  Cause = "partner_removed"   // Account stopped being a partner
	CauseOwnerKeyRotated Cause = "owner_key_rotated" // Account's partner key moved to or from Counterparty
	CauseProposalFailed  Cause = "proposal_failed"   // Account's proposal failed its precondition
	// Validator changes (Version3): Account is the validator's partner, Counterparty the
	// validator's consensus address (a rotation's: the old key); Ref names the proposal.
	CauseValidatorAdded      Cause = "validator_added"
	CauseValidatorRemoved    Cause = "validator_removed"
	CauseValidatorKeyRotated Cause = "validator_key_rotated"
)

// Entry is one movement of one account's points, produced by the state transition and kept in
// the account's history. It never holds personal data: refs are opaque merchant ids.
type Entry struct {
	Account Address `json:"account"`
	Program string  `json:"program"`
	Cause   Cause   `json:"cause"`
	Credit  uint64  `json:"credit,string"` // points in
	Debit   uint64  `json:"debit,string"`  // points out
	// Unrecovered is the part of a reversal that could not be clawed back (already spent).
	Unrecovered uint64 `json:"unrecovered,string,omitempty"`
	// Ref is the order ref (earn, reverse), reward ref (redeem) or memo (transfer).
	Ref string `json:"ref,omitempty"`
	// Counterparty is the other account of a transfer, or the operator of an earn or reverse.
	Counterparty Address `json:"counterparty"`
	// Route names the exchange route, "FROM>TO".
	Route string `json:"route,omitempty"`
	// Pending is set on earns still locked until AvailableDay.
	AvailableDay Day `json:"available_day,omitempty"`
	ExpiryDay    Day `json:"expiry_day,omitempty"`
}

// AppendBinary appends the entry's binary encoding (a version byte, then fixed-width and
// length-prefixed fields) to b; the ledger stores history in this form.
func (e *Entry) AppendBinary(b []byte) []byte {
	enc := encoder{Buf: b}
	enc.U8(recordVersion)
	enc.Address(e.Account)
	enc.Str(e.Program)
	enc.Str(string(e.Cause))
	enc.U64(e.Credit)
	enc.U64(e.Debit)
	enc.U64(e.Unrecovered)
	enc.Str(e.Ref)
	enc.Address(e.Counterparty)
	enc.Str(e.Route)
	enc.U32(e.AvailableDay)
	enc.U32(e.ExpiryDay)
	return enc.Buf
}

// DecodeEntry decodes an entry written by AppendBinary, returning the bytes after it.
func DecodeEntry(b []byte) (Entry, []byte, error) {
	d := newDecoder(b)
	if v := d.U8(); d.Err == nil && v != recordVersion {
		return Entry{}, nil, rejectf(ErrUnknownVersion, "entry version %d", v)
	}
	e := Entry{Account: d.Address(), Program: d.Str(MaxSymbolLen), Cause: Cause(d.Str(32)),
		Credit: d.U64(), Debit: d.U64(), Unrecovered: d.U64(), Ref: d.Str(maxDecodeString),
		Counterparty: d.Address(), Route: d.Str(2*MaxSymbolLen + 1), AvailableDay: d.U32(), ExpiryDay: d.U32()}
	if d.Err != nil {
		return Entry{}, nil, d.Err
	}
	return e, b[d.Off:], nil
}
