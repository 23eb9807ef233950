package backend

import (
	"fmt"

	"github.com/loyal-ledger/loyal/chain/store"
)

// Recover turns a panic inside a storage engine's open into an error wrapping
// store.ErrCorrupt, for a deferred call: engines panic on some damaged stores
// (pebble on a directory whose CURRENT file is gone, dereferencing the
// manifest it did not find), and a node must refuse such a store with an
// error it can show, not crash. A panic while opening says the files on disk
// are not what the engine expects, which is what ErrCorrupt means.
//
//	defer backend.Recover("pebble", dir, &err)
func Recover(engine, dir string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("store: open %s %s: %w: the engine failed on the files it found (%v)", engine, dir, store.ErrCorrupt, r)
	}
}
