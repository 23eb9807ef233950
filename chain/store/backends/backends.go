// Package backends opens a store by the name of its backend, as a node's configuration or an
// operator's flag gives it. It is the one place that links both storage engines; code that
// needs only one imports its package (store/pebble or store/badger) directly, and code that
// only reads and writes imports store alone.
package backends

import (
	"fmt"
	"strings"

	"github.com/loyal-ledger/loyal/chain/store"
	"github.com/loyal-ledger/loyal/chain/store/badger"
	"github.com/loyal-ledger/loyal/chain/store/pebble"
)

// Names lists the backends Open accepts, the default first.
var Names = []string{"pebble", "badger"}

// Open opens the store in dir with the named backend: "pebble" (the default, also chosen by
// "") or "badger". An unknown name is an error that lists the valid ones. opts may be nil.
func Open(backend, dir string, opts *store.Options) (store.DB, error) {
	switch backend {
	case "", "pebble":
		return pebble.Open(dir, opts)
	case "badger":
		return badger.Open(dir, opts)
	default:
		return nil, fmt.Errorf("store: unknown backend %q (valid: %s)", backend, strings.Join(Names, ", "))
	}
}
