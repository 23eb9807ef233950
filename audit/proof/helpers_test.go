package proof_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"fmt"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/audit/export"
	"github.com/loyal-ledger/loyal/audit/internal/testchain"
	"github.com/loyal-ledger/loyal/audit/proof"
	"github.com/loyal-ledger/loyal/audit/verify"
	"github.com/loyal-ledger/loyal/chain"
)

// exportOf writes c whole, with the final certificate c gathered.
func exportOf(t testing.TB, c *testchain.Chain) []byte { return c.Export(t) }

// build builds the bundle r names from the export raw.
func build(t testing.TB, raw []byte, r proof.Request) (*proof.Bundle, error) {
	t.Helper()
	src, err := export.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := proof.Build(context.Background(), src, r, verify.Options{})
	return b, err
}

// mustBuild builds a bundle that must check against c's genesis.
func mustBuild(t testing.TB, raw []byte, r proof.Request) *proof.Bundle {
	t.Helper()
	b, err := build(t, raw, r)
	if err != nil {
		t.Fatalf("building %+v: %v", r, err)
	}
	return b
}

// clone deep-copies a bundle through its file form, so a test may alter it.
func clone(t testing.TB, b *proof.Bundle) *proof.Bundle {
	t.Helper()
	data, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	out, err := proof.Parse(data)
	if err != nil {
		t.Fatalf("a bundle does not parse back: %v\n%s", err, data)
	}
	return out
}

// validatorKeys are testchain's validators' consensus keys, in genesis order.
func validatorKeys(t testing.TB) []*ecdsa.PrivateKey {
	var keys []*ecdsa.PrivateKey
	for i := range 4 {
		keys = append(keys, testchain.Key(t, fmt.Sprintf("validator %d", i)))
	}
	return keys
}

// certify signs precommits of h with keys, which must be in their genesis order.
func certify(t testing.TB, chainID uint64, h *chain.Header, round uint32, keys ...*ecdsa.PrivateKey) chain.Commit {
	t.Helper()
	c := chain.Commit{Height: h.Height, Round: round, BlockHash: h.Hash()}
	for _, k := range keys {
		sig, err := chain.SignVote(k, chain.VoteDigest(chainID, chain.Precommit, h.Height, round, c.BlockHash))
		if err != nil {
			t.Fatal(err)
		}
		c.Sigs = append(c.Sigs, chain.CommitSig{Validator: crypto.PubkeyToAddress(k.PublicKey), Sig: sig})
	}
	return c
}

// otherNetwork is a genesis like g's with a validator set of other keys (and another name):
// another coalition's network.
func otherNetwork(t testing.TB, g *chain.Genesis, chainID uint64) (*chain.Genesis, []*ecdsa.PrivateKey) {
	t.Helper()
	o := *g
	o.ChainID, o.Network = chainID, "another-coalition"
	o.Validators = nil
	var keys []*ecdsa.PrivateKey
	for i := range 4 {
		k := testchain.Key(t, fmt.Sprintf("other validator %d", i))
		keys = append(keys, k)
		v := g.Validators[i]
		v.PubKey, v.Address = crypto.CompressPubkey(&k.PublicKey), crypto.PubkeyToAddress(k.PublicKey)
		o.Validators = append(o.Validators, v)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	return &o, keys
}
