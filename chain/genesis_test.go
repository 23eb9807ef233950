package chain_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/loyal-ledger/loyal/chain"
)

func validGenesis(t *testing.T) *chain.Genesis {
	key := seedKey(t)
	partner := crypto.PubkeyToAddress(key.PublicKey)
	return &chain.Genesis{
		ChainID: 7, Network: "loyal-test", GenesisTime: 1_750_000_000,
		Partners: []chain.Partner{{Name: "Acme", Address: partner}},
		Validators: []chain.Validator{{Name: "acme-1", Partner: partner,
			PubKey: crypto.CompressPubkey(&key.PublicKey), Address: partner}},
		Params:   chain.DefaultParams(),
		Programs: []chain.GenesisProgram{{Symbol: "ACME", Name: "Acme", Owner: partner}},
	}
}

func TestGenesisJSONRoundTripKeepsHash(t *testing.T) {
	g := validGenesis(t)
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got, err := chain.ParseGenesis(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash() != g.Hash() {
		t.Fatal("JSON round trip changed the genesis hash")
	}
	g2 := validGenesis(t)
	g2.GenesisTime++
	if g2.Hash() == g.Hash() {
		t.Fatal("genesis time does not change the hash")
	}
}

func TestGenesisRejects(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(g *chain.Genesis)
		want   string
	}{
		{"zero chain id", func(g *chain.Genesis) { g.ChainID = 0 }, "chain_id"},
		{"no partners", func(g *chain.Genesis) { g.Partners = nil }, "no partners"},
		{"validator address not its key", func(g *chain.Genesis) { g.Validators[0].Address[0] ^= 1 }, "does not match"},
		{"validator of an unknown partner", func(g *chain.Genesis) { g.Validators[0].Partner[0] ^= 1 }, "not listed"},
		{"no validators", func(g *chain.Genesis) { g.Validators = nil }, "validators"},
		{"program owned by a non-partner", func(g *chain.Genesis) { g.Programs[0].Owner[0] ^= 1 }, "not a partner"},
		{"bad program symbol", func(g *chain.Genesis) { g.Programs[0].Symbol = "acme" }, "symbol"},
		{"zero max lots", func(g *chain.Genesis) { g.Params.MaxLots = 0 }, "max_lots"},
		{"tx limit above block limit", func(g *chain.Genesis) { g.Params.MaxTxBytes = g.Params.MaxBlockBytes + 1 }, "max_tx_bytes"},
		{"block too small for a tx and a certificate", func(g *chain.Genesis) { g.Params.MaxBlockBytes = g.Params.MaxTxBytes }, "cannot hold"},
		{"validator name that would not encode", func(g *chain.Genesis) { g.Validators[0].Name = strings.Repeat("n", 70_000) }, "name over 64"},
		{"genesis time past the last block time", func(g *chain.Genesis) { g.GenesisTime = chain.MaxBlockTime }, "genesis_time"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := validGenesis(t)
			c.mutate(g)
			err := g.Validate()
			if !errors.Is(err, chain.ErrBadGenesis) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want ErrBadGenesis mentioning %q", err, c.want)
			}
		})
	}
	if _, err := chain.ParseGenesis([]byte(`{"chain_id":7,"limitz":{}}`)); !errors.Is(err, chain.ErrBadGenesis) {
		t.Fatalf("unknown field: got %v", err)
	}
}

// A stray closing brace after the genesis object is trailing data, not ignored.
func TestParseGenesisRejectsTrailingBrace(t *testing.T) {
	g := validGenesis(t)
	raw, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.ParseGenesis(raw); err != nil {
		t.Fatalf("valid genesis refused: %v", err)
	}
	for _, tail := range []string{"}", "]", " {}", "x"} {
		if _, err := chain.ParseGenesis(append(append([]byte(nil), raw...), tail...)); err == nil {
			t.Errorf("genesis followed by %q accepted", tail)
		}
	}
}

// A coalition's draft genesis (loyald genesis new) lists nobody yet: ValidateDraft checks its
// rules only, Validate refuses it for having no partners, and once it lists anyone it is
// checked as a genesis.
func TestGenesisDraft(t *testing.T) {
	draft := &chain.Genesis{
		ChainID: 4242, Network: "four-shops", GenesisTime: 1_750_000_000, Params: chain.DefaultParams(),
		ProtocolVersion: chain.LatestVersion, Governance: chain.DefaultGovernance(),
	}
	if err := draft.ValidateDraft(); err != nil {
		t.Fatalf("an empty draft: %v", err)
	}
	if err := draft.Validate(); !errors.Is(err, chain.ErrBadGenesis) || err.Error() != "chain: invalid genesis: no partners" {
		t.Fatalf("an empty draft as a genesis: got %v", err)
	}
	raw, err := json.Marshal(draft)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := chain.ParseGenesisDraft(raw)
	if err != nil {
		t.Fatalf("ParseGenesisDraft: %v", err)
	}
	if parsed.Hash() != draft.Hash() {
		t.Fatal("a draft's JSON round trip changed its hash")
	}
	if _, err := chain.ParseGenesis(raw); !errors.Is(err, chain.ErrBadGenesis) {
		t.Fatalf("ParseGenesis of an empty draft: got %v", err)
	}

	cases := []struct {
		name   string
		mutate func(g *chain.Genesis)
		want   string
	}{
		{"zero chain id", func(g *chain.Genesis) { g.ChainID = 0 }, "chain: invalid genesis: chain_id must be non-zero"},
		{"no network", func(g *chain.Genesis) { g.Network = "" }, "chain: invalid genesis: network name must be 1 to 64 bytes"},
		{"no governance", func(g *chain.Genesis) { g.Governance = nil }, "chain: invalid genesis: protocol_version 3 needs a governance section"},
		{"a partner without a validator", func(g *chain.Genesis) {
			g.Partners = []chain.Partner{{Name: "acme", Address: chain.Address{1}}}
		}, "chain: invalid genesis: need 1 to 1024 validators, have 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := *draft
			c.mutate(&g)
			if err := g.ValidateDraft(); !errors.Is(err, chain.ErrBadGenesis) || err.Error() != c.want {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
	if _, err := chain.ParseGenesisDraft([]byte(`{"chain_id":7,"limitz":{}}`)); !errors.Is(err, chain.ErrBadGenesis) {
		t.Fatalf("a draft with an unknown field: got %v", err)
	}
}
