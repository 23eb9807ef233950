package chain_test

import (
	"bytes"
	"crypto/ecdsa"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/loyal-ledger/loyal/chain"
)

// seedKey is a fixed key so fuzz seeds are stable.
func seedKey(tb testing.TB) *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("loyal fuzz seed key")))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// seedTxs returns one signed transaction of every kind (and of every governance action).
func seedTxs(tb testing.TB) []*chain.Tx {
	key := seedKey(tb)
	signer := chain.NewSigner(7, crypto.Keccak256Hash([]byte("fuzz genesis")))
	to := crypto.PubkeyToAddress(key.PublicKey)
	pol := chain.Policy{PendingDays: 14, ExpiryDays: 365, TierWindowDays: 365, Tiers: []chain.Tier{{Name: "Silver", Threshold: 100}, {Name: "Gold", Threshold: 1000}}}
	payloads := []chain.Payload{
		&chain.RegisterProgram{Symbol: "ACME", Name: "Acme Rewards", Policy: pol, Operators: []chain.Address{to}},
		&chain.UpdateProgram{Program: "ACME", SetPolicy: true, Policy: pol, Retire: true},
		&chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: to, Amount: 10, OrderRef: "o-1"}, {To: to, Amount: 20, OrderRef: "o-2"}}},
		&chain.Reverse{Program: "ACME", OrderRef: "o-1", Amount: 5},
		&chain.Transfer{Program: "ACME", To: to, Amount: 3, Memo: "gift ✓"},
		&chain.Redeem{Program: "ACME", Amount: 2, RewardRef: "r-1"},
		&chain.SetRate{From: "ACME", To: "BOLT", Numerator: 3, Denominator: 2, DailyCap: 1000},
		&chain.Exchange{From: "ACME", To: "BOLT", Amount: 10, MinOut: 15},
		&chain.Settle{Program: "BOLT", Counterparty: "ACME", Amount: 15},
		&chain.Propose{Action: chain.ActionAdmitPartner, Partner: to, Name: "Eve's Books ✓"},
		&chain.Propose{Action: chain.ActionRemovePartner, Partner: to},
		&chain.Propose{Action: chain.ActionRotateOwnerKey, Partner: to, NewKey: common.HexToAddress("0x00000000000000000000000000000000000000e5")},
		&chain.Approve{Proposal: 7},
		&chain.ProposeValidator{Action: chain.ActionAddValidator, Entry: &chain.ValidatorKey{Name: "v5", Partner: to,
			PubKey: crypto.CompressPubkey(&key.PublicKey), Multiaddrs: []string{"/ip4/127.0.0.1/tcp/9005"}}, Proof: append(append(append([]byte{1}, make([]byte, 31)...), append([]byte{1}, make([]byte, 31)...)...), 27)},
		&chain.ProposeValidator{Action: chain.ActionRemoveValidator, Validator: to},
	}
	txs := make([]*chain.Tx, len(payloads))
	for i, p := range payloads {
		txs[i] = chain.NewTx(7, uint64(i), 0, p)
		if err := signer.Sign(txs[i], key); err != nil {
			tb.Fatal(err)
		}
	}
	return txs
}

func seedCommit(tb testing.TB, height uint64, hash chain.Hash) *chain.Commit {
	key := seedKey(tb)
	sig, err := chain.SignVote(key, chain.VoteDigest(7, chain.Precommit, height, 0, hash))
	if err != nil {
		tb.Fatal(err)
	}
	return &chain.Commit{Height: height, BlockHash: hash, Sigs: []chain.CommitSig{{Validator: crypto.PubkeyToAddress(key.PublicKey), Sig: sig}}}
}

func seedBlock(tb testing.TB) *chain.Block {
	txs := seedTxs(tb)
	lc := seedCommit(tb, 1, crypto.Keccak256Hash([]byte("block 1")))
	return &chain.Block{
		Header: chain.Header{ChainID: 7, Height: 2, Time: 1_700_000_000, TxRoot: chain.TxRoot(txs), LastCommitHash: lc.Hash()},
		Txs:    txs, LastCommit: lc,
	}
}

// FuzzDecodeTx: decoding never panics, and whatever decodes re-encodes to the same bytes
// (one encoding per transaction, so tx ids cannot be malleated).
func FuzzDecodeTx(f *testing.F) {
	for _, tx := range seedTxs(f) {
		f.Add(tx.Encode())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tx, err := chain.DecodeTx(b)
		if err != nil {
			if chain.Code(err) == "internal" {
				t.Fatalf("decode error without a code: %v", err)
			}
			return
		}
		if !bytes.Equal(tx.Encode(), b) {
			t.Fatalf("non-canonical: %x re-encodes to %x", b, tx.Encode())
		}
		if tx.Hash() != crypto.Keccak256Hash(b) {
			t.Fatal("hash is not keccak of the encoding")
		}
	})
}

// FuzzDecodeBlock: as FuzzDecodeTx, for blocks (which embed transactions and a certificate).
func FuzzDecodeBlock(f *testing.F) {
	f.Add(seedBlock(f).Encode())
	one := &chain.Block{Header: chain.Header{ChainID: 7, Height: 1, Time: 1, TxRoot: chain.TxRoot(nil)}}
	f.Add(one.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		blk, err := chain.DecodeBlock(b)
		if err != nil {
			return
		}
		if !bytes.Equal(blk.Encode(), b) {
			t.Fatalf("non-canonical block encoding")
		}
		if blk.Header.TxRoot != chain.TxRoot(blk.Txs) {
			t.Fatal("decoded block with a wrong tx root")
		}
	})
}

// FuzzDecodeCommit: certificates decode strictly and canonically.
func FuzzDecodeCommit(f *testing.F) {
	f.Add(seedCommit(f, 9, crypto.Keccak256Hash([]byte("x"))).Encode())
	f.Add((&chain.Commit{Height: 1}).Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := chain.DecodeCommit(b)
		if err != nil {
			return
		}
		if !bytes.Equal(c.Encode(), b) {
			t.Fatalf("non-canonical commit encoding")
		}
	})
}

// FuzzDecodeHeader: headers are fixed-size and strict.
func FuzzDecodeHeader(f *testing.F) {
	f.Add(seedBlock(f).Header.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := chain.DecodeHeader(b)
		if err != nil {
			return
		}
		if !bytes.Equal(h.Encode(), b) {
			t.Fatalf("non-canonical header encoding")
		}
	})
}
