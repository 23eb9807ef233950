package ledger

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/loyal-ledger/loyal/chain"
)

// The reversal index: for each reversal of an order, where it is and which transaction made
// it, so that the merchant desk finds an order's last reversal with one short scan instead
// of walking the customer's whole history. It is a store index beside the history, built
// from the block's entries when the block is written (no part of the state or its root).
// Blocks written before the index existed have no entries in it: LastReversal then reports
// none, and the caller may fall back to the history.
//
// Key: pReversal ‖ u16 len(program) ‖ program ‖ u16 len(ref) ‖ ref ‖ height ‖ tx index;
// value: the transaction's hash. The lengths keep one order's keys from prefixing another's.

// reversalPrefix is the first part of the keys of an order's reversals.
func reversalPrefix(program, ref string) []byte {
	k := make([]byte, 0, 1+2+len(program)+2+len(ref)+12)
	k = append(k, pReversal)
	k = binary.BigEndian.AppendUint16(k, uint16(len(program)))
	k = append(k, program...)
	k = binary.BigEndian.AppendUint16(k, uint16(len(ref)))
	return append(k, ref...)
}

// reversalIndex returns the index keys and values of a block's reversals, in key order.
func reversalIndex(height uint64, entries [][]chain.Entry, hashes []chain.Hash) (keys, values [][]byte) {
	type kv struct{ k, v []byte }
	var out []kv
	for i, es := range entries {
		for _, e := range es {
			if e.Cause != chain.CauseReverse {
				continue
			}
			k := binary.BigEndian.AppendUint64(reversalPrefix(e.Program, e.Ref), height)
			out = append(out, kv{binary.BigEndian.AppendUint32(k, uint32(i)), hashes[i][:]})
		}
	}
	slices.SortFunc(out, func(a, b kv) int { return bytes.Compare(a.k, b.k) })
	for _, x := range out {
		keys, values = append(keys, x.k), append(values, x.v)
	}
	return keys, values
}

// LastReversal returns the transaction of the latest committed reversal of an order and its
// height; ok is false if the index has none (no reversal, or only ones committed before the
// index existed).
func (l *Ledger) LastReversal(program, ref string) (h chain.Hash, height uint64, ok bool, err error) {
	lower := reversalPrefix(program, ref)
	upper := append(slices.Clone(lower), bytes.Repeat([]byte{0xff}, 12)...)
	err = l.db.Iterate(lower, upper, func(k, v []byte) error { // an order has few reversals
		if len(k) != len(lower)+12 || len(v) != len(h) {
			return fmt.Errorf("%w: reversal index entry %x", ErrCorrupt, k)
		}
		h, height, ok = chain.Hash(v), binary.BigEndian.Uint64(k[len(lower):]), true
		return nil
	})
	if err != nil {
		return chain.Hash{}, 0, false, err
	}
	return h, height, ok, nil
}
