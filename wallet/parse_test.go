package wallet

import (
	"errors"
	"strings"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in      string
		want    uint64
		wantErr string // in the message; "" for success
	}{
		{"0", 0, ""},
		{"1", 1, ""},
		{"007", 7, ""},
		{"18446744073709551615", 1<<64 - 1, ""},
		{"18446744073709551616", 0, "exceeds the maximum of 18446744073709551615 points"},
		{"99999999999999999999999", 0, "exceeds the maximum"},
		{"-1", 0, "cannot be negative"},
		{"-0", 0, "cannot be negative"},
		{"1.5", 0, "whole numbers"},
		{"1.0", 0, "whole numbers"},
		{"1,000", 0, "whole numbers"},
		{"", 0, "empty"},
		{"+5", 0, "decimal digits only"},
		{"1e3", 0, "decimal digits only"},
		{"0x10", 0, "decimal digits only"},
		{" 5", 0, "decimal digits only"},
		{"5 ", 0, "decimal digits only"},
		{"٣", 0, "decimal digits only"}, // a non-ASCII digit
	}
	for _, tt := range tests {
		got, err := ParseAmount(tt.in)
		if tt.wantErr == "" {
			if err != nil || got != tt.want {
				t.Errorf("ParseAmount(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, ErrBadAmount) || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ParseAmount(%q) err = %v; want ErrBadAmount saying %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestParseAddressAndHash(t *testing.T) {
	const checksummed = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed" // EIP-55's own example
	want := chain.Address{0x5a, 0xae, 0xb6, 0x05, 0x3f, 0x3e, 0x94, 0xc9, 0xb9, 0xa0, 0x9f, 0x33, 0x66, 0x94, 0x35, 0xe7, 0xef, 0x1b, 0xea, 0xed}
	for _, in := range []string{checksummed, strings.ToLower(checksummed), "0x" + strings.ToUpper(checksummed[2:])} {
		if got, err := ParseAddress(in); err != nil || got != want {
			t.Errorf("ParseAddress(%q) = %s, %v", in, got.Hex(), err)
		}
	}
	for _, in := range []string{"0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "0x5aaeb6", "0xzzaeb6053f3e94c9b9a09f33669435e7ef1beaed", ""} {
		if _, err := ParseAddress(in); !errors.Is(err, ErrBadAddress) {
			t.Errorf("ParseAddress(%q) err = %v, want ErrBadAddress", in, err)
		}
	}
	h := "0x" + strings.Repeat("ab", 32)
	if got, err := ParseHash(h); err != nil || got.Hex() != h {
		t.Errorf("ParseHash(%q) = %s, %v", h, got.Hex(), err)
	}
	for _, in := range []string{h[:65], h + "00", strings.Repeat("ab", 33), "0x" + strings.Repeat("zz", 32)} {
		if _, err := ParseHash(in); err == nil {
			t.Errorf("ParseHash(%q) accepted", in)
		}
	}
}
