package human

import (
	"strings"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/wallet"
)

func TestParseTier(t *testing.T) {
	tests := []struct {
		in      string
		want    chain.Tier
		wantErr bool
	}{
		{"gold=1000", chain.Tier{Name: "gold", Threshold: 1000}, false},
		{"a=b=5", chain.Tier{Name: "a=b", Threshold: 5}, false},
		{"gold", chain.Tier{}, true},
		{"=5", chain.Tier{}, true},
		{"gold=", chain.Tier{}, true},
		{"gold=-1", chain.Tier{}, true},
		{"gold=1.5", chain.Tier{}, true},
	}
	for _, tt := range tests {
		got, err := ParseTier(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseTier(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseCredits(t *testing.T) {
	const a = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
	got, err := ParseCredits(strings.NewReader(`[
		{"to": "` + a + `", "amount": "100", "order_ref": "A-1"},
		{"to": "` + strings.ToLower(a) + `", "amount": 25, "order_ref": "A-2"}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	to, _ := wallet.ParseAddress(a)
	want := []chain.Credit{{To: to, Amount: 100, OrderRef: "A-1"}, {To: to, Amount: 25, OrderRef: "A-2"}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("ParseCredits = %+v, want %+v", got, want)
	}

	bad := []struct{ body, wantErr string }{
		{`[]`, "empty list"},
		{`{}`, "cannot unmarshal"},
		{`[{"to":"` + a + `","amount":"1","order_ref":"x","memo":"y"}]`, "unknown field"},
		{`[{"to":"` + a + `","amount":"1.5","order_ref":"x"}]`, "whole numbers"},
		{`[{"to":"` + a + `","amount":-3,"order_ref":"x"}]`, "negative"},
		{`[{"to":"` + a + `","amount":1e3,"order_ref":"x"}]`, "decimal digits only"},
		{`[{"to":"` + a + `","amount":"1"}]`, "missing order_ref"},
		{`[{"to":"0x12","amount":"1","order_ref":"x"}]`, "credit 0 (to)"},
		{`[{"to":"` + a + `","amount":"1","order_ref":"x"}] []`, "trailing data"},
	}
	for _, tt := range bad {
		if _, err := ParseCredits(strings.NewReader(tt.body)); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ParseCredits(%s) err = %v, want it to say %q", tt.body, err, tt.wantErr)
		}
	}
}
