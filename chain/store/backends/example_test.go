package backends_test

import (
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/loyal-ledger/loyal/chain/store"
	"github.com/loyal-ledger/loyal/chain/store/backends"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "store-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := backends.Open("pebble", dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	b := db.NewBatch()
	defer b.Close()
	b.Set([]byte("acct/alice"), []byte("100"))
	b.Set([]byte("acct/bob"), []byte("50"))
	b.Set([]byte("meta/height"), []byte("7"))
	if err := b.Commit(true); err != nil {
		log.Fatal(err)
	}

	v, err := db.Get([]byte("acct/alice"))
	fmt.Printf("alice: %s %v\n", v, err)
	_, err = db.Get([]byte("acct/carol"))
	fmt.Println("carol absent:", errors.Is(err, store.ErrNotFound))

	// Keys with prefix "acct/": the range ["acct/", "acct0").
	err = db.Iterate([]byte("acct/"), []byte("acct0"), func(k, v []byte) error {
		fmt.Printf("%s=%s\n", k, v)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// alice: 100 <nil>
	// carol absent: true
	// acct/alice=100
	// acct/bob=50
}
