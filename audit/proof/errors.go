package proof

import "github.com/loyal-ledger/loyal/chain"

// Why a bundle is refused, each with a stable code (chain.Code) for scripts; the wrapped
// error says what exactly failed.
var (
	// ErrBadBundle is a file that is not a proof bundle of this format: not JSON of its
	// shape, another format or version, a kind without its part, or parts that disagree.
	ErrBadBundle = &chain.Error{Code: "bad_bundle", Msg: "not a well-formed proof bundle"}
	// ErrWrongNetwork is a bundle that names another genesis or chain id than the genesis
	// it is checked with.
	ErrWrongNetwork = &chain.Error{Code: "wrong_network", Msg: "the bundle is of another network"}
	// ErrNotCertified is a certificate that does not certify the bundle's header: short of
	// more than two thirds of the validators in force at its height, a signature that does
	// not verify, a signer that is not a validator or signs twice, another block or height.
	ErrNotCertified = &chain.Error{Code: "not_certified", Msg: "the header is not certified by the genesis's validators"}
	// ErrBadPath is a Merkle path that does not lead from the proven value to the header's
	// root (the tx root for a transaction, the state root for an account).
	ErrBadPath = &chain.Error{Code: "bad_path", Msg: "the Merkle path does not lead to the certified header's root"}
	// ErrNotFound is a fact a chain cannot prove because it is not there: a transaction in
	// none of its blocks, or a height it does not reach.
	ErrNotFound = &chain.Error{Code: "not_found", Msg: "not in the chain"}
)
