package proof_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/audit/internal/testchain"
	"github.com/loyal-ledger/loyal/audit/proof"
	"github.com/loyal-ledger/loyal/chain"
)

// nodeBlock is what GET /v1/blocks/{height} serves for c's block at height: the canonical
// certificate below the head, the gathered one at the head.
func nodeBlock(c *testchain.Chain, height uint64) api.BlockInfo {
	blk := c.Blocks[height-1]
	bi := api.BlockInfo{Hash: blk.Hash(), Block: blk, Commit: c.Final}
	if height < uint64(len(c.Blocks)) {
		bi.Commit, bi.Canonical = c.Blocks[height].LastCommit, true
	}
	return bi
}

// A node's proof answers make the same bundles as the chain verified from genesis — once
// checked against the genesis — and a node that lies in any part gets no bundle.
func TestBundlesFromANode(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 2})
	raw := exportOf(t, c)
	l := c.Ledger

	id := c.Blocks[3].Txs[1].Hash()
	tp, header, err := l.TxProof(id)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := l.Block(header.Height)
	if err != nil {
		t.Fatal(err)
	}
	answer := api.TxProof{Tx: blk.Txs[tp.Index], Proof: tp, Header: header}
	b, f, err := proof.FromNodeTx(id, answer, nodeBlock(c, header.Height), nil, c.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	want := mustBuild(t, raw, proof.Request{Tx: id})
	if got, _ := b.Encode(); !slices.Equal(got, must(want.Encode())) || f.Tx.Hash != id {
		t.Fatalf("the node's bundle differs from the verified chain's:\n%s\n%s", got, must(want.Encode()))
	}

	a := testchain.Addr(c.Keys["c3"])
	sp, err := l.ProveAccount(a)
	if err != nil {
		t.Fatal(err)
	}
	head := c.Blocks[len(c.Blocks)-1]
	accAnswer := api.AccountProof{Address: a, Proof: sp, Header: &head.Header}
	b, f, err = proof.FromNodeAccount(a, "BETA", accAnswer, nodeBlock(c, head.Header.Height), nil, c.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	want = mustBuild(t, raw, proof.Request{Account: a, Program: "BETA"})
	if got, _ := b.Encode(); !slices.Equal(got, must(want.Encode())) || f.Account.Address != a {
		t.Fatalf("the node's account bundle differs from the verified chain's:\n%s\n%s", got, must(want.Encode()))
	}

	// Lies.
	other := c.Blocks[3].Txs[0].Hash()
	if _, _, err := proof.FromNodeTx(other, answer, nodeBlock(c, header.Height), nil, c.Genesis); !errors.Is(err, proof.ErrBadBundle) {
		t.Errorf("a proof of another transaction: %v", err)
	}
	if _, _, err := proof.FromNodeTx(id, answer, nodeBlock(c, header.Height+1), nil, c.Genesis); !errors.Is(err, proof.ErrNotCertified) {
		t.Errorf("another block's certificate: %v", err)
	}
	noCert := nodeBlock(c, header.Height)
	noCert.Commit = nil
	if _, _, err := proof.FromNodeTx(id, answer, noCert, nil, c.Genesis); !errors.Is(err, proof.ErrNotCertified) {
		t.Errorf("no certificate: %v", err)
	}
	if _, _, err := proof.FromNodeTx(id, api.TxProof{Tx: answer.Tx, Proof: tp}, noCert, nil, c.Genesis); !errors.Is(err, proof.ErrBadBundle) {
		t.Errorf("no header: %v", err)
	}
	stranger := chain.Address{0xab}
	if _, _, err := proof.FromNodeAccount(stranger, "", accAnswer, nodeBlock(c, head.Header.Height), nil, c.Genesis); !errors.Is(err, proof.ErrBadPath) {
		t.Errorf("c3's record passed off as a stranger's: %v", err)
	}
	lying := *sp
	lying.Value = slices.Clone(sp.Value)
	lying.Value[len(lying.Value)-1] ^= 1
	accAnswer.Proof = &lying
	if _, _, err := proof.FromNodeAccount(a, "", accAnswer, nodeBlock(c, head.Header.Height), nil, c.Genesis); !errors.Is(err, proof.ErrBadPath) {
		t.Errorf("an altered record: %v", err)
	}
	other2, _ := otherNetwork(t, c.Genesis, 99)
	accAnswer.Proof = sp
	if _, _, err := proof.FromNodeAccount(a, "", accAnswer, nodeBlock(c, head.Header.Height), nil, other2); !errors.Is(err, proof.ErrWrongNetwork) {
		t.Errorf("a node of another network: %v", err)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
