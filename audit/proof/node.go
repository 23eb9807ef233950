package proof

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
)

// FromNodeTx assembles the bundle of transaction id from a node's answers — its proof
// (GET /v1/proofs/tx/{hash}) and its block (GET /v1/blocks/{height}, for the certificate) —
// and checks it against the genesis g, so nothing the node said is taken on trust: a node
// that lies gets ErrBadBundle, ErrNotCertified or ErrBadPath, never a bundle.
func FromNodeTx(id chain.Hash, p api.TxProof, blk api.BlockInfo, changes []SetChange, g *chain.Genesis) (*Bundle, *Fact, error) {
	if p.Tx == nil || p.Proof == nil || p.Header == nil {
		return nil, nil, fmt.Errorf("%w: the node's proof of %s lacks its transaction, path or header", ErrBadBundle, id.Hex())
	}
	if p.Tx.Hash() != id {
		return nil, nil, fmt.Errorf("%w: the node proved transaction %s, not %s", ErrBadBundle, p.Tx.Hash().Hex(), id.Hex())
	}
	b := fromNode(KindTx, p.Header, blk, changes, g)
	b.Tx = &TxPath{Tx: p.Tx, Index: p.Proof.Index, Total: p.Proof.Total, Path: p.Proof.Path}
	return checked(b, blk, g)
}

// FromNodeAccount assembles the bundle of account a's balance in program ("" for every
// program) from a node's answers — its proof (GET /v1/proofs/account/{address}) and the
// proof's block (GET /v1/blocks/{height}, for the certificate) — and checks it against the
// genesis g, as FromNodeTx does. The record proven is a's whatever the node says it proved.
func FromNodeAccount(a chain.Address, program string, p api.AccountProof, blk api.BlockInfo, changes []SetChange, g *chain.Genesis) (*Bundle, *Fact, error) {
	if p.Proof == nil || p.Header == nil {
		return nil, nil, fmt.Errorf("%w: the node's proof of %s lacks its path or header", ErrBadBundle, a.Hex())
	}
	b := fromNode(KindAccount, p.Header, blk, changes, g)
	b.Account = &AccountPath{Address: a, Program: program, Key: chain.AccountKey(a), Proof: p.Proof.Proof}
	if p.Proof.Value != nil {
		v := hexutil.Bytes(p.Proof.Value)
		b.Account.Value = &v
	}
	return checked(b, blk, g)
}

// fromNode starts a bundle at header h, with blk's certificate and the set changes below h,
// for the network of g.
func fromNode(kind Kind, h *chain.Header, blk api.BlockInfo, changes []SetChange, g *chain.Genesis) *Bundle {
	b := &Bundle{Format: Format, Version: Version, Kind: kind, Genesis: g.Hash(), ChainID: g.ChainID, Header: *h}
	for _, c := range changes {
		if c.Header.Height <= h.Height {
			b.SetChanges = append(b.SetChanges, c)
		}
	}
	if blk.Commit != nil {
		b.Certificate = *blk.Commit
	}
	return b
}

// SetChangeFromNode is the set change whose new set is in force from height from, out of a
// node's answers: the block before (GET /v1/blocks/{from-1}, with its certificate) and the
// set at from (GET /v1/validators?height=from). Nothing is trusted: Check verifies it.
func SetChangeFromNode(from uint64, blk api.BlockInfo, vals api.Validators) (SetChange, error) {
	if blk.Block == nil || blk.Commit == nil || blk.Block.Header.Height+1 != from || vals.Height != from {
		return SetChange{}, fmt.Errorf("%w: the node's answers for the set change at %d are not of block %d and its certificate", ErrBadBundle, from, from-1)
	}
	return SetChange{Header: blk.Block.Header, Certificate: *blk.Commit, Validators: vals.Set.Validators}, nil
}

// checked returns b and its fact if b checks against g.
func checked(b *Bundle, blk api.BlockInfo, g *chain.Genesis) (*Bundle, *Fact, error) {
	if blk.Commit == nil {
		return nil, nil, fmt.Errorf("%w: the node serves no certificate for block %d", ErrNotCertified, b.Header.Height)
	}
	f, err := Check(b, g)
	if err != nil {
		return nil, nil, err
	}
	return b, f, nil
}
