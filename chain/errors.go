package chain

import (
	"errors"
	"fmt"
)

// Error is a ledger rejection: a stable machine-readable Code for the API and CLI, and a
// sentence for people. Compare with errors.Is against the exported values; wrap with %w to
// add detail without losing the code.
type Error struct {
	Code string
	Msg  string
}

func (e *Error) Error() string { return "chain: " + e.Msg }

// Code returns the stable code of the first *Error in err's chain, "internal" for any other
// non-nil error, and "" for nil.
func Code(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return "internal"
}

func newErr(code, msg string) *Error { return &Error{Code: code, Msg: msg} }

// rejectf wraps a sentinel with a detail sentence, keeping its code.
func rejectf(sentinel *Error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}

// Decoding and stateless validation.
var (
	ErrMalformed      = newErr("malformed", "malformed encoding")
	ErrUnknownVersion = newErr("unknown_version", "unknown encoding version")
	ErrUnknownKind    = newErr("unknown_kind", "unknown transaction kind")
	ErrTooLarge       = newErr("too_large", "encoding exceeds its size limit")
	ErrBadSignature   = newErr("bad_signature", "bad signature")
	ErrBadSymbol      = newErr("bad_symbol", "program symbol must be 2 to 12 characters of A-Z and 0-9")
	ErrFieldTooLong   = newErr("field_too_long", "field exceeds its length limit")
	ErrTooManyItems   = newErr("too_many_items", "list exceeds its length limit")
	ErrAmountZero     = newErr("amount_zero", "amount must be greater than zero")
	ErrBadPolicy      = newErr("bad_policy", "invalid program policy")
	ErrBadRate        = newErr("bad_rate", "invalid exchange rate")
	ErrSameProgram    = newErr("same_program", "the two programs must differ")
	ErrEmptyRef       = newErr("empty_ref", "a reference must not be empty")
	ErrZeroAddress    = newErr("zero_address", "the zero address is not allowed here")
)

// Stateful rejections by the state transition.
var (
	ErrWrongChainID       = newErr("wrong_chain_id", "transaction is for another chain")
	ErrExpiredTx          = newErr("tx_expired", "transaction's valid_until has passed")
	ErrNonceTooLow        = newErr("nonce_too_low", "nonce too low: already used")
	ErrNonceTooHigh       = newErr("nonce_too_high", "nonce too high: an earlier nonce is missing")
	ErrNotPartner         = newErr("not_partner", "sender is not a partner of this network")
	ErrProgramExists      = newErr("program_exists", "a program with this symbol already exists")
	ErrUnknownProgram     = newErr("unknown_program", "unknown program")
	ErrNotOwner           = newErr("not_owner", "sender is not the program's owner")
	ErrNotOperator        = newErr("not_operator", "sender is neither the program's owner nor an operator")
	ErrProgramRetired     = newErr("program_retired", "program is retired and accepts no new earns")
	ErrDuplicateOrder     = newErr("duplicate_order", "order reference already used in this program")
	ErrUnknownOrder       = newErr("unknown_order", "no earn with this order reference in this program")
	ErrReverseTooMuch     = newErr("reverse_exceeds_order", "reversal exceeds what the order earned minus what was already reversed")
	ErrInsufficientPoints = newErr("insufficient_points", "insufficient available points")
	ErrOverflow           = newErr("overflow", "amount overflows")
	ErrRouteClosed        = newErr("route_closed", "exchange route is not open: both owners must set the identical rate")
	ErrDailyCapReached    = newErr("daily_cap_reached", "exchange route's daily cap reached")
	ErrBelowMinOut        = newErr("below_min_out", "exchange would mint less than min_out")
	ErrSettleTooMuch      = newErr("settle_exceeds_position", "settlement exceeds the open position")
	ErrSelfTransfer       = newErr("self_transfer", "sender and recipient are the same")
	ErrTxTooLarge         = newErr("tx_too_large", "transaction exceeds the network's size limit")
)

// Governance rejections (Version2, ADR 0009). A proposal whose precondition no longer holds
// when it would execute closes as failed with the precondition's code.
var (
	ErrUnknownProposal = newErr("unknown_proposal", "no proposal with this id")
	ErrProposalClosed  = newErr("proposal_closed", "the proposal has already executed or failed")
	ErrProposalExpired = newErr("proposal_expired", "the proposal's deadline has passed")
	ErrAlreadyApproved = newErr("already_approved", "this key has already approved the proposal")
	ErrAlreadyPartner  = newErr("already_partner", "the address is already a partner")
	ErrRetiredKey      = newErr("retired_key", "the key was rotated away and is refused")
	ErrLastPartner     = newErr("last_partner", "the coalition's only partner cannot be removed")
	ErrTooManyPartners = newErr("too_many_partners", "the coalition has the most partners it may have")
	ErrFormerPartner   = newErr("former_partner", "the key was a removed partner's and cannot become another partner's key")
	ErrPartnerRemoved  = newErr("partner_removed", "the program's partner was removed from the coalition")

	// Validator governance (Version3, ADR 0003).
	ErrBadPossession          = newErr("bad_possession", "the proof of possession is not the validator key's signature of its entry on this chain")
	ErrNotValidator           = newErr("not_validator", "the address is not a validator")
	ErrAlreadyValidator       = newErr("already_validator", "the key is already a validator's")
	ErrLastValidator          = newErr("last_validator", "the only validator cannot be removed")
	ErrValidatorSetTooLarge   = newErr("validator_set_too_large", "the set would exceed the most validators a block's certificate leaves room for")
	ErrValidatorChangePending = newErr("validator_change_pending", "a validator change already takes effect at this activation height; approve again in the next block")
)

// Block validation.
var (
	ErrBadBlock        = newErr("bad_block", "invalid block")
	ErrBadCertificate  = newErr("bad_certificate", "invalid commit certificate")
	ErrBadGenesis      = newErr("bad_genesis", "invalid genesis")
	ErrBadActivation   = newErr("bad_activation", "invalid change of rules")
	ErrUnknownProtocol = newErr("unknown_protocol", "protocol version unknown to this node")
)
