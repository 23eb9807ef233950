package consensus

import "errors"

// Errors returned by Step, New and the decoders. Compare with errors.Is; the returned errors
// wrap these with detail.
var (
	// ErrBadConfig means Config failed validation in New, or a NewHeight's validator sets did
	// in Step (or named Self a validator while Config.Signer is nil).
	ErrBadConfig = errors.New("consensus: invalid config")
	// ErrBadState means the persisted SignedState given to New is inconsistent with the config
	// (another validator's votes, a lock without a valid block, ...).
	ErrBadState = errors.New("consensus: invalid persisted state")
	// ErrStateAhead means the persisted SignedState is for a later height than the NewHeight
	// the node stepped: the node's ledger lost blocks it had committed. The engine refuses to
	// run, since voting again at those heights could contradict what it signed.
	ErrStateAhead = errors.New("consensus: persisted state is ahead of the ledger")
	// ErrOldHeight means a NewHeight did not move the height forward.
	ErrOldHeight = errors.New("consensus: new height is not above the current height")
	// ErrNotStarted means an event other than NewHeight came before the first NewHeight.
	ErrNotStarted = errors.New("consensus: engine not started")
	// ErrNotValidator means a vote names a signer outside the validator set of its height
	// (judged for the engine's height and the next one).
	ErrNotValidator = errors.New("consensus: signer is not a validator")
	// ErrWrongProposer means a proposal is signed by someone other than the round's proposer
	// under the validator set of its height (judged for the engine's height and the next one).
	ErrWrongProposer = errors.New("consensus: proposal from the wrong proposer")
	// ErrBadVoteType means a vote type other than prevote or precommit.
	ErrBadVoteType = errors.New("consensus: bad vote type")
	// ErrBadRound means a round above MaxRound, or a proposal's POLRound that is not -1 or
	// below its round.
	ErrBadRound = errors.New("consensus: bad round")
	// ErrBadSignature means a message's signature does not recover to its claimed signer.
	ErrBadSignature = errors.New("consensus: bad signature")
	// ErrSigner wraps an error of the configured Signer. The engine goes on as if it had not
	// voted (which is safe: a missing vote is a lost message).
	ErrSigner = errors.New("consensus: signer failed")
	// ErrWouldEquivocate means the engine refused to sign a message that conflicts with one it
	// signed before. It indicates a bug (or a persisted state from another engine) and is
	// returned instead of signing.
	ErrWouldEquivocate = errors.New("consensus: refusing to sign a conflicting message")
	// ErrMalformed means a wire or persisted encoding is not canonical: wrong tag, bad length,
	// out-of-range field or trailing bytes.
	ErrMalformed = errors.New("consensus: malformed encoding")
	// ErrUnknownVersion means an encoding version this code does not know.
	ErrUnknownVersion = errors.New("consensus: unknown encoding version")
)
