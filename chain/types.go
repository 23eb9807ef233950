package chain

import (
	"github.com/ethereum/go-ethereum/common"
)

// Address is a 20-byte Ethereum-style account address (keccak256 of the secp256k1 public key,
// last 20 bytes), shown as EIP-55 mixed-case hex.
type Address = common.Address

// Hash is a 32-byte Keccak-256 digest.
type Hash = common.Hash

// Time and days. Block time is whole Unix seconds (UTC); a day is 86,400 s and "daily" means
// the UTC day of the block time.
const SecondsPerDay = 86400

// Day is a UTC day number: Unix seconds / 86,400.
type Day = uint32

// NeverExpires is the expiry day of points that never expire.
const NeverExpires Day = ^Day(0)

// MaxBlockTime is the latest block time the ledger accepts: far enough to never matter, near
// enough that day arithmetic (days are uint32, NeverExpires is the sentinel) cannot wrap
// whatever the policies. Consensus bounds block time much tighter, by the validators' clocks.
const MaxBlockTime = uint64(NeverExpires-1-MaxPendingDays-MaxExpiryDays-2) * SecondsPerDay

// DayOf returns the UTC day of a block time.
func DayOf(unixSeconds uint64) Day {
	d := unixSeconds / SecondsPerDay
	if d >= uint64(NeverExpires) {
		return NeverExpires - 1
	}
	return Day(d)
}

// Encoding tags: the first byte of every top-level binary encoding names what follows, and
// the second byte is its version. A transaction can never be mistaken for a header.
const (
	tagTx     = 'T'
	tagHeader = 'H'
	tagBlock  = 'B'
	tagCommit = 'C'
	tagVote   = 'V'
	// tagValidatorSet starts the preimage of ValidatorSetHash.
	tagValidatorSet = 'W'
	tagSetChange    = 'X'

	encodingVersion = 1
)

// Decode-time hard caps. They bound what a decoder will allocate whatever the network's
// genesis says; the genesis limits (Params) are tighter and are checked by the ledger.
const (
	MaxSymbolLen       = 12
	MinSymbolLen       = 2
	maxDecodeString    = 1024
	maxDecodeCredits   = 100_000
	maxDecodeOperators = 64
	maxDecodeTiers     = 32
	// MaxTxBytes is the absolute size limit of an encoded transaction.
	MaxTxBytes = 8 << 20
	// MaxBlockBytes is the absolute size limit of an encoded block. A block's atomic commit
	// writes about ten times its size (state, history, indexes), which must fit one badger
	// transaction (at most 128 MiB).
	MaxBlockBytes = 8 << 20
	// MaxValidators bounds validator sets and certificates.
	MaxValidators = 1024
)

// ValidSymbol reports whether s is a program symbol: 2 to 12 characters of A-Z and 0-9.
func ValidSymbol(s string) bool {
	if len(s) < MinSymbolLen || len(s) > MaxSymbolLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
