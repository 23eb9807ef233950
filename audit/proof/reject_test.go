package proof_test

import (
	"crypto/ecdsa"
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/loyal-ledger/loyal/audit/internal/testchain"
	"github.com/loyal-ledger/loyal/audit/proof"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/smt"
)

// Each way of altering a bundle is refused, with the code that names what failed: a byte of
// the value, of the path, of a header field, of a certificate signature; a certificate short
// of two thirds; another network's bundle.
func TestAlteredBundlesAreRefused(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 3})
	raw := exportOf(t, c)
	txb := mustBuild(t, raw, proof.Request{Tx: c.Blocks[5].Txs[0].Hash()})
	accb := mustBuild(t, raw, proof.Request{Account: testchain.Addr(c.Keys["c2"]), Program: "BETA", Height: 6})
	absent := mustBuild(t, raw, proof.Request{Account: chain.Address{0xee}, Program: "ACME"})
	if len(txb.Tx.Path) == 0 || accb.Account.Value == nil || len(accb.Account.Proof.Siblings) == 0 || absent.Account.Value != nil {
		t.Fatal("the bundles to alter lack a path or a value")
	}
	keys := validatorKeys(t)
	other, otherKeys := otherNetwork(t, c.Genesis, c.Genesis.ChainID+1)

	tests := []struct {
		name  string
		base  *proof.Bundle
		alter func(b *proof.Bundle)
		want  error
	}{
		// The fact and its path.
		{"tx: a byte of the transaction", txb, func(b *proof.Bundle) {
			tr := b.Tx.Tx.Payload.(*chain.Transfer)
			b.Tx.Tx = chain.NewTx(b.Tx.Tx.ChainID, b.Tx.Tx.Nonce, b.Tx.Tx.ValidUntil, &chain.Transfer{Program: tr.Program, To: tr.To, Amount: tr.Amount + 1, Memo: tr.Memo})
		}, proof.ErrBadPath},
		{"tx: a byte of the path", txb, func(b *proof.Bundle) { b.Tx.Path[0][7] ^= 1 }, proof.ErrBadPath},
		{"tx: a path one sibling short", txb, func(b *proof.Bundle) { b.Tx.Path = b.Tx.Path[1:] }, proof.ErrBadPath},
		{"tx: another index", txb, func(b *proof.Bundle) { b.Tx.Index ^= 1 }, proof.ErrBadPath},
		{"account: a byte of the value", accb, func(b *proof.Bundle) { (*b.Account.Value)[len(*b.Account.Value)-1] ^= 1 }, proof.ErrBadPath},
		{"account: the value dropped (a claim of absence)", accb, func(b *proof.Bundle) { b.Account.Value = nil }, proof.ErrBadPath},
		{"account: a value for an absent account", absent, func(b *proof.Bundle) { v := hexutil.Bytes((&chain.Account{Nonce: 1}).Encode()); b.Account.Value = &v }, proof.ErrBadPath},
		{"account: a byte of the path", accb, func(b *proof.Bundle) { b.Account.Proof.Siblings[0][0] ^= 0x80 }, proof.ErrBadPath},
		{"account: another address", accb, func(b *proof.Bundle) { b.Account.Address[0] ^= 1 }, proof.ErrBadBundle},
		{"account: another address and its key", accb, func(b *proof.Bundle) {
			b.Account.Address = testchain.Addr(c.Keys["c3"])
			b.Account.Key = chain.AccountKey(b.Account.Address)
		}, proof.ErrBadPath},
		{"account: a bad program symbol", accb, func(b *proof.Bundle) { b.Account.Program = "beta" }, proof.ErrBadBundle},
		// The header: any field changes its hash, which the certificate no longer signs.
		{"header: state root", accb, func(b *proof.Bundle) { b.Header.StateRoot[31] ^= 1 }, proof.ErrNotCertified},
		{"header: tx root", txb, func(b *proof.Bundle) { b.Header.TxRoot[0] ^= 1 }, proof.ErrNotCertified},
		{"header: time", accb, func(b *proof.Bundle) { b.Header.Time++ }, proof.ErrNotCertified},
		{"header: height", accb, func(b *proof.Bundle) { b.Header.Height++ }, proof.ErrNotCertified},
		{"header: zero height", accb, func(b *proof.Bundle) { b.Header.Height = 0 }, proof.ErrBadBundle},
		// The certificate.
		{"certificate: a byte of a signature", txb, func(b *proof.Bundle) { b.Certificate.Sigs[1].Sig[5] ^= 1 }, proof.ErrNotCertified},
		{"certificate: another round", txb, func(b *proof.Bundle) { b.Certificate.Round++ }, proof.ErrNotCertified},
		{"certificate: a signature dropped", accb, func(b *proof.Bundle) { b.Certificate.Sigs = b.Certificate.Sigs[1:] }, proof.ErrNotCertified},
		{"certificate: a signature twice", accb, func(b *proof.Bundle) {
			b.Certificate.Sigs = append(b.Certificate.Sigs[:2:2], b.Certificate.Sigs[1])
		}, proof.ErrNotCertified},
		{"certificate: of another block", accb, func(b *proof.Bundle) { b.Certificate = *c.Blocks[7].LastCommit }, proof.ErrNotCertified},
		{"certificate: none", accb, func(b *proof.Bundle) { b.Certificate = chain.Commit{} }, proof.ErrNotCertified},
		// Short of two thirds, consistently: the header rewritten to a false state root
		// with a path to it, and signed afresh by two of the four validators' own keys —
		// every signature valid, nothing left to catch but the count.
		{"certificate: two of four validators sign a rewritten header", accb, func(b *proof.Bundle) {
			forge(t, b)
			b.Certificate = certify(t, c.Genesis.ChainID, &b.Header, 0, keys[0], keys[2])
		}, proof.ErrNotCertified},
		// Another network: other validators, another genesis, another chain id. Its own
		// bundle, valid there (TestAnotherNetworksBundle checks), is refused here whether it
		// names its genesis or ours.
		{"another network's bundle", accb, func(b *proof.Bundle) { anotherNetwork(t, b, other, otherKeys) }, proof.ErrWrongNetwork},
		{"another network's bundle naming our genesis", accb, func(b *proof.Bundle) {
			anotherNetwork(t, b, other, otherKeys)
			b.Genesis, b.ChainID = c.Genesis.Hash(), c.Genesis.ChainID
		}, proof.ErrWrongNetwork}, // its header names its chain id
		{"another network's bundle naming our genesis and chain id", accb, func(b *proof.Bundle) {
			anotherNetwork(t, b, other, otherKeys)
			b.Genesis, b.ChainID, b.Header.ChainID = c.Genesis.Hash(), c.Genesis.ChainID, c.Genesis.ChainID
			b.Certificate = certify(t, other.ChainID, &b.Header, 0, otherKeys[:3]...)
		}, proof.ErrNotCertified},
		{"another genesis hash", txb, func(b *proof.Bundle) { b.Genesis[0] ^= 1 }, proof.ErrWrongNetwork},
		{"another chain id", txb, func(b *proof.Bundle) { b.ChainID++ }, proof.ErrWrongNetwork},
		// The envelope.
		{"kind without its part", txb, func(b *proof.Bundle) { b.Kind = proof.KindAccount }, proof.ErrBadBundle},
		{"both parts", txb, func(b *proof.Bundle) { b.Account = accb.Account }, proof.ErrBadBundle},
		{"another version", txb, func(b *proof.Bundle) { b.Version = 2 }, proof.ErrBadBundle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := proof.Check(clone(t, tt.base), c.Genesis); err != nil {
				t.Fatalf("the unaltered bundle: %v", err)
			}
			b := clone(t, tt.base)
			tt.alter(b)
			f, err := proof.Check(b, c.Genesis)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v (fact %v), want %v", err, f, tt.want)
			}
			if data, encErr := b.Encode(); encErr == nil { // through the file, the same verdict
				if parsed, perr := proof.Parse(data); perr == nil {
					if _, err2 := proof.Check(parsed, c.Genesis); chain.Code(err2) != chain.Code(err) {
						t.Fatalf("through the file: %v, directly: %v", err2, err)
					}
				}
			}
		})
	}
}

// forge rewrites an account bundle's header to a state root in which the account holds a
// fortune: a one-leaf state of its own making, with an empty path.
func forge(t *testing.T, b *proof.Bundle) {
	t.Helper()
	acc, err := chain.DecodeAccount(*b.Account.Value)
	if err != nil {
		t.Fatal(err)
	}
	acc.Holdings[0].Balance.Lots[0].Amount = 1_000_000
	v := hexutil.Bytes(acc.Encode())
	b.Account.Value = &v
	b.Header.StateRoot = oneLeafRoot(b.Account.Key, v)
	b.Account.Proof.Siblings, b.Account.Proof.OtherKey, b.Account.Proof.OtherValue = nil, nil, nil
	if err := (&chain.StateProof{Height: b.Header.Height, StateRoot: b.Header.StateRoot, Key: b.Account.Key, Value: v, Proof: b.Account.Proof}).Verify(&b.Header); err != nil {
		t.Fatalf("the forged path does not lead to the forged root: %v", err)
	}
}

// anotherNetwork makes b a bundle of network other: its chain id in the header, a forged
// state, certified by three of its four validators.
func anotherNetwork(t *testing.T, b *proof.Bundle, other *chain.Genesis, keys []*ecdsa.PrivateKey) {
	t.Helper()
	forge(t, b)
	b.Genesis, b.ChainID, b.Header.ChainID = other.Hash(), other.ChainID, other.ChainID
	b.Header.NextValidators = chain.ValidatorSetHash(other.Validators) // its headers commit to its own set
	b.Certificate = certify(t, other.ChainID, &b.Header, 0, keys[:3]...)
	if _, err := proof.Check(clone(t, b), other); err != nil {
		t.Fatalf("the other network's bundle does not check there: %v", err)
	}
}

// oneLeafRoot is the state root of a state holding one record.
func oneLeafRoot(key, value []byte) chain.Hash {
	tr := smt.New()
	tr.Set(smt.HashKey(key), smt.HashValue(value))
	return chain.Hash(tr.Root())
}

// What a bundle proves, at its limits (docs/proofs.md): the word of more than two thirds of
// the validator keys of the genesis, at its chain id — no more. Three of the four validators
// can certify a false state, and a network started from another genesis with the same chain
// id and the same validator keys cannot be told apart once its bundle names our genesis:
// validators sign the chain id, not the genesis hash.
func TestWhatABundleProves(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 1})
	accb := mustBuild(t, exportOf(t, c), proof.Request{Account: testchain.Addr(c.Keys["c0"]), Program: "ACME"})
	keys := validatorKeys(t)

	lie := clone(t, accb)
	forge(t, lie)
	lie.Certificate = certify(t, c.Genesis.ChainID, &lie.Header, 0, keys[1:]...)
	if f, err := proof.Check(lie, c.Genesis); err != nil || f.Account.Holdings[0].Total != 1_000_000 {
		t.Fatalf("three of four validators' word: %v %+v", err, f)
	}

	twin := *c.Genesis
	twin.Network = "a-restart-with-the-same-keys"
	if twin.Hash() == c.Genesis.Hash() {
		t.Fatal("the twin genesis is the same genesis")
	}
	tb := clone(t, accb)
	tb.Genesis = twin.Hash()
	if _, err := proof.Check(tb, &twin); err != nil {
		t.Fatalf("the twin's own bundle: %v", err)
	}
	if _, err := proof.Check(tb, c.Genesis); !errors.Is(err, proof.ErrWrongNetwork) {
		t.Fatalf("the twin's bundle naming the twin: %v", err)
	}
	tb.Genesis = c.Genesis.Hash()
	if _, err := proof.Check(tb, c.Genesis); err != nil {
		t.Fatalf("the twin's bundle renamed: %v (if this now fails, votes bind the genesis: update docs/proofs.md)", err)
	}
}
