package proof

import (
	"errors"
	"fmt"

	"github.com/loyal-ledger/loyal/chain"
)

// Check verifies a bundle with the genesis g alone and returns the fact it proves:
//
//  1. the bundle names g's hash and chain id, and its header g's chain id (ErrWrongNetwork);
//  2. its certificate certifies exactly the header's hash at the header's height, with
//     distinct, valid precommit signatures of more than two thirds of the validators in
//     force at that height (ErrNotCertified): genesis's, or on a chain whose set changed,
//     those the bundle's set changes lead to, each change a header certified by the set
//     before it that commits to the set after it (ErrNotCertified, ErrBadBundle);
//  3. its path leads from the fact to the header's tx root or state root (ErrBadPath).
//
// Anything else wrong with the bundle is ErrBadBundle. What a passing bundle proves, and
// what it does not, is in docs/proofs.md: in short, that validators holding the consensus
// keys g names signed, at g's chain id, a block whose header holds the fact.
func Check(b *Bundle, g *chain.Genesis) (*Fact, error) {
	if b == nil || g == nil {
		return nil, fmt.Errorf("%w: no bundle or no genesis", ErrBadBundle)
	}
	if b.Format != Format || b.Version != Version {
		return nil, fmt.Errorf("%w: format %q version %d, want %q version %d", ErrBadBundle, b.Format, b.Version, Format, Version)
	}
	if (b.Kind == KindTx) != (b.Tx != nil) || (b.Kind == KindAccount) != (b.Account != nil) || (b.Tx != nil) == (b.Account != nil) {
		return nil, fmt.Errorf("%w: kind %q with a tx part %t and an account part %t", ErrBadBundle, b.Kind, b.Tx != nil, b.Account != nil)
	}
	genesis := g.Hash()
	switch {
	case b.Genesis != genesis:
		return nil, fmt.Errorf("%w: the bundle's genesis is %s, the trusted one %s", ErrWrongNetwork, b.Genesis.Hex(), genesis.Hex())
	case b.ChainID != g.ChainID || b.Header.ChainID != g.ChainID:
		return nil, fmt.Errorf("%w: chain id %d (header %d), the genesis's is %d", ErrWrongNetwork, b.ChainID, b.Header.ChainID, g.ChainID)
	case b.Header.Height == 0:
		return nil, fmt.Errorf("%w: height 0 is the genesis, not a block", ErrBadBundle)
	}
	h := &b.Header
	hash := h.Hash()
	schedule, err := followChanges(b, g)
	if err != nil {
		return nil, err
	}
	rules := schedule.At(h.Height)
	if err := chain.VerifyCommit(rules.ChainID, rules.Validators, h.Height, hash, &b.Certificate); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotCertified, err)
	}
	if rules.Version >= chain.Version3 {
		// The header commits to the next set: the changes must lead to it, so none at or
		// below the header can be left out, even one a stale set's quorum could still sign
		// past (a removal's remaining validators are a quorum of the set before it).
		if next := chain.ValidatorSetHash(schedule.At(h.Height + 1).Validators); h.NextValidators != next {
			return nil, fmt.Errorf("%w: block %d commits to the validator set %s, the bundle's changes lead to %s", ErrBadBundle, h.Height, h.NextValidators.Hex(), next.Hex())
		}
	}
	f := &Fact{
		Kind: b.Kind, Genesis: genesis, ChainID: g.ChainID, Height: h.Height, BlockHash: hash, Time: h.Time,
		Certified: Certified{Round: b.Certificate.Round, Validators: len(rules.Validators), Signers: signers(rules, &b.Certificate)},
	}
	if b.Tx != nil {
		f.Tx, err = checkTx(b.Tx, h, chain.NewSigner(g.ChainID, genesis))
	} else {
		f.Account, err = checkAccount(b.Account, h)
	}
	if err != nil {
		return nil, err
	}
	f.state()
	return f, nil
}

// followChanges builds the schedule of validator sets the bundle's set changes lead to from
// g's (chain.FollowSetChanges), naming its failures as a bundle's: a change of another chain
// is ErrWrongNetwork, one whose certificate fails ErrNotCertified, anything else ErrBadBundle.
func followChanges(b *Bundle, g *chain.Genesis) (*chain.Schedule, error) {
	s, err := chain.FollowSetChanges(g, b.SetChanges, b.Header.Height)
	switch {
	case err == nil:
		return s, nil
	case errors.Is(err, chain.ErrWrongChainID):
		return nil, fmt.Errorf("%w: %w", ErrWrongNetwork, err)
	case errors.Is(err, chain.ErrBadCertificate):
		return nil, fmt.Errorf("%w: %w", ErrNotCertified, err)
	}
	return nil, fmt.Errorf("%w: %w", ErrBadBundle, err)
}

// signers names the validators whose precommits are in c (which VerifyCommit passed).
func signers(rules *chain.Rules, c *chain.Commit) []Signer {
	out := make([]Signer, len(c.Sigs))
	for i, s := range c.Sigs {
		out[i] = Signer{Name: rules.Validators[rules.ValidatorIndex(s.Validator)].Name, Address: s.Validator}
	}
	return out
}

// checkTx verifies a transaction's path to h's tx root and recovers its sender.
func checkTx(p *TxPath, h *chain.Header, s *chain.Signer) (*TxFact, error) {
	if p.Tx == nil {
		return nil, fmt.Errorf("%w: the tx part holds no transaction", ErrBadBundle)
	}
	id := p.Tx.Hash()
	proof := chain.TxProof{TxHash: id, Index: p.Index, Total: p.Total, Path: p.Path}
	if err := proof.Verify(h); err != nil {
		return nil, fmt.Errorf("%w: transaction %s in block %d: %w", ErrBadPath, id.Hex(), h.Height, err)
	}
	// A transaction of a certified block was checked by every honest validator, its
	// signature first: one that does not recover under this genesis's domain cannot be there.
	sender, err := s.Sender(p.Tx)
	if err != nil {
		return nil, fmt.Errorf("%w: transaction %s: %w", ErrBadBundle, id.Hex(), err)
	}
	return &TxFact{Hash: id, Kind: p.Tx.Kind().String(), Sender: sender, Index: p.Index, Total: p.Total}, nil
}

// checkAccount verifies an account record's (or its absence's) path to h's state root and
// reads its balances on h's day.
func checkAccount(p *AccountPath, h *chain.Header) (*AccountFact, error) {
	if key := chain.AccountKey(p.Address); string(p.Key) != string(key) {
		return nil, fmt.Errorf("%w: key %x is not the account key of %s", ErrBadBundle, []byte(p.Key), p.Address.Hex())
	}
	if p.Program != "" && !chain.ValidSymbol(p.Program) {
		return nil, fmt.Errorf("%w: program %q", ErrBadBundle, p.Program)
	}
	sp := chain.StateProof{Height: h.Height, StateRoot: h.StateRoot, Key: p.Key, Proof: p.Proof}
	if p.Value != nil {
		sp.Value = *p.Value
		if sp.Value == nil { // "0x": a record of no bytes, which no state holds
			sp.Value = []byte{}
		}
	}
	if err := sp.Verify(h); err != nil {
		return nil, fmt.Errorf("%w: account %s at height %d: %w", ErrBadPath, p.Address.Hex(), h.Height, err)
	}
	f := &AccountFact{Address: p.Address, Program: p.Program, Holdings: []Holding{}}
	acc := &chain.Account{}
	if sp.Value != nil {
		var err error
		if acc, err = chain.DecodeAccount(sp.Value); err != nil {
			return nil, fmt.Errorf("%w: the proven record of %s: %w", ErrBadBundle, p.Address.Hex(), err)
		}
		f.Exists, f.Nonce = true, acc.Nonce
	}
	today := chain.DayOf(h.Time)
	holding := func(program string, b *chain.Balance) Holding {
		if b == nil {
			return Holding{Program: program}
		}
		return Holding{Program: program, Available: b.Available(today), Pending: b.Pending(today), Total: b.Total(today)}
	}
	if p.Program != "" {
		f.Holdings = append(f.Holdings, holding(p.Program, acc.Balance(p.Program)))
		return f, nil
	}
	for i := range acc.Holdings {
		f.Holdings = append(f.Holdings, holding(acc.Holdings[i].Program, &acc.Holdings[i].Balance))
	}
	return f, nil
}
