package proof

import (
	"context"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/loyal-ledger/loyal/audit/verify"
	"github.com/loyal-ledger/loyal/chain"
)

// Request names the fact a bundle is to prove: a transaction, or an account's balance in a
// program (or in all of them) as of a height.
type Request struct {
	Tx      chain.Hash    // a transaction, by id; or
	Account chain.Address // an account,
	Program string        // its balance in this program ("": every program it holds),
	Height  uint64        // after this block (0: the last one)
}

// check refuses a request that names neither or both kinds of fact.
func (r Request) check() error {
	tx, account := r.Tx != (chain.Hash{}), r.Account != (chain.Address{})
	switch {
	case tx == account:
		return errors.New("proof: name a transaction or an account, not both or neither")
	case tx && (r.Program != "" || r.Height != 0):
		return errors.New("proof: a transaction's proof takes no program and no height: it is at its block")
	case r.Program != "" && !chain.ValidSymbol(r.Program):
		return fmt.Errorf("proof: %w: %q", chain.ErrBadSymbol, r.Program)
	}
	return nil
}

// Builder builds a bundle from a verification of the chain from genesis (verify.Verify), so
// that a bundle at a past height comes from the chain re-executed up to it, by the one
// execution the auditor already trusts. Give Verify the Builder's Options, then hand its
// result to Bundle:
//
//	b, err := proof.NewBuilder(proof.Request{Account: a, Program: "ACME", Height: 120})
//	rep, err := verify.Verify(ctx, src, b.Options(verify.Options{Genesis: trusted}))
//	bundle, err := b.Bundle(rep, err)
//
// An account's bundle verifies up to its height (the chain's end without one); a
// transaction's stops once the block after the transaction's has passed, whose carried
// certificate is the canonical one of the transaction's block. A Builder serves one
// verification; its methods are for Verify's goroutine.
type Builder struct {
	req    Request
	header *chain.Header // of the block the fact is at
	cert   *chain.Commit // a transaction's block's, carried by the next block
	tx     *TxPath
	acct   *AccountPath
	// changes are the validator-set changes the verifier has checked (verify.Observed).
	changes []SetChange
}

// errStop ends a verification early: a transaction's bundle is complete.
var errStop = errors.New("proof: the bundle is complete")

// NewBuilder starts the bundle of the fact r names.
func NewBuilder(r Request) (*Builder, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	return &Builder{req: r}, nil
}

// Options returns o set to build the bundle: StopAt the account's height, and an Observe
// that records the fact (o's own Observe, if any, is called first).
func (b *Builder) Options(o verify.Options) verify.Options {
	if b.req.Account != (chain.Address{}) {
		o.StopAt = b.req.Height
	}
	next := o.Observe
	o.Observe = func(ob *verify.Observed) error {
		if next != nil {
			if err := next(ob); err != nil {
				return err
			}
		}
		return b.observe(ob)
	}
	return o
}

// observe records what the bundle needs from a verified block.
func (b *Builder) observe(ob *verify.Observed) error {
	h := ob.Block.Header
	b.changes = ob.SetChanges // Bundle keeps those at or below the fact's block
	if b.req.Account != (chain.Address{}) {
		if b.req.Height != 0 && h.Height != b.req.Height {
			return nil
		}
		// Without a height every block is proven, the last one kept: the verifier knows
		// the chain's end only once it is there, and a proof costs a path's copy.
		p, err := ob.Prove(chain.AccountKey(b.req.Account))
		if err != nil {
			return err
		}
		b.header = &h
		b.acct = &AccountPath{Address: b.req.Account, Program: b.req.Program, Key: p.Key, Proof: p.Proof}
		if p.Value != nil {
			v := hexutil.Bytes(p.Value)
			b.acct.Value = &v
		}
		return nil
	}
	if b.header != nil { // the block after the transaction's: its certificate passed
		b.cert = ob.Block.LastCommit
		return errStop
	}
	for i, tx := range ob.Block.Txs {
		if tx.Hash() != b.req.Tx {
			continue
		}
		p, err := chain.ProveTx(ob.Block.Txs, i)
		if err != nil {
			return err
		}
		b.header = &h
		b.tx = &TxPath{Tx: tx, Index: p.Index, Total: p.Total, Path: p.Path}
		return nil
	}
	return nil
}

// Bundle assembles the bundle from the verification's result: its report and error, as
// Verify returned them. A verification that failed is no ground for a proof: its error is
// returned as it is. A chain without the fact is ErrNotFound.
func (b *Builder) Bundle(rep *verify.Report, err error) (*Bundle, error) {
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	if rep == nil {
		return nil, errors.New("proof: no verification report")
	}
	if b.header == nil {
		if b.tx == nil && b.req.Tx != (chain.Hash{}) {
			return nil, fmt.Errorf("%w: transaction %s is in none of the %d blocks", ErrNotFound, b.req.Tx.Hex(), rep.Height)
		}
		return nil, fmt.Errorf("%w: the chain has no block to prove against", ErrNotFound)
	}
	cert := b.cert
	if cert == nil { // the fact is at the last block verified
		cert = rep.Certificate
	}
	if cert == nil || rep.Height < b.header.Height {
		return nil, fmt.Errorf("%w: no certificate of block %d", ErrNotFound, b.header.Height)
	}
	out := &Bundle{
		Format: Format, Version: Version, Genesis: rep.Genesis, ChainID: b.header.ChainID,
		Header: *b.header, Certificate: *cert, Tx: b.tx, Account: b.acct,
	}
	for _, c := range b.changes {
		if c.Header.Height > b.header.Height {
			break
		}
		if c.Header.Height == b.header.Height { // the fact's own block commits to a new set
			c.Certificate = *cert
		}
		out.SetChanges = append(out.SetChanges, c)
	}
	if b.tx != nil {
		out.Kind = KindTx
	} else {
		out.Kind = KindAccount
	}
	return out, nil
}

// Build verifies src from genesis as far as the fact r names needs and returns its bundle,
// with the verification's report (Builder does the work; this is it in one call). The
// bundle is checked against the chain's own genesis before it is returned.
func Build(ctx context.Context, src verify.Source, r Request, o verify.Options) (*Bundle, *verify.Report, error) {
	b, err := NewBuilder(r)
	if err != nil {
		return nil, nil, err
	}
	rep, err := verify.Verify(ctx, src, b.Options(o))
	bundle, err := b.Bundle(rep, err)
	if err != nil {
		return nil, rep, err
	}
	if _, err := Check(bundle, src.Genesis()); err != nil {
		return nil, rep, fmt.Errorf("proof: the bundle built does not check: %w", err)
	}
	return bundle, rep, nil
}
