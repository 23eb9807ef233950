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
