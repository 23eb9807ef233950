package main

import (
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node"
)

// Names that try to forge lines of the ceremony's output: a carriage return and an erase
// sequence that would overwrite the hash line on a terminal, a line feed that would add a
// validator, an operating-system command that would retitle the window.
const (
	forgedPartner   = "acme\r\x1b[2Kgenesis hash  0x" + "ee"
	forgedValidator = "beta-node\n  rogue-node  of acme"
	forgedNetwork   = "four-shops\x1b]0;owned\x07"
	forgedAddr      = "/ip4/203.0.113.12/tcp/8646\r/ip4/198.51.100.66/tcp/8646"
)

// genesis check prints every name and address a genesis holds with control characters
// escaped, each validator with its partner, address and public key, and the hash second.
func TestPrintSummaryEscapesNames(t *testing.T) {
	acme, beta := chain.Address{0xa1}, chain.Address{0xb1}
	pub := hexutil.Bytes{0x02, 0x11, 0x22}
	s := node.GenesisSummary{
		Hash: chain.Hash{0xff}, ChainID: 4242, Network: forgedNetwork, GenesisTime: 1_767_225_600,
		ProtocolVersion: chain.Version2, ProposalSeconds: 604_800,
		Partners: []chain.Partner{{Name: forgedPartner, Address: acme}, {Name: "beta", Address: beta}},
		Validators: []chain.Validator{
			{Name: "acme-node", Partner: acme, PubKey: pub, Address: chain.Address{0xa2}, Addrs: []string{"/ip4/203.0.113.11/tcp/8646"}},
			{Name: forgedValidator, Partner: beta, PubKey: pub, Address: chain.Address{0xb2}, Addrs: []string{forgedAddr, "/dns/b.example/tcp/1"}},
		},
		Programs: []string{"ACME"},
	}
	var out strings.Builder
	printSummary(&out, "genesis.json", s)
	want := `genesis.json is a valid genesis
genesis hash  0xff00000000000000000000000000000000000000000000000000000000000000
chain id      4242
network       "four-shops\x1b]0;owned\a"
genesis time  1767225600 (2026-01-01T00:00:00Z)
protocol      version 2, governance proposals open 604800 s
partners      2
  "acme\r\x1b[2Kgenesis hash  0xee"  owner 0xA100000000000000000000000000000000000000
  beta  owner 0xB100000000000000000000000000000000000000
validators    2
  acme-node  of "acme\r\x1b[2Kgenesis hash  0xee" 0xA100000000000000000000000000000000000000
    address     0xA200000000000000000000000000000000000000
    public key  0x021122
    reachable   /ip4/203.0.113.11/tcp/8646
  "beta-node\n  rogue-node  of acme"  of beta 0xB100000000000000000000000000000000000000
    address     0xB200000000000000000000000000000000000000
    public key  0x021122
    reachable   "/ip4/203.0.113.12/tcp/8646\r/ip4/198.51.100.66/tcp/8646" /dns/b.example/tcp/1
programs      ACME
before installing it: compare this genesis hash with every other partner's, and check that every partner
and validator above is one you expect (yours with the address and public key your entry.json gives)
`
	if got := out.String(); got != want {
		t.Fatalf("printed:\n%s\nwant:\n%s", got, want)
	}
}

// genesis add prints the partners and validators it added with control characters escaped,
// the entry files' names too.
func TestPrintAddedEscapesNames(t *testing.T) {
	acme := chain.Partner{Name: forgedPartner, Address: chain.Address{0xa1}}
	added := []node.Added{
		{File: "acme.json", Partner: acme, NewPartner: true, Validator: chain.Validator{Name: forgedValidator, Address: chain.Address{0xa2}}},
		{File: "acme\r2.json", Partner: acme, Validator: chain.Validator{Name: "acme-2", Address: chain.Address{0xa3}}},
	}
	g := &chain.Genesis{Partners: []chain.Partner{acme}, Validators: []chain.Validator{added[0].Validator, added[1].Validator}}
	var out strings.Builder
	printAdded(&out, "genesis.json", added, g)
	want := `added partner "acme\r\x1b[2Kgenesis hash  0xee" 0xA100000000000000000000000000000000000000 and its validator "beta-node\n  rogue-node  of acme" 0xA200000000000000000000000000000000000000 (acme.json)
added validator acme-2 0xa300000000000000000000000000000000000000 of partner "acme\r\x1b[2Kgenesis hash  0xee" ("acme\r2.json")
genesis.json: 1 partners, 2 validators; check it with: loyald genesis check genesis.json
`
	if got := out.String(); got != want {
		t.Fatalf("printed:\n%s\nwant:\n%s", got, want)
	}
}
