// Package keysort orders items by byte-string keys without reading the keys
// on every comparison.
//
// Sorting a block's tens of thousands of keys with bytes.Compare reads two
// keys at random from memory spread over megabytes on each of ~800,000
// comparisons, and the cache misses cost more than the comparisons. Sort
// holds each key's first eight bytes as an integer beside its index, so
// nearly every comparison is between two integers; it reads the keys again
// only when their first eight bytes tie.
package keysort

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"
)

// Ref is an item's index with the first eight bytes of its key (zero-padded,
// big-endian).
type Ref struct {
	Prefix uint64
	Index  int32
}

// Sort appends refs of the items 0..n-1 to dst, sorted by key(i) in bytewise
// order, items with equal keys in index order, and returns the extended
// slice. dst lets a caller reuse its memory.
func Sort(dst []Ref, n int, key func(i int) []byte) []Ref {
	dst = slices.Grow(dst[:0], n)
	for i := range n {
		var p [8]byte
		copy(p[:], key(i))
		dst = append(dst, Ref{Prefix: binary.BigEndian.Uint64(p[:]), Index: int32(i)})
	}
	slices.SortFunc(dst, func(x, y Ref) int {
		if x.Prefix != y.Prefix {
			return cmp.Compare(x.Prefix, y.Prefix)
		}
		if c := bytes.Compare(key(int(x.Index)), key(int(y.Index))); c != 0 {
			return c
		}
		return cmp.Compare(x.Index, y.Index)
	})
	return dst
}
