package smt_test

import (
	"errors"
	"fmt"

	"github.com/loyal-ledger/loyal/chain/smt"
)

func Example() {
	t := smt.New()
	// One block of writes: Set and Delete only mark paths dirty. Keys and
	// values go in as HashKey(key) and HashValue(value) (SHA-256).
	t.Set(smt.HashKey([]byte("alice")), smt.HashValue([]byte("100")))
	t.Set(smt.HashKey([]byte("bob")), smt.HashValue([]byte("250")))
	t.Set(smt.HashKey([]byte("carol")), smt.HashValue([]byte("7")))
	t.Delete(smt.HashKey([]byte("carol")))
	root := t.Root() // every dirty node hashed once

	// Inclusion: bob -> 250, sent in binary form.
	bob := smt.HashKey([]byte("bob"))
	b, _ := t.Prove(bob).MarshalBinary()
	var p smt.Proof
	if err := p.UnmarshalBinary(b); err != nil {
		panic(err)
	}
	fmt.Println("bob=250:", smt.VerifyInclusion(root, bob, smt.HashValue([]byte("250")), p) == nil)
	err := smt.VerifyInclusion(root, bob, smt.HashValue([]byte("999")), p)
	fmt.Println("bob=999:", err == nil, errors.Is(err, smt.ErrInvalidProof))

	// Exclusion: carol is absent.
	carol := smt.HashKey([]byte("carol"))
	fmt.Println("carol absent:", smt.VerifyExclusion(root, carol, t.Prove(carol)) == nil)
	fmt.Println("keys:", t.Len())
	// Output:
	// bob=250: true
	// bob=999: false true
	// carol absent: true
	// keys: 2
}
