package testnet_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/testnet"
	"github.com/loyal-ledger/loyal/wallet"
)

// A test starts four validators (the fourth equivocating) and an observer, cuts the
// equivocator off, credits a customer through the observer, heals the network and waits
// for the cut-off validator to catch up. (Not run by `go test`: it starts a network.)
func ExampleCluster() {
	dir, err := os.MkdirTemp("", "cluster")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	c, err := testnet.NewCluster(testnet.ClusterOptions{
		Validators: 4, Observers: 1, Dir: dir,
		Byzantine: map[int]testnet.Byzantine{3: {Equivocate: true}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	ctx := context.Background()
	alice, _ := crypto.GenerateKey()
	earn := &chain.Earn{Program: testnet.ClusterProgram, Credits: []chain.Credit{
		{To: crypto.PubkeyToAddress(alice.PublicKey), Amount: 10, OrderRef: "order-1"},
	}}
	if err := c.Partition([]int{0, 1, 2, 4}, []int{3}); err != nil { // 3 of 4 validators still commit
		log.Fatal(err)
	}
	sub, err := wallet.Send(ctx, c.Client(4), c.Owner, earn, 0)
	if err != nil {
		log.Fatal(err)
	}
	info, err := wallet.Wait(ctx, c.Client(4), sub.Hash) // where it was sent
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Heal(); err != nil {
		log.Fatal(err)
	}
	if err := c.WaitHeight(ctx, 3, info.Height); err != nil { // it catches up
		log.Fatal(err)
	}
	fmt.Println("committed at", info.Height)
}
