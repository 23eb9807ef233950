package wallet

import (
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/chain"
)

func TestSignRecoversTheSender(t *testing.T) {
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer := chain.NewSigner(7331, chain.Hash{1})
	tx, err := Sign(signer, key, 4, 1_900_000_000, &chain.Transfer{Program: "ACME", To: bob, Amount: 5, Memo: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if tx.ChainID != 7331 || tx.Nonce != 4 || tx.ValidUntil != 1_900_000_000 {
		t.Errorf("tx = chain %d nonce %d valid_until %d", tx.ChainID, tx.Nonce, tx.ValidUntil)
	}
	from, err := signer.Sender(tx)
	if err != nil || from != crypto.PubkeyToAddress(key.PublicKey) {
		t.Errorf("Sender = %s, %v; want the key's address", from.Hex(), err)
	}
}

func TestSignRunsTheStatelessChecks(t *testing.T) {
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	signer := chain.NewSigner(7331, chain.Hash{1})
	for _, tt := range []struct {
		name    string
		payload chain.Payload
		want    error
	}{
		{"zero amount", &chain.Redeem{Program: "ACME", Amount: 0, RewardRef: "r"}, chain.ErrAmountZero},
		{"bad symbol", &chain.Redeem{Program: "acme", Amount: 1, RewardRef: "r"}, chain.ErrBadSymbol},
		{"zero recipient", &chain.Transfer{Program: "ACME", Amount: 1}, chain.ErrZeroAddress},
		{"same program", &chain.Exchange{From: "ACME", To: "ACME", Amount: 1}, chain.ErrSameProgram},
	} {
		if _, err := Sign(signer, key, 0, 0, tt.payload); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}
