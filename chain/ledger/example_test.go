package ledger_test

import (
	"crypto/ecdsa"
	"fmt"
	"os"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/chain/store/pebble"
)

// A one-validator chain on a real pebble store: build the next block from signed
// transactions, commit it, read a balance and prove it against the block's state root.
func Example() {
	key := func(name string) *ecdsa.PrivateKey {
		k, err := crypto.ToECDSA(crypto.Keccak256([]byte("loyal example " + name)))
		if err != nil {
			panic(err)
		}
		return k
	}
	addr := func(k *ecdsa.PrivateKey) chain.Address { return crypto.PubkeyToAddress(k.PublicKey) }
	acme, validator, alice := key("acme"), key("validator"), key("alice")
	g := &chain.Genesis{
		ChainID: 42, Network: "example", GenesisTime: 1_750_000_000,
		Partners: []chain.Partner{{Name: "Acme", Address: addr(acme)}},
		Validators: []chain.Validator{{
			Name: "acme-node", Partner: addr(acme), PubKey: crypto.CompressPubkey(&validator.PublicKey), Address: addr(validator),
		}},
		Params:   chain.DefaultParams(),
		Programs: []chain.GenesisProgram{{Symbol: "ACME", Name: "Acme Rewards", Owner: addr(acme)}},
	}
	if err := g.Validate(); err != nil {
		panic(err)
	}

	dir, err := os.MkdirTemp("", "ledger-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, err := pebble.Open(dir, ledger.StoreOptions(g.Params))
	if err != nil {
		panic(err)
	}
	defer db.Close()
	l, err := ledger.Open(db, g) // writes the genesis state: height 0
	if err != nil {
		panic(err)
	}

	earn := chain.NewTx(g.ChainID, 0, 0, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 250, OrderRef: "order-1"}}})
	if err := l.Signer().Sign(earn, acme); err != nil {
		panic(err)
	}
	txs := []*chain.Tx{earn}
	senders, err := l.RecoverSenders(txs)
	if err != nil {
		panic(err)
	}
	blk, rejected, err := l.BuildBlock(g.GenesisTime+5, addr(validator), txs, senders, nil)
	if err != nil {
		panic(err)
	}
	if err := l.ApplyBlock(blk, nil); err != nil { // verifies, executes, commits atomically
		panic(err)
	}
	fmt.Println("height", l.Head().Height, "txs", len(blk.Txs), "rejected", len(rejected))

	acc, err := l.Account(addr(alice))
	if err != nil {
		panic(err)
	}
	fmt.Println("alice holds", acc.Balance("ACME").Total(chain.DayOf(blk.Header.Time)))

	proof, err := l.ProveAccount(addr(alice))
	if err != nil {
		panic(err)
	}
	fmt.Println("proof verifies against the header:", proof.Verify(&blk.Header) == nil)
	// Output:
	// height 1 txs 1 rejected 0
	// alice holds 250
	// proof verifies against the header: true
}
