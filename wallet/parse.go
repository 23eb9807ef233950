package wallet

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/loyal-ledger/loyal/chain"
)

// LooksLikeAddress reports whether s is meant as an address rather than a key name: it
// starts with 0x. (Key names never do; see ValidName.)
func LooksLikeAddress(s string) bool {
	return len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')
}

// ParseAddress parses a 0x-prefixed 20-byte hex address. All-lowercase and all-uppercase
// hex are accepted as is; mixed case must be a valid EIP-55 checksum, so a mistyped
// checksummed address is caught before points are sent to it.
func ParseAddress(s string) (chain.Address, error) {
	if !LooksLikeAddress(s) || len(s) != 42 {
		return chain.Address{}, fmt.Errorf("%w %q: want 0x and 40 hex digits", ErrBadAddress, s)
	}
	digits := s[2:]
	b, err := hex.DecodeString(digits)
	if err != nil {
		return chain.Address{}, fmt.Errorf("%w %q: want 0x and 40 hex digits", ErrBadAddress, s)
	}
	a := chain.Address(b)
	if digits != strings.ToLower(digits) && digits != strings.ToUpper(digits) && digits != a.Hex()[2:] {
		return chain.Address{}, fmt.Errorf("%w %q: EIP-55 checksum mismatch (expected %s)", ErrBadAddress, s, a.Hex())
	}
	return a, nil
}

// ParseHash parses a 0x-prefixed 32-byte hex hash (a transaction id).
func ParseHash(s string) (chain.Hash, error) {
	if !LooksLikeAddress(s) || len(s) != 66 {
		return chain.Hash{}, fmt.Errorf("wallet: invalid hash %q: want 0x and 64 hex digits", s)
	}
	b, err := hex.DecodeString(s[2:])
	if err != nil {
		return chain.Hash{}, fmt.Errorf("wallet: invalid hash %q: want 0x and 64 hex digits", s)
	}
	return chain.Hash(b), nil
}

// ParseAmount parses a number of points: a whole decimal number from 0 to 2^64−1, digits
// only. Negative numbers, decimals, exponents, signs and overflow are rejected with
// ErrBadAmount and a sentence saying why. Zero is accepted (a min-out or a cap may be zero);
// transactions that need a positive amount reject zero themselves.
func ParseAmount(s string) (uint64, error) {
	switch {
	case s == "":
		return 0, fmt.Errorf("%w: empty", ErrBadAmount)
	case strings.HasPrefix(s, "-"):
		return 0, fmt.Errorf("%w %q: points cannot be negative", ErrBadAmount, s)
	case strings.ContainsAny(s, ".,"):
		return 0, fmt.Errorf("%w %q: points are whole numbers", ErrBadAmount, s)
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%w %q: use decimal digits only", ErrBadAmount, s)
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%w %q: exceeds the maximum of %d points", ErrBadAmount, s, uint64(math.MaxUint64))
	}
	if err != nil {
		return 0, fmt.Errorf("%w %q: %v", ErrBadAmount, s, err)
	}
	return v, nil
}
