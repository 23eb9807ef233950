package node

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/chain"
)

// The decoders of the genesis ceremony, fuzzed: an entry (entry.json, ParseEntry) and a draft
// genesis (chain.ParseGenesisDraft, which genesis add reads; fuzzed here, beside the code that
// writes drafts). Each must never panic, and whatever it accepts must survive the encoding
// the ceremony writes it with: encoded again and parsed again it is equal, and encoding that
// gives the same bytes.

// fuzzKey is a fixed consensus key, so the seeds are the same on every run.
func fuzzKey(f *testing.F, seed string) chain.Validator {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("loyal node fuzz " + seed)))
	if err != nil {
		f.Fatal(err)
	}
	return newEntry(seed, chain.Address{1}, seed+"-node", k, nil).Validator
}

// seedEntries are entries as InitCoalition writes them, and near misses.
func seedEntries(f *testing.F) [][]byte {
	v := fuzzKey(f, "acme")
	good := []*Entry{
		{Version: EntryVersion, Partner: chain.Partner{Name: "acme", Address: chain.Address{1}},
			Validator: chain.Validator{Name: "acme-node", Partner: chain.Address{1}, PubKey: v.PubKey, Address: v.Address,
				Addrs: []string{"/ip4/203.0.113.11/tcp/8646"}}},
		{Version: EntryVersion, Partner: chain.Partner{Name: "Dave's Deli", Address: chain.Address{2}},
			Validator: chain.Validator{Name: "deli-2", Partner: chain.Address{2}, PubKey: v.PubKey, Address: v.Address,
				Addrs: []string{"/dns/node.deli.example/tcp/8646", "/ip6/2001:db8::1/tcp/1"}}},
		{Version: EntryVersion, Partner: chain.Partner{Name: "beta", Address: chain.Address{3}},
			Validator: chain.Validator{Name: "beta-node", Partner: chain.Address{3}, PubKey: v.PubKey, Address: v.Address}},
	}
	var out [][]byte
	for _, e := range good {
		b, err := json.MarshalIndent(e, "", "  ")
		if err != nil {
			f.Fatal(err)
		}
		if _, err := ParseEntry(b); err != nil {
			f.Fatalf("seed entry %s does not parse: %v", b, err)
		}
		out = append(out, b)
	}
	return append(out,
		[]byte(`{}`), []byte(`null`), []byte(`[]`), []byte(``),
		[]byte(`{"version":1,"version":1}`),
		[]byte(`{"Version":1,"partner":{"name":"a","address":"0x0100000000000000000000000000000000000000"}}`),
		[]byte(`{"version":1,"partner":{"name":"a\u0000","address":"0x01"},"validator":{"name":"v","partner":"0x01","pub_key":"0x","address":"0x01","multiaddrs":null}}`),
	)
}

func FuzzParseEntry(f *testing.F) {
	for _, b := range seedEntries(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseEntry(data)
		if err != nil {
			return
		}
		b, err := json.MarshalIndent(e, "", "  ") // as InitCoalition writes it
		if err != nil {
			t.Fatalf("an entry that parsed does not encode: %v\n%+v", err, e)
		}
		again, err := ParseEntry(b)
		if err != nil {
			t.Fatalf("an entry that parsed does not parse once encoded: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(again, e) {
			t.Fatalf("an entry changed through its encoding:\n%+v\n%+v", e, again)
		}
		if b2, _ := json.MarshalIndent(again, "", "  "); !bytes.Equal(b2, b) {
			t.Fatalf("an entry encodes two ways:\n%s\n%s", b, b2)
		}
	})
}

// seedDrafts are drafts as WriteDraft and AddEntries write them, a dev genesis, and near
// misses.
func seedDrafts(f *testing.F) [][]byte {
	draft, err := NewDraft(DraftOptions{ChainID: 4242, Network: "four-shops", GenesisTime: 1_750_000_000})
	if err != nil {
		f.Fatal(err)
	}
	short, err := NewDraft(DraftOptions{ChainID: 1, Network: "x", GenesisTime: 1, ProposalSeconds: 60})
	if err != nil {
		f.Fatal(err)
	}
	full, err := NewDraft(DraftOptions{ChainID: 4242, Network: "four-shops", GenesisTime: 1_750_000_000})
	if err != nil {
		f.Fatal(err)
	}
	for i, name := range []string{"acme", "beta"} {
		v := fuzzKey(f, name)
		owner := chain.Address{byte(0x10 + i)}
		v.Partner, v.Addrs = owner, []string{"/ip4/203.0.113.11/tcp/8646"}
		if _, err := addEntry(full, &Entry{Version: EntryVersion, Partner: chain.Partner{Name: name, Address: owner}, Validator: v}); err != nil {
			f.Fatal(err)
		}
	}
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("loyal node fuzz dev")))
	if err != nil {
		f.Fatal(err)
	}
	dev := DevGenesis(InitOptions{Owner: chain.Address{9}, GenesisTime: 1}, k)
	var out [][]byte
	for _, g := range []*chain.Genesis{draft, short, full, dev} {
		b, err := encodeGenesis(g)
		if err != nil {
			f.Fatal(err)
		}
		if _, err := chain.ParseGenesisDraft(b); err != nil {
			f.Fatalf("seed draft does not parse: %v\n%s", err, b)
		}
		out = append(out, b)
	}
	return append(out,
		[]byte(`{}`), []byte(`null`), []byte(`[]`), []byte(``),
		[]byte(`{"chain_id":"1","chain_id":"1"}`),
		[]byte(`{"chain_id":1,"network":"n","genesis_time":1,"partners":[],"validators":[]}`),
	)
}

func FuzzParseGenesisDraft(f *testing.F) {
	for _, b := range seedDrafts(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := chain.ParseGenesisDraft(data)
		if err != nil {
			return
		}
		b, err := encodeGenesis(g) // as WriteDraft and AddEntries write it
		if err != nil {
			t.Fatalf("a draft that parsed does not encode: %v\n%+v", err, g)
		}
		again, err := chain.ParseGenesisDraft(b)
		if err != nil {
			t.Fatalf("a draft that parsed does not parse once encoded: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(again, g) {
			t.Fatalf("a draft changed through its encoding:\n%+v\n%+v", g, again)
		}
		if again.Hash() != g.Hash() {
			t.Fatalf("a draft's hash changed through its encoding: %s, then %s", g.Hash(), again.Hash())
		}
		if b2, _ := encodeGenesis(again); !bytes.Equal(b2, b) {
			t.Fatalf("a draft encodes two ways:\n%s\n%s", b, b2)
		}
	})
}
