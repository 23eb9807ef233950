package chain_test

import (
	"crypto/ecdsa"
	"fmt"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/chain"
)

// committed is the committed state a block executes over: here a map, in a node the ledger.
type committed map[string][]byte

func (c committed) Get(key []byte) ([]byte, error) { return c[string(key)], nil }

func (c committed) apply(changes []chain.Change) {
	for _, ch := range changes {
		if ch.Value == nil {
			delete(c, string(ch.Key))
		} else {
			c[string(ch.Key)] = ch.Value
		}
	}
}

// exampleKey is a fixed secp256k1 key, so the example prints the same every time.
func exampleKey(name string) *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("loyal example " + name)))
	if err != nil {
		panic(err)
	}
	return k
}

// A merchant credits points for an order and the customer sends some on: each transaction
// is signed (EIP-712), its sender recovered, and applied to the state of one block under the
// rules in force at that height.
func Example() {
	acme, validator, alice, bob := exampleKey("acme"), exampleKey("validator"), exampleKey("alice"), exampleKey("bob")
	addr := func(k *ecdsa.PrivateKey) chain.Address { return crypto.PubkeyToAddress(k.PublicKey) }
	g := &chain.Genesis{
		ChainID: 42, Network: "example", GenesisTime: 1_750_000_000,
		Partners: []chain.Partner{{Name: "Acme", Address: addr(acme)}},
		Validators: []chain.Validator{{
			Name: "acme-node", Partner: addr(acme), PubKey: crypto.CompressPubkey(&validator.PublicKey), Address: addr(validator),
		}},
		Params: chain.DefaultParams(),
		Programs: []chain.GenesisProgram{{
			Symbol: "ACME", Name: "Acme Rewards", Owner: addr(acme), Policy: chain.Policy{ExpiryDays: 365},
		}},
	}
	if err := g.Validate(); err != nil {
		panic(err)
	}
	rules := chain.NewSchedule(g)
	signer := chain.NewSigner(g.ChainID, g.Hash())

	// Height 0: the genesis state.
	state := committed{}
	st := chain.NewState(state, rules.At(0), 0, g.GenesisTime)
	if err := g.InitState(st); err != nil {
		panic(err)
	}
	state.apply(st.Changes())

	// Height 1: an earn and a transfer, signed by their senders.
	earn := chain.NewTx(g.ChainID, 0, 0, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 100, OrderRef: "order-1"}}})
	transfer := chain.NewTx(g.ChainID, 0, 0, &chain.Transfer{Program: "ACME", To: addr(bob), Amount: 30, Memo: "thanks"})
	for tx, key := range map[*chain.Tx]*ecdsa.PrivateKey{earn: acme, transfer: alice} {
		if err := signer.Sign(tx, key); err != nil {
			panic(err)
		}
	}
	blockTime := g.GenesisTime + 60
	st = chain.NewState(state, rules.At(1), 1, blockTime)
	if err := st.BeginBlock(); err != nil {
		panic(err)
	}
	for _, tx := range []*chain.Tx{earn, transfer} {
		sender, err := signer.Sender(tx) // recovered from the signature
		if err != nil {
			panic(err)
		}
		entries, err := st.ApplyTx(tx, sender)
		fmt.Printf("%s signed by the owner: %t; %d history entries, err=%v\n", tx.Kind(), sender == addr(acme), len(entries), err)
	}
	state.apply(st.Changes())

	for _, who := range []*ecdsa.PrivateKey{alice, bob} {
		raw := state[string(chain.AccountKey(addr(who)))]
		acc, err := chain.DecodeAccount(raw)
		if err != nil {
			panic(err)
		}
		fmt.Println(acc.Balance("ACME").Total(chain.DayOf(blockTime)))
	}
	// Output:
	// earn signed by the owner: true; 1 history entries, err=<nil>
	// transfer signed by the owner: false; 2 history entries, err=<nil>
	// 70
	// 30
}
