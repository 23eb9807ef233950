package wallet

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// ParseTier parses a tier given as NAME=THRESHOLD, e.g. "gold=1000". The name is what
// precedes the last '='.
func ParseTier(s string) (chain.Tier, error) {
	i := strings.LastIndexByte(s, '=')
	if i <= 0 {
		return chain.Tier{}, fmt.Errorf("wallet: invalid tier %q: want NAME=THRESHOLD", s)
	}
	v, err := ParseAmount(s[i+1:])
	if err != nil {
		return chain.Tier{}, fmt.Errorf("tier %q: %w", s[:i], err)
	}
	return chain.Tier{Name: s[:i], Threshold: v}, nil
}

// MaxCreditsFileBytes bounds a credits file read by ParseCredits.
const MaxCreditsFileBytes = 64 << 20

// ParseCredits reads a JSON array of credits, [{"to": "0x…", "amount": "100", "order_ref":
// "A-1"}, …], as a merchant back end would write it. The amount may be a JSON string or
// number (whole points either way); unknown fields are errors, so a typo cannot silently
// drop an order reference. It checks the form of each entry, not the ledger's limits.
func ParseCredits(r io.Reader) ([]chain.Credit, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxCreditsFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("wallet: credits: %w", err)
	}
	if len(data) > MaxCreditsFileBytes {
		return nil, fmt.Errorf("wallet: credits: exceed %d bytes", MaxCreditsFileBytes)
	}
	var raw []struct {
		To       string          `json:"to"`
		Amount   json.RawMessage `json:"amount"`
		OrderRef string          `json:"order_ref"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("wallet: credits: %w", err)
	}
	if dec.More() {
		return nil, errors.New("wallet: credits: trailing data after the array")
	}
	if len(raw) == 0 {
		return nil, errors.New("wallet: credits: empty list")
	}
	credits := make([]chain.Credit, len(raw))
	for i, c := range raw {
		to, err := ParseAddress(c.To)
		if err != nil {
			return nil, fmt.Errorf("credit %d (to): %w", i, err)
		}
		amount := string(c.Amount)
		if strings.HasPrefix(amount, `"`) {
			if err := json.Unmarshal(c.Amount, &amount); err != nil {
				return nil, fmt.Errorf("credit %d (amount): %w", i, err)
			}
		}
		v, err := ParseAmount(amount)
		if err != nil {
			return nil, fmt.Errorf("credit %d (amount): %w", i, err)
		}
		if c.OrderRef == "" {
			return nil, fmt.Errorf("wallet: credit %d: missing order_ref", i)
		}
		credits[i] = chain.Credit{To: to, Amount: v, OrderRef: c.OrderRef}
	}
	return credits, nil
}
