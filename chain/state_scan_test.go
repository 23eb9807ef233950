package chain_test

import (
	"strings"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
)

// A scanner over a fixed list of records, as the ledger's ScanState yields them.
func scanOf(records ...[2][]byte) chain.StateScanner {
	return func(prefix []byte, fn func(k, v []byte) error) error {
		for _, r := range records {
			if strings.HasPrefix(string(r[0]), string(prefix)) {
				if err := fn(r[0], r[1]); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

func TestForEachRouteNamesBothProgramsAndRefusesBadKeys(t *testing.T) {
	f := newStd(t)
	f.block(f.time+10, func(b *blk) {
		b.ok(who.acme, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme"})
		b.ok(who.bolt, &chain.RegisterProgram{Symbol: "BOLT", Name: "Bolt"})
	})
	f.block(f.time+10, func(b *blk) {
		b.ok(who.acme, &chain.SetRate{From: "ACME", To: "BOLT", Numerator: 2, Denominator: 1})
	})
	var records [][2][]byte
	for k, v := range f.base {
		if k[0] == 'r' {
			records = append(records, [2][]byte{[]byte(k), v})
		}
	}
	if len(records) != 1 {
		t.Fatalf("%d route records, want 1", len(records))
	}
	var got []string
	err := chain.ForEachRoute(scanOf(records...), func(from, to string, r *chain.Route) error {
		got = append(got, from+">"+to)
		if r.FromSide.Numerator != 2 || r.FromSide.Denominator != 1 || r.Open() {
			t.Errorf("route %s>%s = %+v, want ACME's side 2/1 and not open", from, to, r)
		}
		return nil
	})
	if err != nil || len(got) != 1 || got[0] != "ACME>BOLT" {
		t.Fatalf("ForEachRoute: %v, %v", got, err)
	}
	bad := scanOf([2][]byte{{'r', 9, 'A'}, records[0][1]})
	err = chain.ForEachRoute(bad, func(string, string, *chain.Route) error { t.Fatal("called for a malformed key"); return nil })
	if err == nil || !strings.Contains(err.Error(), "malformed route key") {
		t.Fatalf("a malformed key: %v", err)
	}
}
