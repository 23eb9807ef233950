package httpapi

import (
	"errors"
	"fmt"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
)

func TestPublicMessageDropsPackagePrefixes(t *testing.T) {
	sentinel := &chain.Error{Code: "nonce_too_low", Msg: "nonce too low"}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{sentinel, "nonce too low"},
		{fmt.Errorf("%w: have 3, account is at 5", sentinel), "nonce too low: have 3, account is at 5"},
		{fmt.Errorf("node: submit: %w", fmt.Errorf("mempool: add: %w", sentinel)), "submit: add: nonce too low"},
		{errors.New("ledger: not found"), "not found"},
		{errors.New("order ref \"x\" unknown"), "order ref \"x\" unknown"},
		{errors.New("blockchain: kept"), "blockchain: kept"},                          // a word ending in a package name is not a prefix
		{fmt.Errorf("%w: %q", sentinel, "A: node: B"), `nonce too low: "A: node: B"`}, // the caller's input is echoed as sent
		{errors.New("unknown program: "), "unknown program: "},
		{fmt.Errorf("%w: order %s is pending", sentinel, "A-1: ledger: x"), "nonce too low: order A-1: ledger: x is pending"}, // a detail after a sentinel is the caller's
		{fmt.Errorf("node: submit: %w", fmt.Errorf("%w: ref chain: 2", sentinel)), "submit: nonce too low: ref chain: 2"},
	} {
		if got := publicMessage(tc.err); got != tc.want {
			t.Errorf("publicMessage(%q) = %q, want %q", tc.err, got, tc.want)
		}
		if code := chain.Code(tc.err); errors.Is(tc.err, sentinel) && code != "nonce_too_low" {
			t.Errorf("code of %q = %q", tc.err, code)
		}
	}
}
