package keysort

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortMatchesStableBytewiseSort sorts keys that share prefixes of every
// length (including keys shorter than eight bytes and duplicates) and checks
// the order against a stable sort by bytes.Compare.
func TestSortMatchesStableBytewiseSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{0, 1, 0xff}
	for round := range 200 {
		keys := make([][]byte, rng.IntN(300))
		for i := range keys {
			k := make([]byte, rng.IntN(14))
			for j := range k {
				k[j] = alphabet[rng.IntN(len(alphabet))]
			}
			keys[i] = k
		}
		want := make([]int, len(keys))
		for i := range want {
			want[i] = i
		}
		slices.SortStableFunc(want, func(a, b int) int { return bytes.Compare(keys[a], keys[b]) })

		got := Sort([]Ref{{Index: 99}}, len(keys), func(i int) []byte { return keys[i] })
		if len(got) != len(keys) {
			t.Fatalf("round %d: %d refs for %d keys", round, len(got), len(keys))
		}
		for k, r := range got {
			if int(r.Index) != want[k] {
				t.Fatalf("round %d: position %d holds item %d (%x), want item %d (%x)",
					round, k, r.Index, keys[r.Index], want[k], keys[want[k]])
			}
		}
	}
}
