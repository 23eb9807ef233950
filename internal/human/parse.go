package human

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/wallet"
)

// ParseTier parses a tier given as NAME=THRESHOLD, e.g. "gold=1000". The name is what
// precedes the last '='.
func ParseTier(s string) (chain.Tier, error) {
	i := strings.LastIndexByte(s, '=')
	if i <= 0 {
		return chain.Tier{}, fmt.Errorf("wallet: invalid tier %q: want NAME=THRESHOLD", s)
	}
	v, err := wallet.ParseAmount(s[i+1:])
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
		to, err := wallet.ParseAddress(c.To)
		if err != nil {
			return nil, fmt.Errorf("credit %d (to): %w", i, err)
		}
		amount := string(c.Amount)
		if strings.HasPrefix(amount, `"`) {
			if err := json.Unmarshal(c.Amount, &amount); err != nil {
				return nil, fmt.Errorf("credit %d (amount): %w", i, err)
			}
		}
		v, err := wallet.ParseAmount(amount)
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
