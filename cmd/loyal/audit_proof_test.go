package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/chain"
)

// The proof commands' mistakes are usage errors, caught before any chain is read or any
// node asked; a bundle that is not one fails with one line. (e2e/proof_test.go runs them on
// a real chain.)
func TestAuditProofUsage(t *testing.T) {
	to := "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
	hash := "0x" + "ab"
	for len(hash) < 66 {
		hash += "cd"
	}
	ks := t.TempDir()
	for _, tt := range []struct {
		msg  string
		args []string
	}{
		{"audit proof: name one fact", []string{"audit", "proof", "--file", "x"}},
		{"audit proof: name one fact", []string{"audit", "proof", "--tx", hash, "--account", to}},
		{"--program and --height go with --account", []string{"audit", "proof", "--tx", hash, "--height", "3"}},
		{"--height must be a block height", []string{"audit", "proof", "--account", to, "--height", "0"}},
		{`--program: "a-b" is not a program symbol`, []string{"audit", "proof", "--account", to, "--program", "a-b"}},
		{`--tx: wallet: invalid hash "0x12"`, []string{"audit", "proof", "--tx", "0x12"}},
		{"audit proof: missing --genesis", []string{"audit", "proof", "--tx", hash}},
		{"audit check-proof: missing --genesis", []string{"audit", "check-proof", "b.json"}},
		{"usage: loyal audit check-proof FILE", []string{"audit", "check-proof"}},
		{"balance: --program goes with --prove", []string{"balance", to, "--program", "ACME"}},
		{"balance: missing --genesis", []string{"balance", to, "--prove"}},
	} {
		failsWith(t, 2, tt.msg, append(tt.args, "--keystore", ks)...)
	}

	g := genesisFile(t)
	failsWith(t, 1, "invalid genesis", "audit", "check-proof", "b.json", "--genesis", writeFile(t, "g.json", "{}"))
	failsWith(t, 1, "not a well-formed proof bundle: format", "audit", "check-proof", writeFile(t, "b.json", "{}"), "--genesis", g)
	failsWith(t, 1, "version 9, this build reads version 1", "audit", "check-proof", writeFile(t, "b.json", `{"format":"loyal-proof","version":9}`), "--genesis", g)
	failsWith(t, 1, "no such file", "audit", "check-proof", filepath.Join(t.TempDir(), "none.json"), "--genesis", g)
}

// genesisFile writes a valid one-validator genesis.
func genesisFile(t *testing.T) string {
	t.Helper()
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	partner := chain.Address{1}
	g := chain.Genesis{
		ChainID: 7, Network: "cli-test", Partners: []chain.Partner{{Name: "p", Address: partner}}, Params: chain.DefaultParams(),
		Validators: []chain.Validator{{Name: "v", Partner: partner, PubKey: crypto.CompressPubkey(&k.PublicKey), Address: crypto.PubkeyToAddress(k.PublicKey)}},
	}
	raw, err := json.Marshal(&g)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.ParseGenesis(raw); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "genesis.json")
	if err := os.WriteFile(p, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
