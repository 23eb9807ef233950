package report

import "github.com/loyal-ledger/loyal/chain"

// Report is the auditor's report: the statements asked for, in date order, of a chain
// verified from the genesis it names through VerifiedHeight. Amounts, heights and times are
// decimal strings in JSON, like every amount of the API.
type Report struct {
	Genesis        chain.Hash  `json:"genesis"`
	VerifiedHeight uint64      `json:"verified_height,string"`
	Statements     []Statement `json:"statements"`
}

// Statement is one period: the state it opens with (after block FromHeight; 0 is the
// genesis), the blocks FromHeight+1 … ToHeight, and the state it closes with.
type Statement struct {
	FromDate   Date   `json:"from_date"`          // first UTC day of the period
	ToDate     Date   `json:"to_date"`            // last UTC day of the period
	FromHeight uint64 `json:"from_height,string"` // the last block before FromDate
	ToHeight   uint64 `json:"to_height,string"`   // the last block at or before the end of ToDate, or the as-of height
	ToTime     uint64 `json:"to_time,string"`     // block time of ToHeight, Unix seconds UTC
	// Incomplete is set when the chain ends before the end of ToDate: blocks of that day not
	// yet in the chain read would change the statement.
	Incomplete bool              `json:"incomplete,omitempty"`
	Programs   []ProgramFigures  `json:"programs"`   // by symbol
	Settlement []PositionFigures `json:"settlement"` // by debtor, then creditor
}

// ProgramFigures are one program's figures for a statement (docs/audit-report.md). Flows are
// over the period's blocks; Outstanding, Pending and Holders are as of ToHeight.
type ProgramFigures struct {
	Symbol string        `json:"symbol"`
	Owner  chain.Address `json:"owner"` // at ToHeight
	// Opening is the outstanding points at FromHeight.
	Opening uint64 `json:"opening,string"`
	// Issued is the points earned, gross: before reversals, pending included.
	Issued uint64 `json:"issued,string"`
	// Reversed is the points clawed back by reversals; Unrecovered what reversals could not
	// claw back because it was spent, which stays out of every other figure.
	Reversed     uint64 `json:"reversed,string"`
	Unrecovered  uint64 `json:"unrecovered,string"`
	Redeemed     uint64 `json:"redeemed,string"`
	Expired      uint64 `json:"expired,string"`
	ExchangedOut uint64 `json:"exchanged_out,string"`
	ExchangedIn  uint64 `json:"exchanged_in,string"`
	// Outstanding is the issuer's liability: the points its holders hold, pending included,
	// = Opening + Issued − Reversed − Redeemed − Expired − ExchangedOut + ExchangedIn.
	Outstanding uint64 `json:"outstanding,string"`
	// Pending is the part of Outstanding still locked in return windows.
	Pending uint64 `json:"pending,string"`
	// Holders counts the accounts holding points of the program.
	Holders uint64 `json:"holders,string"`
	// ActiveMembers counts the accounts with an entry in the program in the period;
	// RepeatEarners those credited by two earn credits or more.
	ActiveMembers uint64 `json:"active_members,string"`
	RepeatEarners uint64 `json:"repeat_earners,string"`
	// RedemptionRate is Redeemed / (Issued + ExchangedIn); BreakageRate Expired / (Issued +
	// ExchangedIn).
	RedemptionRate Rate `json:"redemption_rate_bps"`
	BreakageRate   Rate `json:"breakage_rate_bps"`
}

// PositionFigures are one cell of the settlement matrix: what the owner of Debtor owes the
// owner of Creditor for points exchanged from Debtor into Creditor.
type PositionFigures struct {
	Debtor        string        `json:"debtor"`
	Creditor      string        `json:"creditor"`
	DebtorOwner   chain.Address `json:"debtor_owner"`   // at ToHeight
	CreditorOwner chain.Address `json:"creditor_owner"` // at ToHeight
	Opening       uint64        `json:"opening,string"` // open at FromHeight
	Owed          uint64        `json:"owed,string"`    // created by exchanges in the period
	Settled       uint64        `json:"settled,string"` // payments recorded in the period
	Open          uint64        `json:"open,string"`    // at ToHeight: Opening + Owed − Settled
	OwedTotal     uint64        `json:"owed_total,string"`
	SettledTotal  uint64        `json:"settled_total,string"`
	Payments      []Payment     `json:"payments"` // in chain order; they sum to Settled
}

// Payment is one settle transaction: the creditor's owner acknowledging a payment.
type Payment struct {
	Height uint64     `json:"height,string"`
	Time   uint64     `json:"time,string"`
	Tx     chain.Hash `json:"tx"`
	Amount uint64     `json:"amount,string"`
}
