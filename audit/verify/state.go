package verify

import (
	"bytes"
	"slices"
	"strings"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/smt"
)

// memState is the committed state, re-derived: every record in memory, and the
// authenticated tree over them whose root each header must name.
type memState struct {
	records map[string][]byte
	tree    *smt.Tree
}

func newMemState() *memState {
	return &memState{records: map[string][]byte{}, tree: smt.New()}
}

// Get reads a record (nil: absent), as chain.StateReader.
func (m *memState) Get(k []byte) ([]byte, error) { return m.records[string(k)], nil }

// apply writes a block's changes (a nil value deletes).
func (m *memState) apply(changes []chain.Change) {
	for _, c := range changes {
		k := smt.HashKey(c.Key)
		if c.Value == nil {
			delete(m.records, string(c.Key))
			m.tree.Delete(k)
			continue
		}
		m.records[string(c.Key)] = c.Value
		m.tree.Set(k, smt.HashValue(c.Value))
	}
}

func (m *memState) root() chain.Hash { return chain.Hash(m.tree.Root()) }

// scan is a chain.StateScanner over the records, in key order.
func (m *memState) scan(prefix []byte, fn func(k, v []byte) error) error {
	var keys []string
	for k := range m.records {
		if strings.HasPrefix(k, string(prefix)) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := fn([]byte(k), bytes.Clone(m.records[k])); err != nil {
			return err
		}
	}
	return nil
}

// prove returns a prover of records against the state after the block with header h, valid
// until the next block is applied.
func (m *memState) prove(h *chain.Header) func(key []byte) (*chain.StateProof, error) {
	return func(key []byte) (*chain.StateProof, error) {
		return &chain.StateProof{
			Height: h.Height, StateRoot: h.StateRoot, Key: bytes.Clone(key),
			Value: bytes.Clone(m.records[string(key)]), Proof: m.tree.Prove(smt.HashKey(key)),
		}, nil
	}
}
