package merkle_test

import (
	"errors"
	"fmt"

	"github.com/loyal-ledger/loyal/chain/merkle"
)

func Example() {
	txids := make([][32]byte, 5)
	for i := range txids {
		txids[i][0] = byte(i + 1)
	}
	root := merkle.Root(txids) // goes into the block header with len(txids)

	proof, _ := merkle.Prove(txids, 3)
	fmt.Println("siblings:", len(proof))
	fmt.Println("tx 3 at index 3:", merkle.Verify(root, txids[3], 3, 5, proof) == nil)
	err := merkle.Verify(root, txids[3], 2, 5, proof)
	fmt.Println("tx 3 at index 2:", err == nil, errors.Is(err, merkle.ErrInvalidProof))
	// Output:
	// siblings: 3
	// tx 3 at index 3: true
	// tx 3 at index 2: false true
}
